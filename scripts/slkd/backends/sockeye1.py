"""Sockeye 1.18.106 on MXNet 1.9.1: the paper's trainer (RNN encoder-decoders), through scripts/sockeye_entry.py,
which patches Sockeye's numpy use at run time."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from slkd import gpu_check
from slkd.cost import sizes
from slkd.settings import ConfigError

NAME = "sockeye1"
SOCKEYE = "Sockeye 1.18"  # how messages name it
TITLE = f"{SOCKEYE} RNNs"  # how reports name its models
# Its configuration keys: the interpreter, the flags of every training, the flags that replace them without dropout
KEYS = {"python": "sockeye_python", "train": "sockeye_train", "without_dropout": "no_dropout"}
PYTHON_KEY = KEYS["python"]
PYTHON_ENV = "SLKD_SOCKEYE_PYTHON"  # the environment variable through which the rules pass the interpreter
ENV_FILE = "envs/sockeye.yaml"  # its conda environment (--sdm conda); the pip pins: REQUIREMENTS
REQUIREMENTS = "envs/requirements-sockeye.txt"
VENV = ".venv-sockeye"  # where `make setup` builds it
PACKAGE = "sockeye==1.18.106"  # installed with --no-deps on top of REQUIREMENTS
# Its GPU build (`make setup-gpu`): MXNet 1.9.1's CUDA 11.7 wheel and the CUDA libraries it links
GPU_VENV = ".venv-sockeye-gpu"
GPU_REQUIREMENTS = "envs/requirements-sockeye-gpu.txt"
ENTRY = Path(__file__).resolve().parent.parent.parent / "sockeye_entry.py"
SETUP = "`make setup` (CPU) or `make setup-gpu` (GPU)"  # what builds its interpreter
COST_KEY = None  # its throughputs: the `cost` section itself (the paper's trainer)
CHECKPOINT_FLAG = "checkpoint-frequency"  # updates per checkpoint
REFUSED_ENSEMBLE_MODES: dict[str, str] = {}  # teacher.ensemble_mode: both of Sockeye's work
GPU_CHECKED = False  # the GPU check (bench/gpu) measures no model of it
LOG_VERSION = "1"  # the major version its training log names (`Sockeye version 1.18.x`)


def owns(flags: dict) -> bool:
    """Whether an architecture's flags (without `backend`) are this backend's: its RNNs have an rnn-cell-type."""
    return "rnn-cell-type" in flags



# Its models' size (slkd.cost.sizes): the RNN encoder-decoder's weights per target token and parameter count
weights_per_token = sizes.rnn_weights_per_token
parameters = sizes.rnn_parameters
ARCH_KEYS = ("num-words", "num-embed", "num-layers", "rnn-cell-type", "rnn-num-hidden")  # what shapes an RNN


def arch_name(flags: dict[str, Any]) -> str:
    """A readable key of an RNN's shape: its grid name, e.g. `bpe500-e256-l1-lstm-h256`."""
    from slkd.design import grid_name

    return grid_name(flags)


def command_arch(command: list[str]) -> dict[str, Any] | None:
    """The architecture flags (ARCH_KEYS) of a sockeye.train command line, or None if one is missing or not a
    number."""
    from slkd.formats import flag_value

    try:
        arch = {key: flag_value(command, f"--{key}") for key in ARCH_KEYS}
        return {key: value if key == "rnn-cell-type" else int(value) for key, value in arch.items()}
    except (TypeError, ValueError):
        return None


# ---- Flag rules ------------------------------------------------------------------------------------------------
def schedule_steps(value: Any, key: str) -> list[tuple[float, int]]:
    """Sockeye 1.18's --learning-rate-schedule `RATE:UPDATES[,RATE:UPDATES...]` as (rate, updates) pairs."""
    steps = []
    for step in str(value).split(","):
        rate, _, updates = step.partition(":")
        try:
            steps.append((float(rate), int(updates)))
        except ValueError:
            raise ConfigError(f"{key}: {step!r} is not RATE:UPDATES (e.g. 0.01:400,0.004:200)") from None
        if steps[-1][1] < 1:
            raise ConfigError(f"{key}: {step!r} gives a step no updates")
    return steps


def check_flag_sets(config: dict[str, Any], flag_sets: Callable[[], list[tuple[Any, ...]]]) -> None:
    """Sockeye 1.18's fixed-step schedule (--learning-rate-schedule) decides a training's length by itself: it
    ignores --max-updates (the budget that tables.T.checkpoints and grid.checkpoints give a student) and
    --max-num-epochs (a teacher's). So every Sockeye 1 training that has one must be a fixed-step training whose
    steps add up to its budget, each a whole number of checkpoints; a ConfigError names the keys otherwise."""
    # Only these sections can give a Sockeye 1 training the flag (the schema allows no other key in an
    # architecture or the grid): without it anywhere, no training has one, and planning need not build every
    # training's flags to find that out (30 ms of every dry run of the paper's configuration)
    sections = (config[KEYS["train"]], config[KEYS["without_dropout"]],
                config["teacher"].get("train") or {})
    if all(section.get("learning-rate-schedule") in (None, False) for section in sections):
        return
    for flag_set in flag_sets():
        flags = {f.flag: f for f in flag_set}
        schedule = flags.get("learning-rate-schedule")
        if schedule is None or schedule.value in (False, None):
            continue
        scheduler = flags.get("learning-rate-scheduler-type")
        if scheduler is None or scheduler.value != "fixed-step":
            where = f" ({scheduler.key}: {scheduler.value})" if scheduler else ""
            raise ConfigError(f"{schedule.key}: Sockeye uses a schedule only with learning-rate-scheduler-type"
                              f" fixed-step{where}; set both, or the schedule to false")
        steps = schedule_steps(schedule.value, schedule.key)
        total = sum(updates for _rate, updates in steps)
        if "max-num-epochs" in flags:
            raise ConfigError(f"{schedule.key}: a fixed schedule trains the teacher {total} updates and Sockeye then"
                              f" ignores {flags['max-num-epochs'].key}; give teacher.train its own scheduler"
                              " (e.g. learning-rate-scheduler-type: plateau-reduce, learning-rate-schedule: false)")
        interval = int(flags[CHECKPOINT_FLAG].value)
        for rate, updates in steps:
            if updates % interval:
                raise ConfigError(f"{schedule.key}: the step {rate}:{updates} is not a whole number of checkpoints"
                                  f" of {interval} updates")
        budget = flags.get("max-updates")
        if budget is not None and int(budget.value) != total:
            raise ConfigError(f"{schedule.key}: the schedule trains {total} updates, but {budget.key} gives"
                              f" {budget.value} ({int(budget.value) // interval} checkpoints of {interval});"
                              " Sockeye would train the schedule's total: make them equal")


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
