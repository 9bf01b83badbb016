"""Sockeye 3.1.34 on PyTorch: Transformer encoder-decoders, the same toolkit's current line. Its CLI differs
from 1.18's (`--device-id N`, `--checkpoint-interval`, `--transformer-*`, no RNNs); its `metrics` file and its
training state (resumed when called again on the same folder) work as 1.18's do. Reached through
scripts/sockeye3_entry.py, which also checks the environment (`--check`)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from slkd import torch_portable
from slkd.cost import sizes

NAME = "sockeye3"
SOCKEYE = "Sockeye 3"  # how messages name it
TITLE = f"{SOCKEYE} Transformers"  # how reports name its models
# Its configuration keys: the interpreter, the flags of every training, the flags that replace them without dropout
KEYS = {"python": "sockeye3_python", "train": "sockeye3_train",
        "without_dropout": "sockeye3_no_dropout"}
PYTHON_KEY = KEYS["python"]
PYTHON_ENV = "SLKD_SOCKEYE3_PYTHON"  # the environment variable through which the rules pass the interpreter
ENV_FILE = "envs/sockeye3.yaml"  # its conda environment (--sdm conda); the pip pins: REQUIREMENTS
REQUIREMENTS = "envs/requirements-sockeye3.txt"
VENV = ".venv-sockeye3"  # where `make setup` builds it
PACKAGE = "sockeye==3.1.34"  # installed with --no-deps on top of REQUIREMENTS
ENTRY = Path(__file__).resolve().parent.parent.parent / "sockeye3_entry.py"
SETUP = "`make setup`"  # what builds its interpreter
COST_KEY = NAME  # its throughputs: cost.sockeye3
CHECKPOINT_FLAG = "checkpoint-interval"  # updates per checkpoint
# teacher.ensemble_mode values that this Sockeye cannot decode with
REFUSED_ENSEMBLE_MODES = {"log_linear": "log_linear fails in Sockeye 3.1.34 (its beam search calls log_softmax()"
                                        " without a dimension: a TypeError at the first sentence)"}
GPU_CHECKED = True  # the GPU check (bench/gpu) measures its models: cost.sockeye3.gpu_measured
LOG_VERSION = "3"  # the major version its training log names (`Sockeye: 3.x.y`)


def owns(flags: dict) -> bool:
    """Whether an architecture's flags (without `backend`) are this backend's: Transformers have no rnn-cell-type."""
    return "rnn-cell-type" not in flags



# Its models' size (slkd.cost.sizes): the Transformer's weights per target token and parameter count
weights_per_token = sizes.transformer_weights_per_token
parameters = sizes.transformer_parameters
arch_name = sizes.transformer_name  # a readable key of a Transformer's shape, e.g. `s3-bpe300-l1-m32-a2-ff64`


def command_arch(command: list[str]) -> dict[str, Any] | None:
    """The architecture of a sockeye.train command line: num-words and the flags that shape a Transformer
    (sizes.TRANSFORMER_KEYS; --flag alone: true), max-seq-len, and `backend`; None if one is missing or wrong."""
    from slkd.formats import flag_value

    arch: dict[str, Any] = {"backend": NAME}
    for key in (*sizes.TRANSFORMER_KEYS, "max-seq-len"):
        if f"--{key}" in command:
            value = flag_value(command, f"--{key}")
            arch[key] = True if value is None or value.startswith("--") else value
    try:
        arch["num-words"] = sizes.sides(arch["num-words"])[1]
        sizes.transformer(arch)
    except (KeyError, TypeError, ValueError):
        return None
    return arch


def check_flag_sets(config: dict[str, Any], flag_sets: Callable[[], list[tuple[Any, ...]]]) -> None:
    """No flag rule of its own: Sockeye 3's parser refuses what it cannot use (the start-up check runs it)."""


# Sockeye 3 logs `# of parameters: N | trainable: ... | fixed: ...`: N counts them all
PARAMETERS = re.compile(r"(?<!Total )# of parameters:\s*(\d+)")


def command(python: str, verb: str) -> list[str]:
    return [python, str(ENTRY), verb]


def device_args(device: str) -> list[str]:
    """CPU: `--use-cpu`. GPU: device 0, the one SLURM assigned via CUDA_VISIBLE_DEVICES."""
    return ["--use-cpu"] if device == "cpu" else ["--device-id", "0"]


# Portable CPU kernels (compute.cpu_kernels: portable): the same bits on every x86-64 processor with AVX2.
# PyTorch computes with its own vectorized kernels (ATen: one build per instruction set, the widest the
# processor has), MKL (matrix products, and vector math such as sqrt: each with code paths per processor and
# vendor) and oneDNN. Measured 2026-12-07 on an AMD EPYC (Zen 3) against an emulated Intel Haswell
# (qemu-x86_64 -cpu Haswell), torch 2.13: matrix products agree only with MKL_CBWR=COMPATIBLE (its AVX2 branch
# gives other bits on the two vendors); MKL's sqrt, log10 and atan differ under every MKL_CBWR setting, and
# Adam's sqrt changed the parameters of a 20-update Transformer training, so the entry point rounds float sqrt
# through float64 (correctly rounded, hence the same everywhere: scripts/slkd/torch_portable.py). With all of it, a
# training and its decoding write byte-identical parameters, metrics and translations on both
# (tests/test_portable_kernels.py). These settings win over the same variables in the environment; GPU jobs
# get none of them.
PORTABLE = {
    "ATEN_CPU_CAPABILITY": "avx2",  # ATen's AVX2 kernels, also on AVX-512 processors
    "MKL_CBWR": "COMPATIBLE",  # MKL's processor-independent code path
    "DNNL_MAX_CPU_ISA": "AVX2",  # oneDNN (PyTorch's) no wider than AVX2
    torch_portable.ENV: "portable",  # scripts/sockeye3_entry.py: correctly rounded sqrt (torch_portable)
}


def env(threads: int | str, device: str = "cpu", kernels: str = "portable") -> dict[str, str]:
    """This process's environment with PyTorch's (OpenMP, MKL) threads set and, on the CPU with `kernels`
    portable, the kernels that give the same bits on every x86-64 processor (PORTABLE)."""
    pinned = PORTABLE if device == "cpu" and kernels == "portable" else {}
    return {**os.environ, **pinned, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}


def translate_args() -> list[str]:
    """No `OUTPUT.log` beside the output (a shard's JSON): the job's log already has it on stderr."""
    return ["--no-logfile"]


def gpu_refusal() -> str | None:
    """PyPI's torch wheels carry kernels for current GPUs: nothing to refuse here."""
    return None
