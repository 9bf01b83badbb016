"""What every job that runs a trainer shares: its options, its backend and interpreter, its device, its
environment. The backends themselves (how each Sockeye is called) are sibling modules under trainers/.

The rules pass `--backend NAME` (the architecture's backend) and the job's device setting and GPUs; the
interpreter comes from the backend's environment variable ($SLKD_SOCKEYE_PYTHON, $SLKD_SOCKEYE3_PYTHON, set by
the workflow from the configuration), so that neither the interpreter's location nor the device is part of a
job's command, or `--sockeye-python` names it. On a GPU, the job samples its GPUs with nvidia-smi while the
trainer runs (`Job.monitor`, scripts/gpu_monitor.py).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import gpu_monitor
import supervise
import trainers
from corpus_check import count_lines
from slkd_config import CPU_KERNELS, DEFAULT_BACKEND, ConfigError, sockeye_device


@dataclass(frozen=True)
class Job:
    """A trainer job as its options decide it: the backend module, its interpreter, the device and threads, the
    GPUs it holds (its `gpu` resource), its CPU kernels (compute.cpu_kernels: portable or native)."""

    backend: ModuleType
    python: str
    device: str
    threads: int
    gpus: int = 0
    kernels: str = "portable"

    def command(self, verb: str) -> list[str]:
        return self.backend.command(self.python, verb)

    def env(self) -> dict[str, str]:
        return self.backend.env(self.threads, self.device, self.kernels)

    def monitor(self) -> gpu_monitor.Sampler:
        """The job's GPU sampler (scripts/gpu_monitor.py): nvidia-smi into the file beside the job's log while
        the trainer runs, on the GPU only; pass its `poll` to supervise.run as `sample`."""
        return gpu_monitor.for_job(self.device, self.gpus)


def add_options(parser: argparse.ArgumentParser) -> None:
    """Options of every script that runs a trainer: its backend and interpreter, where it runs, its threads."""
    parser.add_argument("--backend", choices=list(trainers.BACKENDS), default=DEFAULT_BACKEND,
                        help="the architecture's trainer backend")
    parser.add_argument("--sockeye-python", default="", help="the backend's interpreter (default: its"
                        " environment variable, which the workflow sets: $SLKD_SOCKEYE_PYTHON, $SLKD_SOCKEYE3_PYTHON)")
    parser.add_argument("--device", choices=["auto", "cpu", "gpu"], default="cpu",
                        help="compute.device; auto: the GPU exactly when --gpus > 0")
    parser.add_argument("--gpus", default="0", help="the GPUs the job holds (its `gpu` resource)")
    parser.add_argument("--threads", type=int, default=1, help="trainer (OpenMP) threads")
    parser.add_argument("--cpu-kernels", choices=list(CPU_KERNELS), default=CPU_KERNELS[0],
                        help="compute.cpu_kernels: portable (the same bits on every x86-64 processor) or native;"
                        " GPU jobs ignore it")


def job(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Job:
    """The job its options describe; a usage error for a bad setting or a missing interpreter."""
    backend = trainers.get(args.backend)
    python = args.sockeye_python or os.environ.get(backend.PYTHON_ENV, "")
    if not python:
        parser.error(f"no interpreter for backend {backend.NAME}: run through Snakemake (which sets"
                     f" ${backend.PYTHON_ENV} from config {backend.PYTHON_KEY}) or pass --sockeye-python")
    if os.sep not in python:  # a name (under --sdm conda: "python", the job's environment): the one PATH finds
        python = shutil.which(python) or python
    try:
        device = sockeye_device(args.device, args.gpus)
    except ConfigError as err:
        parser.error(str(err))
    gpus = str(args.gpus or 0)
    return Job(backend, python, device, args.threads, int(gpus) if gpus.isdigit() else 0, args.cpu_kernels)


def gpu_refusal(job: Job) -> str | None:
    """Why the job's backend cannot run on the GPU it was given (None on the CPU, or when it can)."""
    return job.backend.gpu_refusal() if job.device == "gpu" else None


def run_per_line(job: Job, command: Callable[[], list[str]], tool: str, source: str, output: str, expected: int,
                 unit: str = "lines") -> int:
    """Run a trainer command that writes one line of `output` per line of `source` (sockeye.translate,
    sockeye.score): its command printed first, never outliving the job (scripts/supervise.py), its GPU sampled
    meanwhile (scripts/gpu_monitor.py), and the output's lines counted against `expected`. An empty input gives
    an empty output without starting the trainer. 0, or 1 with the reason on stderr."""
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    if expected == 0:
        Path(output).write_text("", encoding="utf-8")
        return 0
    refusal = gpu_refusal(job)
    if refusal:
        print(f"ERROR: {refusal}", file=sys.stderr)
        return 1
    argv = command()
    print(shlex.join(argv), file=sys.stderr, flush=True)
    try:
        with job.monitor() as sampler:
            status = supervise.run(argv, env=job.env(), sample=sampler.poll)
    except supervise.Stopped as err:
        print(f"ERROR: {tool} stopped on {source}: {err}", file=sys.stderr)
        return 1
    if status != 0:
        print(f"ERROR: {tool} exited with {status} on {source}", file=sys.stderr)
        return 1
    produced = count_lines(output)
    if produced != expected:
        print(f"ERROR: {output} has {produced} {unit} but {source} has {expected} lines", file=sys.stderr)
        return 1
    return 0
