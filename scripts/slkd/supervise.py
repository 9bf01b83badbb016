"""Run a trainer (Sockeye training or decoding) so that it never outlives the job that started it.

A local job is a thread of the Snakemake process: Snakemake runs `bash -c CMD`, bash runs our script, our
script runs Sockeye. A `kill -9` of Snakemake kills none of them (they are re-parented to PID 1), and a second
run would start a second Sockeye on the same model folder. Here:

- Sockeye is started with the kernel's parent-death signal (prctl PR_SET_PDEATHSIG): when our script dies,
  however it dies, Sockeye receives SIGTERM;
- while Sockeye runs, our script watches (every `interval` seconds) its own parent (bash, or the SLURM job
  step) and, on a local run, the Snakemake process named by $SLKD_SNAKEMAKE (`host:pid:start`, set by the
  workflow's onstart; the start time guards against a reused PID, the host against a job on another machine).
  When either has gone, Sockeye is stopped (SIGTERM, then SIGKILL after `grace` seconds) and `Stopped` is raised;
- a `check` callback, called at the same pace, may stop Sockeye with a reason of its own (a training that is
  not learning: scripts/train_model.py);
- a `sample` callback, called when Sockeye has started and then at the same pace, samples the GPU
  (scripts/slkd/gpu_monitor.py, Sampler.poll); it never stops Sockeye.

On a cluster the scheduler ends a cancelled job's processes itself; $SLKD_SNAKEMAKE is then unset.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

WATCH_ENV = "SLKD_SNAKEMAKE"
PR_SET_PDEATHSIG = 1


class Stopped(RuntimeError):
    """The child was stopped before it ended on its own; the message says why."""


def process_start(pid: int) -> str | None:
    """The start time of a process (clock ticks since boot, /proc/PID/stat field 22); None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the command name, in parentheses, may hold spaces
    return fields[19] if fields[0] != "Z" else None  # a zombie has ended


def watch_value(pid: int | None = None) -> str:
    """The $SLKD_SNAKEMAKE value that names this (or process `pid`) as the Snakemake process to watch."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{process_start(pid)}"


def watched(value: str | None = None) -> tuple[int, str] | None:
    """(pid, start) of the Snakemake process to watch, from $SLKD_SNAKEMAKE; None when unset or on another host."""
    value = os.environ.get(WATCH_ENV, "") if value is None else value
    try:
        host, pid, start = value.rsplit(":", 2)
        return (int(pid), start) if host == socket.gethostname() else None
    except ValueError:
        return None


def alive(pid: int, start: str) -> bool:
    """Whether process `pid` still runs and is the one that started at `start`."""
    return process_start(pid) == start


def _die_with_parent(parent: int) -> Callable[[], None]:
    def preexec() -> None:
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):  # not Linux: the watch below still stops the child
            return
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def stop(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM, then SIGKILL if the process has not ended within `grace` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def why_stop(parent: int, snakemake: tuple[int, str] | None) -> str | None:
    """Why a child of this process must stop now: its job's parent or the local Snakemake process has gone."""
    if snakemake is not None and not alive(*snakemake):
        return f"the Snakemake process {snakemake[0]} that started this job has ended"
    if os.getppid() != parent:
        return f"this job's parent process {parent} has ended"
    return None


def run(
    argv: Sequence[str],
    env: dict[str, str] | None = None,
    check: Callable[[], str | None] | None = None,
    interval: float = 1.0,
    grace: float = 30.0,
    pass_fds: Sequence[int] = (),
    sample: Callable[[], None] | None = None,
) -> int:
    """Run argv to its end and return its exit status; `Stopped` if the job's parent, Snakemake or `check`
    ended it first. `pass_fds` stay open in the child (a lock it holds for as long as it lives). `sample` is
    called once the child has started and then every `interval` seconds (after the child is started: no other
    thread runs while it forks)."""
    parent, snakemake = os.getppid(), watched()
    proc = subprocess.Popen(list(argv), env=env, preexec_fn=_die_with_parent(os.getpid()), pass_fds=tuple(pass_fds))
    try:
        while True:
            if sample:
                sample()
            try:
                return proc.wait(timeout=interval)
            except subprocess.TimeoutExpired:
                pass
            reason = why_stop(parent, snakemake) or (check() if check else None)
            if reason:
                stop(proc, grace)
                raise Stopped(reason)
    except BaseException:
        if proc.poll() is None:
            stop(proc, grace)
        raise
