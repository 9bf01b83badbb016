"""Sockeye 1.18.106 on MXNet 1.9.1: the paper's trainer (RNN encoder-decoders), through scripts/sockeye_entry.py,
which patches Sockeye's numpy use at run time."""

from __future__ import annotations

import os
import re
from pathlib import Path

import gpu_check
from slkd_config import BACKEND_KEYS

NAME = "sockeye1"
PYTHON_ENV = "SLKD_SOCKEYE_PYTHON"
PYTHON_KEY = BACKEND_KEYS[NAME]["python"]  # its configuration key
ENTRY = Path(__file__).resolve().parent.parent / "sockeye_entry.py"
SETUP = "`make setup` (CPU) or `make setup-gpu` (GPU)"  # what builds its interpreter
# Sockeye 1.18 logs `Total # of parameters: %d`; a thousands separator (1,234,567) is accepted too
PARAMETERS = re.compile(r"Total # of parameters:\s*(\d{1,3}(?:[,.'_\u00a0\u202f]\d{3})+|\d+)")


def command(python: str, verb: str) -> list[str]:
    return [python, str(ENTRY), verb]


def device_args(device: str) -> list[str]:
    """CPU: `--use-cpu`. GPU: the first visible device, i.e. the one SLURM assigned via CUDA_VISIBLE_DEVICES."""
    return ["--use-cpu"] if device == "cpu" else ["--device-ids", "0"]


# MXNet's engine on the CPU: NaiveEngine runs each operator at once in the calling thread, where the default
# threaded engine hands every operator to a worker thread. With one job per core and Sockeye's small RNN
# operators, that hand-off is pure overhead: measured 2026-12-06 on 2 cores (SMALL student of the demo, 300
# updates, two trainings side by side), 11.9 s against 12.4 s, with the same validation perplexities to the
# last digit. On a GPU the threaded engine overlaps the device's work with Python's, so it stays there. An
# MXNET_ENGINE_TYPE already in the environment wins.
CPU_ENGINE = "NaiveEngine"


# Portable CPU kernels (compute.cpu_kernels: portable): the same bits on every x86-64 processor with AVX2.
# MXNet 1.9.1 computes with oneDNN (its JIT kernels pick instructions and blocking from the processor: they
# segfault under an emulated Haswell, and their results differ from the OpenBLAS path's) and OpenBLAS (its
# kernel chosen per processor). Measured 2026-12-07 (tests/test_portable_kernels.py): with oneDNN off and
# OpenBLAS's Haswell kernel, a training and its decoding write byte-identical parameters, metrics and
# translations on an AMD EPYC (Zen 3) and on an emulated Intel Haswell (qemu-x86_64 -cpu Haswell). These
# settings win over the same variables in the environment; GPU jobs get none of them.
PORTABLE = {
    "MXNET_MKLDNN_ENABLED": "0",  # no oneDNN operators...
    "MXNET_SUBGRAPH_BACKEND": "NONE",  # ...and no oneDNN graph fusion
    "OPENBLAS_CORETYPE": "Haswell",  # OpenBLAS's AVX2 kernels, whatever the processor
}


def env(threads: int | str, device: str = "cpu", kernels: str = "portable") -> dict[str, str]:
    """This process's environment with MXNet's and OpenMP's threads set and, on the CPU, MXNet's engine and (with
    `kernels` portable) the kernels that give the same bits on every x86-64 processor (PORTABLE)."""
    engine = {"MXNET_ENGINE_TYPE": CPU_ENGINE} if device == "cpu" else {}
    pinned = PORTABLE if device == "cpu" and kernels == "portable" else {}
    return {**engine, **os.environ, **pinned, "OMP_NUM_THREADS": str(threads),
            "MXNET_CPU_WORKER_NTHREADS": str(threads)}


def translate_args() -> list[str]:
    return []


def gpu_refusal() -> str | None:
    """MXNet 1.9.1 has no kernels for compute capability above 8.6 (gpu_check)."""
    return gpu_check.mxnet_refusal(gpu_check.visible_gpus() or [])
