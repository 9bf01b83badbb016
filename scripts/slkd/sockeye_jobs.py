"""What every job that runs a trainer shares: its options, its backend and interpreter, its device, its
environment. The backends themselves (how each Sockeye is called) are sibling modules under trainers/.

The rules pass `--backend NAME` (the architecture's backend) and the job's device setting and GPUs; the
interpreter comes from the backend's environment variable ($SLKD_SOCKEYE_PYTHON, $SLKD_SOCKEYE3_PYTHON, set by
the workflow from the configuration), so that neither the interpreter's location nor the device is part of a
job's command, or `--sockeye-python` names it. On a GPU, the job samples its GPUs with nvidia-smi while the
trainer runs (`Job.monitor`, scripts/slkd/gpu_monitor.py).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from slkd import backends, disk_space, gpu_monitor, supervise
from slkd.backends import CPU_KERNELS, DEFAULT_BACKEND, SHARDS_ENV, sockeye_device
from slkd.corpus_check import count_lines
from slkd.settings import ConfigError


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
        """The job's GPU sampler (scripts/slkd/gpu_monitor.py): nvidia-smi into the file beside the job's log while
        the trainer runs, on the GPU only; pass its `poll` to supervise.run as `sample`."""
        return gpu_monitor.for_job(self.device, self.gpus)


def add_options(parser: argparse.ArgumentParser) -> None:
    """Options of every script that runs a trainer: its backend and interpreter, where it runs, its threads."""
    parser.add_argument("--backend", choices=list(backends.BACKENDS), default=DEFAULT_BACKEND,
                        help="the architecture's trainer backend")
    variables = ", ".join(f"${module.PYTHON_ENV}" for module in backends.BACKENDS.values())
    parser.add_argument("--sockeye-python", default="", help="the backend's interpreter (default: its"
                        f" environment variable, which the workflow sets: {variables})")
    parser.add_argument("--device", choices=["auto", "cpu", "gpu"], default="cpu",
                        help="compute.device; auto: the GPU exactly when --gpus > 0 or the job holds SLURM shards")
    parser.add_argument("--gpus", default="0", help="the GPUs the job holds (its `gpu` resource)")
    parser.add_argument("--threads", type=int, default=1, help="trainer (OpenMP) threads")
    parser.add_argument("--cpu-kernels", choices=list(CPU_KERNELS), default=CPU_KERNELS[0],
                        help="compute.cpu_kernels: portable (the same bits on every x86-64 processor) or native;"
                        " GPU jobs ignore it")


def job(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Job:
    """The job its options describe; a usage error for a bad setting or a missing interpreter."""
    backend = backends.get(args.backend)
    python = args.sockeye_python or os.environ.get(backend.PYTHON_ENV, "")
    if not python:
        parser.error(f"no interpreter for backend {backend.NAME}: run through Snakemake (which sets"
                     f" ${backend.PYTHON_ENV} from config {backend.PYTHON_KEY}) or pass --sockeye-python")
    if os.sep not in python:  # a name (under --sdm conda: "python", the job's environment): the one PATH finds
        python = shutil.which(python) or python
    try:
        device = sockeye_device(args.device, args.gpus, os.environ.get(SHARDS_ENV))
    except ConfigError as err:
        parser.error(str(err))
    gpus = str(args.gpus or 0)
    count = int(gpus) if gpus.isdigit() else 0
    if not count and device == "gpu" and os.environ.get(SHARDS_ENV):  # a share of one GPU: its CUDA_VISIBLE_DEVICES
        count = 1
    return Job(backend, python, device, args.threads, count, args.cpu_kernels)


def gpu_refusal(job: Job) -> str | None:
    """Why the job's backend cannot run on the GPU it was given (None on the CPU, or when it can)."""
    return job.backend.gpu_refusal() if job.device == "gpu" else None


def run_per_line(job: Job, command: Callable[[], list[str]], tool: str, source: str, output: str, expected: int,
                 unit: str = "lines") -> int:
    """Run a trainer command that writes one line of `output` per line of `source` (sockeye.translate,
    sockeye.score): its command printed first, never outliving the job (scripts/slkd/supervise.py), its GPU sampled
    meanwhile (scripts/slkd/gpu_monitor.py), and the output's lines counted against `expected`. An empty input gives
    an empty output without starting the trainer. 0, or 1 with the reason on stderr.

    On a full disk (scripts/slkd/disk_space.py: the trainer failed, or its output came out short, with (almost) no space
    left on the output's file system; or a write of ours failed for want of space) the partial output is removed,
    so that nothing half-written is left to pass for complete, and one line says so."""
    try:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        if expected == 0:
            disk_space.write_atomic(output, "")
            return 0
    except OSError as err:
        return _failed(output, err, f"ERROR: {tool} on {source}: {err}")
    refusal = gpu_refusal(job)
    if refusal:
        disk_space.say(f"ERROR: {refusal}")
        return 1
    argv = command()
    disk_space.say(shlex.join(argv))
    try:
        with job.monitor() as sampler:
            status = supervise.run(argv, env=job.env(), sample=sampler.poll)
    except supervise.Stopped as err:
        disk_space.say(f"ERROR: {tool} stopped on {source}: {err}")
        return 1
    except OSError as err:  # the GPU sampler's file, on a full disk
        return _failed(output, err, f"ERROR: {tool} on {source}: {err}")
    if status != 0:
        return _failed(output, None, f"ERROR: {tool} exited with {status} on {source}")
    produced = count_lines(output)
    if produced != expected:
        return _failed(output, None, f"ERROR: {output} has {produced} {unit} but {source} has {expected} lines")
    return 0


def _failed(output: str, err: OSError | None, otherwise: str) -> int:
    """A per-line job's failure: out of disk space (our own write's `err`, or the output's file system nearly full
    after the trainer failed), then its partial output removed and one line naming it; else `otherwise`. 1."""
    space = disk_space.out_of_space(output, err, trainer_failed=err is None)
    if space is None:
        disk_space.say(otherwise)
        return 1
    Path(output).unlink(missing_ok=True)
    disk_space.say(disk_space.message(disk_space.Usage(output, space.free, space.total),
                                      "the partial output was removed and will be written again"), fresh=True)
    return 1
