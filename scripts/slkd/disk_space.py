"""A full disk: tell it from other failures, say it in one line, and write files that are never half-written.

A job that runs out of disk space fails in one of two ways:

- one of our own writes (a completion file, a model folder's command.sh, a lock's history row) raises OSError
  with errno ENOSPC (or EDQUOT, a quota that is full): that is decisive, wherever it sits in the exception's
  chain (an error raised while another one was being handled keeps the first as its context);
- the trainer (Sockeye) exits non-zero. Its own account is in logs on the same full disk, when it could be
  written at all, and MXNet's says only "FileStream.Write incomplete". So after a trainer's failure we look at
  the file system of its output instead: a write that fails for want of space has first filled the file
  system to its last block (the kernel writes what fits, then refuses), so a failure with (almost) no space
  left is taken for one of space. "Almost none" is less than LOW_SPACE (1 MiB) available to this user
  (statvfs f_bavail, what `df` shows: root's reserve on ext4 does not count), and less than a 16th of a file
  system smaller than 16 MiB (a tiny one, as the tests mount, would always be "full" otherwise): slack for what
  is freed between the failure and the look (a partial line removed, a log closed), far below what any
  training or decoding of the workflow needs to go on.

What this does not see: a trainer that fails on a full quota (statvfs shows the file system's space, not the
user's), and a failed job whose partial output Snakemake deleted, freeing more than LOW_SPACE, before the
workflow's `onerror` looked (the job's own line, written at the failure, still says it).

The line (`message`) names the path, its file system's free and total space, and what a rerun after freeing
space does. The job's log is on the same disk, so `say` falls back to stdout (for a local job Snakemake's
console) when stderr cannot be written; the workflow's `onerror` (rules/common.smk) prints `workflow_notice`
for the configured outdir too.
"""

from __future__ import annotations

import errno
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

LOW_SPACE = 1 << 20  # bytes: less than this available is "(almost) no free space"
SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


@dataclass(frozen=True)
class Usage:
    """The space of the file system that holds `path`, in bytes: `free` (available to this user) of `total`."""

    path: str
    free: int
    total: int


def usage(path: str | Path) -> Usage:
    """The space of the file system that holds `path` (or, when it does not exist, its nearest existing folder)."""
    probe = Path(os.path.abspath(path))
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    stat = os.statvfs(probe)
    return Usage(str(path), stat.f_bavail * stat.f_frsize, stat.f_blocks * stat.f_frsize)


def nearly_full(space: Usage, low: int = LOW_SPACE) -> bool:
    """Whether a file system has (almost) no free space: less than `low` bytes available, and less than a 16th of
    its size."""
    return space.free < min(low, space.total // 16)


def space_error(err: BaseException | None) -> OSError | None:
    """The OSError for want of space (ENOSPC, EDQUOT) in `err` or in the exceptions it was raised from or while
    handling; None if there is none."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OSError) and err.errno in SPACE_ERRNOS:
            return err
        err = err.__cause__ or err.__context__
    return None


def out_of_space(path: str | Path, err: BaseException | None = None, trainer_failed: bool = False) -> Usage | None:
    """Whether a failure was for want of disk space, with the space of `path`'s file system (None if not): `err`
    (an exception of ours) holds ENOSPC/EDQUOT, or the trainer failed (`trainer_failed`) and `path`'s file
    system is nearly full. The Usage names the file that failed when `err` says which, else `path`."""
    own = space_error(err)
    if own is not None:
        failed = own.filename if isinstance(own.filename, str | Path) else path
        return usage(failed)
    if trainer_failed:
        space = usage(path)
        return space if nearly_full(space) else None
    return None


def human(size: int) -> str:
    """A size in bytes as people read it: `0 B`, `812 B`, `3.5 KiB`, `1.9 MiB`, `74.0 GiB`."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit}"


def message(space: Usage, then: str) -> str:
    """The one line that says a job ran out of disk space: where, how much is left, and what a rerun does."""
    return (f"ERROR: out of disk space: {space.path} ({human(space.free)} free of {human(space.total)} on its"
            f" file system); free space and run the workflow again: {then}")


def workflow_notice(outdir: str | Path) -> str | None:
    """For a failed workflow run (Snakemake's `onerror`): the line, naming the outdir, when its file system is
    nearly full; None otherwise. Jobs' logs are on that disk and may not say it."""
    try:
        space = usage(outdir)
    except OSError:
        return None
    if not nearly_full(space):
        return None
    return message(space, "a training resumes from its last checkpoint, and what a failed job wrote"
                          " (removed with it) is written again")


def say(line: str, fresh: bool = False) -> None:
    """Print `line` to stderr (the job's log) or, when that cannot be written (the log is on the full disk), to
    stdout: for a local job, Snakemake's console. `fresh`: on a line of its own, after an empty one (a log that a
    full disk cut short ends in the middle of a line)."""
    for stream in (sys.stderr, sys.stdout):
        try:
            print(f"\n{line}" if fresh else line, file=stream, flush=True)
            return
        except OSError:
            continue


def write_atomic(path: str | Path, text: str) -> None:
    """Write a text file whole or not at all: into a temporary file beside it, then renamed over it, so that a
    full disk (or a kill) never leaves a partial one that a rerun would take for complete. The temporary file is
    removed when the write fails."""
    path = Path(path)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # as open() would create it (mkstemp's file is private)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
