"""Sockeye 3.1.34 on PyTorch: Transformer encoder-decoders, the same toolkit's current line. Its CLI differs
from 1.18's (`--device-id N`, `--checkpoint-interval`, `--transformer-*`, no RNNs); its `metrics` file and its
training state (resumed when called again on the same folder) work as 1.18's do. Reached through
scripts/sockeye3_entry.py, which also checks the environment (`--check`)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from slkd_config import BACKEND_KEYS

NAME = "sockeye3"
PYTHON_ENV = "SLKD_SOCKEYE3_PYTHON"
PYTHON_KEY = BACKEND_KEYS[NAME]["python"]  # its configuration key
ENTRY = Path(__file__).resolve().parent.parent / "sockeye3_entry.py"
SETUP = "`make setup`"  # what builds its interpreter
# Sockeye 3 logs `# of parameters: N | trainable: ... | fixed: ...`: N counts them all
PARAMETERS = re.compile(r"(?<!Total )# of parameters:\s*(\d+)")


def command(python: str, verb: str) -> list[str]:
    return [python, str(ENTRY), verb]


def device_args(device: str) -> list[str]:
    """CPU: `--use-cpu`. GPU: device 0, the one SLURM assigned via CUDA_VISIBLE_DEVICES."""
    return ["--use-cpu"] if device == "cpu" else ["--device-id", "0"]


def env(threads: int | str, device: str = "cpu") -> dict[str, str]:
    """This process's environment with PyTorch's (OpenMP, MKL) threads set (the same on either device)."""
    return {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}


def translate_args() -> list[str]:
    """No `OUTPUT.log` beside the output (a shard's JSON): the job's log already has it on stderr."""
    return ["--no-logfile"]


def gpu_refusal() -> str | None:
    """PyPI's torch wheels carry kernels for current GPUs: nothing to refuse here."""
    return None
