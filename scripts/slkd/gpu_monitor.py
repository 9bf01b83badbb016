"""The GPU monitor: while a job's trainer runs on a GPU, `nvidia-smi` samples that job's GPUs into a file beside
the job's log.

    python -m slkd.gpu_monitor summary LOGS     what the sample files under LOGS (a run's logs/ folder) say, per job

Every job that runs a trainer (scripts/train_model.py, scripts/translate.py, scripts/score.py; the rules
train_teacher, train_student, distill, score_part, translate_test, translate_dev) samples through
`sockeye_jobs.Job.monitor()`:

    nvidia-smi --query-gpu=timestamp,index,uuid,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits

every `interval` seconds (config compute.gpu_monitor_interval, which the workflow passes as $SLKD_GPU_MONITOR so
that changing it reruns nothing; 0 turns it off). The sampler lives in the job's own process: scripts/slkd/supervise.py
polls it between its checks of the trainer (every second, so an interval under 1 s samples every second), and it
starts no thread and no process that could outlive the job.

- The job's GPUs: the first N GPUs it sees (N: its `gpu` resource, at least 1; Sockeye runs on the first), i.e.
  the first N entries of CUDA_VISIBLE_DEVICES (indices or UUIDs, as SLURM sets it) or, where it is unset,
  nvidia-smi's first N GPUs. A node that shows a job only its own GPUs (SLURM's device cgroups) may number them
  otherwise than CUDA_VISIBLE_DEVICES: where nothing matches and nvidia-smi lists no more than N GPUs, those
  are the job's. Utilisation and memory are the GPU's, not the process's: jobs that share a GPU (bench/gpu's
  slots) each record the shared total.
- The file, `samples_path(log)`: the job's log with `.gpu.csv` for `.log` (logs/train_student/SMALL.kd.dropout.2.1
  .gpu.csv beside logs/train_student/SMALL.kd.dropout.2.1.log). Its first line is HEADER; then nvidia-smi's own
  lines for the job's GPUs, as it printed them, one per GPU and sample, written as they come. The log is the
  file the job's stderr goes to (every trainer rule ends `2> {log}`), so the path is part of no command. Like
  the log, it holds the job's latest attempt: a file of an earlier attempt is removed when the job starts.
- A no-op, with no file: on the CPU (compute.device cpu, or auto without a `gpu` resource), with interval 0,
  when the job's stderr is not a `.log` file (a script run by hand), or when nvidia-smi is not on PATH (then a
  line in the log says so). A GPU job whose file is missing therefore sampled nothing.
- Monitoring never fails a job: a failing nvidia-smi (an exit status, no line for the job's GPUs, a hang of more
  than `timeout` seconds, any error) is noted in the log; after MAX_FAILURES failures in a row sampling stops
  and what was sampled stays.
"""

from __future__ import annotations

import os
import shutil
import stat
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NamedTuple, TextIO

from slkd import gpu_check

INTERVAL_ENV = "SLKD_GPU_MONITOR"  # seconds between samples; the workflow sets it from compute.gpu_monitor_interval
DEFAULT_INTERVAL = 5.0
NVIDIA_SMI = "nvidia-smi"
FIELDS = ("timestamp", "index", "uuid", "utilization.gpu", "memory.used", "memory.total")
QUERY = [f"--query-gpu={','.join(FIELDS)}", "--format=csv,noheader,nounits"]
HEADER = "timestamp, index, uuid, utilization.gpu [%], memory.used [MiB], memory.total [MiB]"
SUFFIX = ".gpu.csv"
MAX_FAILURES = 3
TIMEOUT = 10.0  # seconds an nvidia-smi call may take
TIME_FORMAT = "%Y/%m/%d %H:%M:%S.%f"  # nvidia-smi's timestamp


def samples_path(log: str | Path) -> Path:
    """The sample file of the job whose log is `log`: logs/<rule>/<job>.log -> logs/<rule>/<job>.gpu.csv."""
    log = Path(log)
    return log.with_name(log.name.removesuffix(".log") + SUFFIX)


def job_log() -> Path | None:
    """The job's log: the regular `.log` file this process's stderr writes to (Linux), or None."""
    try:
        if not stat.S_ISREG(os.fstat(2).st_mode):
            return None
        path = Path(os.readlink("/proc/self/fd/2"))
    except OSError:
        return None
    return path if path.suffix == ".log" and path.is_file() else None


def interval_setting(env: Mapping[str, str] | None = None) -> float:
    """Seconds between samples: $SLKD_GPU_MONITOR, else DEFAULT_INTERVAL (a value that is no number: the default)."""
    value = (os.environ if env is None else env).get(INTERVAL_ENV, "")
    try:
        return max(0.0, float(value)) if value.strip() else DEFAULT_INTERVAL
    except ValueError:
        return DEFAULT_INTERVAL


class Row(NamedTuple):
    """One line of nvidia-smi's output: the GPU it is about, and the line as printed."""

    index: int
    uuid: str
    line: str


def job_rows(text: str, cuda_visible_devices: str | None, gpus: int) -> list[str]:
    """The lines of nvidia-smi's output (QUERY) about the job's GPUs: the first `gpus` (at least 1) of those it
    sees (gpu_check.visible). Lines that are not a GPU's (an error message on stdout) are left out."""
    rows = []
    for line in text.splitlines():
        fields = [field.strip() for field in line.split(",")]
        if len(fields) == len(FIELDS) and fields[1].isdigit():
            rows.append(Row(int(fields[1]), fields[2], line.strip()))
    count = max(1, gpus)
    chosen = gpu_check.visible(rows, cuda_visible_devices)[:count]
    if not chosen and cuda_visible_devices is not None and len(rows) <= count:
        chosen = rows  # the node shows the job its own GPUs only, numbered its own way
    return [row.line for row in chosen]


class Sampler:
    """Samples the job's GPUs into `path` each `interval` seconds while `poll` is called (scripts/slkd/supervise.py).
    A context manager: `start` on entry (an earlier attempt's file is removed; without nvidia-smi, or with
    interval 0, nothing is sampled), `stop` on exit. Never raises."""

    def __init__(self, path: Path | None, gpus: int = 1, interval: float = DEFAULT_INTERVAL,
                 cuda_visible_devices: str | None = None, command: str = NVIDIA_SMI, log: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic, timeout: float = TIMEOUT) -> None:
        self.path, self.gpus, self.interval = path, gpus, interval
        self.cuda_visible_devices, self.command, self.log = cuda_visible_devices, command, log
        self.clock, self.timeout = clock, timeout
        self.active = False
        self.samples = 0
        self.failures = 0
        self._smi: str | None = None
        self._next = 0.0
        self._handle: TextIO | None = None

    def start(self) -> Sampler:
        try:
            if self.path is not None:
                self.path.unlink(missing_ok=True)
            if self.path is None or self.interval <= 0:
                return self
            self._smi = shutil.which(self.command)
            if self._smi is None:
                self._note(f"no {self.command} on PATH: this GPU job records no GPU samples")
                return self
            self.active, self._next = True, self.clock()
        except Exception as err:  # monitoring never fails the job
            self._note(f"not started: {type(err).__name__}: {err}")
        return self

    def poll(self) -> None:
        """Take a sample if one is due."""
        if not self.active:
            return
        try:
            now = self.clock()
            if now < self._next:
                return
            self._next += self.interval
            if self._next <= now:
                self._next = now + self.interval
            self._sample()
        except Exception as err:  # monitoring never fails the job
            self._failed(f"{type(err).__name__}: {err}")

    def _sample(self) -> None:
        if self._smi is None or self.path is None:
            return
        proc = subprocess.run([self._smi, *QUERY], capture_output=True, text=True, timeout=self.timeout)
        if proc.returncode != 0:
            said = (proc.stdout.strip() or proc.stderr.strip()).splitlines()
            self._failed(f"exit status {proc.returncode}" + (f": {said[0]}" if said else ""))
            return
        lines = job_rows(proc.stdout, self.cuda_visible_devices, self.gpus)
        if not lines:
            self._failed(f"no line for this job's GPUs (CUDA_VISIBLE_DEVICES={self.cuda_visible_devices})")
            return
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "w", encoding="utf-8")  # open until stop()
            self._handle.write(HEADER + "\n")
        self._handle.write("".join(line + "\n" for line in lines))
        self._handle.flush()
        self.samples += 1
        self.failures = 0

    def _failed(self, why: str) -> None:
        self.failures += 1
        stopped = self.failures >= MAX_FAILURES
        if stopped:
            self.active = False
        self._note(f"{self.command} failed ({why})" + (
            f"; sampling stopped after {self.failures} failures in a row" if stopped else ""))

    def _note(self, text: str) -> None:
        try:
            print(f"gpu_monitor: {text}", file=self.log or sys.stderr, flush=True)
        except Exception:  # a log that cannot be written: nothing more to say
            pass

    def stop(self) -> None:
        self.active = False
        if self._handle is not None:
            try:
                self._handle.close()
            except OSError:
                pass
            self._handle = None

    def __enter__(self) -> Sampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def for_job(device: str, gpus: int, log: Path | None = None, env: Mapping[str, str] | None = None) -> Sampler:
    """The sampler of a trainer job on `device` holding `gpus` GPUs, whose log is `log` (default: job_log()):
    sampling on the GPU only, every interval_setting() seconds."""
    env = os.environ if env is None else env
    log = job_log() if log is None else log
    interval = interval_setting(env) if device == "gpu" else 0.0
    return Sampler(samples_path(log) if log else None, gpus, interval, env.get("CUDA_VISIBLE_DEVICES"))


# ---- Reading the sample files (scripts/cost.py) ----------------------------------------------------------------
@dataclass(frozen=True)
class JobUsage:
    """What one job's sample file says: samples (sampling times), GPU-lines, the time from the first sample to
    the last, utilisation (%) over all lines and at its peak, memory used at its peak and the GPU's memory (MiB)."""

    rule: str
    job: str
    samples: int
    lines: int
    seconds: float
    utilization_mean: float
    utilization_peak: float
    memory_peak: float
    memory_total: float


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:  # [N/A], [Not Supported]
        return None


def _time(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, TIME_FORMAT)
    except ValueError:
        return None


def read_samples(path: Path, rule: str = "", job: str = "") -> JobUsage | None:
    """A sample file's figures; None when it holds no line with utilisation and memory numbers (a MIG slice
    reports [N/A])."""
    times, utilization, used, total = set(), [], [], []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[1:]:
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != len(FIELDS):
            continue
        numbers = [_number(field) for field in fields[3:]]
        if None in numbers:
            continue
        times.add(fields[0])
        utilization.append(numbers[0])
        used.append(numbers[1])
        total.append(numbers[2])
    if not utilization:
        return None
    stamps = sorted(t for t in map(_time, times) if t is not None)
    seconds = (stamps[-1] - stamps[0]).total_seconds() if stamps else 0.0
    return JobUsage(rule, job, len(times), len(utilization), seconds, statistics.fmean(utilization),
                    max(utilization), max(used), max(total))


def sample_files(logs: Path) -> list[Path]:
    """The sample files of every job under a run's logs/ folder (logs/<rule>/.../<job>.gpu.csv)."""
    return sorted(logs.glob(f"*/**/*{SUFFIX}"))


def job_usages(logs: Path) -> list[JobUsage]:
    """Every job's JobUsage under a run's logs/ folder, in path order (files with no number left out)."""
    usages = []
    for path in sample_files(logs):
        relative = path.relative_to(logs)
        job = relative.relative_to(relative.parts[0]).as_posix().removesuffix(SUFFIX)
        usage = read_samples(path, relative.parts[0], job)
        if usage is not None:
            usages.append(usage)
    return usages


def summary(logs: Path) -> list[str]:
    """One line per job's sample file under `logs`, and a total."""
    usages = job_usages(logs)
    if not usages:
        return [f"gpu_monitor: no GPU samples under {logs}"]
    lines = [f"gpu_monitor: {u.rule} {u.job}: {u.samples} samples over {u.seconds:.0f} s, utilisation mean"
             f" {u.utilization_mean:.1f} % peak {u.utilization_peak:.0f} %, memory peak {u.memory_peak:.0f} of"
             f" {u.memory_total:.0f} MiB" for u in usages]
    return [*lines, f"gpu_monitor: {len(usages)} jobs sampled, {sum(u.samples for u in usages)} samples under {logs}"]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] != "summary":
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    print("\n".join(summary(Path(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
