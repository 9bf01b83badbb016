"""One trainer per model folder: an exclusive lock held for the trainer's whole life.

`hold(model_dir)` takes an exclusive `flock` on `DIR/trainer.lock` and keeps it until the block ends; the
trainer started inside the block inherits the descriptor (supervise.run's `pass_fds`), so the lock lasts as
long as the last of them lives, even if our script is killed first. A second trainer on the same folder
waits up to `wait` seconds (a trainer being stopped needs a few: its Snakemake was killed, its Sockeye is
ending) and then fails, naming the holder that `trainer.lock` records (host, PID, since when, its command).

Every trainer that held the folder appends two rows to `DIR/trainers.tsv`: `start` when it took the lock and
`end` (with its outcome) before it let go, so the file shows that trainers on a folder never overlapped.
flock works on local disks and on NFSv4 (Linux maps it to a POSIX lock there).
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = "trainer.lock"
HISTORY_NAME = "trainers.tsv"


class LockHeld(RuntimeError):
    """Another trainer holds the model folder."""


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _append(history: Path, event: str, detail: str) -> None:
    with history.open("a", encoding="utf-8") as out:
        out.write(f"{event}\t{time.time():.3f}\t{socket.gethostname()}\t{os.getpid()}\t{detail}\n")


def history(model_dir: str | Path) -> list[dict[str, str]]:
    """The rows of `DIR/trainers.tsv`: event, time (s since the epoch), host, pid, detail."""
    path = Path(model_dir) / HISTORY_NAME
    if not path.exists():
        return []
    names = ("event", "time", "host", "pid", "detail")
    return [dict(zip(names, line.split("\t", 4), strict=True)) for line in path.read_text().splitlines()]


@contextmanager
def hold(model_dir: str | Path, what: str, wait: float = 120.0, poll: float = 0.5) -> Iterator[int]:
    """Hold the folder's lock for the block; yields the lock's descriptor (to pass to the trainer).
    `what` (the command) is recorded for whoever finds the folder held. LockHeld after `wait` seconds."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(model_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "an unknown process"
                    raise LockHeld(
                        f"{model_dir} is being trained by another trainer ({holder}); waited {wait:.0f} s."
                        " Stop that one first (or wait for it): two trainers on one folder overwrite each"
                        " other's checkpoints"
                    ) from None
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"host {socket.gethostname()}, pid {os.getpid()}, since {_now()}: {what}\n".encode(), 0)
        _append(model_dir / HISTORY_NAME, "start", what)
        outcome = "error"
        try:
            yield fd
            outcome = "ok"
        except BaseException as err:
            outcome = f"{type(err).__name__}: {err}".replace("\t", " ").replace("\n", " ")
            raise
        finally:
            _append(model_dir / HISTORY_NAME, "end", outcome)
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)
