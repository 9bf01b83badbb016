"""The files and log lines that Sockeye (1.18 and 3) writes, read in one place: a model folder's `metrics` file
and `log` (its command, its version, its checkpoints, its parameter count), sockeye.translate's n-best JSON
lines and its throughput line, sockeye.score's scores. Evaluation, distillation, cost, the GPU check and the
benchmarks read them through here; each backend declares the log lines that differ between the Sockeyes (its
PARAMETERS, LOG_VERSION).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path

from slkd import backends
from slkd.corpus_check import CorpusError, read_lines

# A checkpoint's line in a training log, 1.18's and 3's: `Checkpoint [N] Updates=U ... Updates/sec=R`
CHECKPOINT = re.compile(r"Checkpoint \[(\d+)\]\s+Updates=(\d+) .*Updates/sec=([\d.]+)")
# The same line's update count and seconds since the training (re)started: `... Samples=S Time-cost=T`
CHECKPOINT_TIME = re.compile(r"Checkpoint \[(\d+)\]\s+Updates=(\d+) Epoch=\d+ Samples=\d+ Time-cost=([\d.]+)")
# The version line at a log's start: `Sockeye version 1.18.x` (1.18), `Sockeye: 3.x.y` (3)
VERSION = re.compile(r"log_sockeye_version\] Sockeye(?: version|:) (\d+)\.")
# sockeye.translate's summary: `Processed N lines. Total time: T, sec/sent: S, sent/sec: R`
SENTENCES = re.compile(r"Processed (\d+) lines\. Total time: ([\d.]+), sec/sent: [\d.]+, sent/sec: ([\d.]+)")
COMMAND = "log_basic_info] Command: "  # the line of a log that gives the trainer's command line
ARGUMENTS = "log_basic_info] Arguments:"  # the line that starts Sockeye 3's parsed arguments
# Lines of a Sockeye 3 training log that the GPU check's report reads (tools/gpu_bench.py)
TRAINING_LOG = {
    "time": re.compile(r"^\[(\d{4}-\d\d-\d\d:\d\d:\d\d:\d\d):"),  # a line's time stamp
    "bucket": re.compile(r"Bucket \((\d+), (\d+)\): (\d+) samples in (\d+) batches of (\d+),"
                         r" ~([\d.]+) target tokens/batch"),
    "speed": re.compile(r"tok/sec=([\d.]+)"),  # the speedometer's tokens per second
    "parameter": re.compile(r"'([\w.]+) \[\(([\d, ]+)\), (\w+)\]'"),  # a parameter's name, shape and type
    "data_size": re.compile(r"(\d+) sequences of maximum length"),
    "tokens": re.compile(r"Tokens: source (\d+) target (\d+)"),
}


def flag_value(command: list[str], name: str) -> str | None:
    """The value that follows flag `name` in a command line (None: the flag is absent or last)."""
    if name in command:
        i = command.index(name)
        return command[i + 1] if i + 1 < len(command) else None
    return None


def read_metrics(model_dir: str | Path) -> list[dict[str, float]]:
    """Sockeye's `metrics` file: one row per checkpoint, `N<TAB>name=value<TAB>...`."""
    rows = []
    for line in (Path(model_dir) / "metrics").read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        row: dict[str, float] = {"checkpoint": int(fields[0])}
        for field in fields[1:]:
            name, _, value = field.partition("=")
            try:
                row[name] = float(value)
            except ValueError:
                continue
        rows.append(row)
    return rows


def best_checkpoint(rows: list[dict[str, float]]) -> dict[str, float]:
    """The row of the lowest validation perplexity (the first one on ties, as Sockeye keeps it)."""
    with_val = [r for r in rows if "perplexity-val" in r]
    if not with_val:
        raise ValueError("the metrics file has no perplexity-val")
    return min(with_val, key=lambda r: r["perplexity-val"])


def parameter_count(line: str) -> int | None:
    """The number of parameters that a trainer's log line gives (each backend's PARAMETERS), or None."""
    for backend in backends.BACKENDS.values():
        match = backend.PARAMETERS.search(line)
        if match:
            return int(re.sub(r"\D", "", match.group(1)))
    return None


def read_parameters(model_dir: str | Path) -> int | None:
    """The model's size from the trainer's `log` (the last count it logged), None if not logged."""
    log = Path(model_dir) / "log"
    if not log.is_file():
        return None
    found = None
    with open(log, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            count = parameter_count(line)
            found = count if count is not None else found
    return found


def checkpoint_rates(text: str) -> list[float]:
    """The Updates/sec of every checkpoint line of a training log's text, in order."""
    return [float(m.group(3)) for m in CHECKPOINT.finditer(text)]


def command(log: Path) -> list[str] | None:
    """The trainer's command line that a training log gives, split on spaces, or None."""
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if COMMAND in line:
            return line.split(COMMAND, 1)[1].split()
    return None


def log_backend(log: Path) -> str:
    """The backend that wrote a training log (its LOG_VERSION in the version line); a log without that line is
    taken for the default backend's."""
    versions = {module.LOG_VERSION: name for name, module in backends.BACKENDS.items()}
    with open(log, encoding="utf-8", errors="replace") as handle:
        for line in itertools.islice(handle, 20):
            match = VERSION.search(line)
            if match:
                return versions.get(match.group(1), backends.DEFAULT_BACKEND)
    return backends.DEFAULT_BACKEND


def nbest_line(line: str) -> list[str]:
    """The hypotheses of one line of sockeye.translate's JSON output (--output-type json): its n-best
    `translations`, or its one `translation`. A json.JSONDecodeError for a line that is not JSON."""
    obj = json.loads(line)
    return obj.get("translations") or [obj.get("translation", "")]


def translate_summary(text: str) -> tuple[int, float, float] | None:
    """(lines, seconds, sentences per second) of sockeye.translate's last summary line in a log's text."""
    found = SENTENCES.findall(text)
    return (int(found[-1][0]), float(found[-1][1]), float(found[-1][2])) if found else None


def read_scores(path: str | Path, expected: int) -> list[float]:
    """sockeye.score's output (scripts/score.py): one score per line (a cost: the scorer's negative
    log-probability, lower is better; its first tab-separated field), checked against the part's size;
    CorpusError naming the file and line of anything that is not a finite number."""
    scores = []
    for number, line in enumerate(read_lines(path), start=1):
        try:
            value = float(line.split("\t")[0])
        except ValueError:
            value = float("nan")
        if not math.isfinite(value):
            raise CorpusError(f"{path}:{number}: not a score: {line[:60]!r}")
        scores.append(value)
    if len(scores) != expected:
        raise CorpusError(f"{path} has {len(scores)} scores but the part has {expected} pairs")
    return scores
