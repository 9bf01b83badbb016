"""Train one Sockeye model (a teacher or a student) and resume it where a killed run stopped.

    python train_model.py [--backend sockeye1|sockeye3] [--sockeye-python PY] --model-dir DIR --done DONE.json \\
        --source S --target T --validation-source VS --validation-target VT \\
        --flags '{"num-embed": 256, ...}' [--device auto|cpu|gpu] [--gpus N] [--threads N]

Both backends (scripts/slkd/backends/) behave alike here. Sockeye (1.18 and 3) continues from `DIR/training_state`
when it is called again with the same arguments, so the model folder is never a declared output (Snakemake
would delete it with a failed job): the rule declares the completion file DONE instead, written only after
Sockeye finished. Budgets are absolute (--max-updates, --max-num-epochs), so calling Sockeye again on a folder
that reached its budget ends at once; a folder whose training converged (`params.best` and no
`training_state`) is never trained again. The exact command is kept with the model (`DIR/command.sh`), beside
Sockeye's own `args.yaml`.

One trainer at a time: the folder's lock (scripts/slkd/model_lock.py) is held from before its state is read until
Sockeye has ended, and Sockeye never outlives this script nor, on a local run, the Snakemake process that
started it (scripts/slkd/supervise.py). A training that is not learning stops early: after `--not-learning N:SHARE`
checkpoints (config `not_learning`, passed as $SLKD_NOT_LEARNING so that it is no part of the command), a best
validation perplexity still above SHARE of the first checkpoint's ends the job with what to try.

A full disk loses nothing (scripts/slkd/disk_space.py). A Sockeye that fails on a full disk, or a write of ours that
does, ends the job with one line naming the path, the free space and the checkpoint a rerun resumes from; the
completion file is written whole or not at all. Sockeye commits its training state (`training_state`) only when
it is written in full (`tmp.training_state`, then renamed), so a partial `params.NNNNN` or `tmp.training_state`
is rewritten when the checkpoint is trained again. Two leftovers are not harmless, and are tidied under the lock
before Sockeye starts (`tidy`): `params.best` linked to checkpoint 0 without a training state (Sockeye 1.18
links it before saving its first state; the folder would pass for a converged model and Sockeye refuses to
train it) and `params.best` linked past the saved state (Sockeye 1.18 moves it, and writes the best optimizer
state, before it saves the state: the rerun would keep a best checkpoint that the state never knew).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from slkd import disk_space, model_lock, sockeye_jobs, supervise
from slkd.formats import best_checkpoint, read_metrics
from slkd.training_flags import sockeye_args

NOT_LEARNING_ENV = "SLKD_NOT_LEARNING"
# Sockeye's (1.18 and 3) names in a model folder
STATE = "training_state"  # the last saved training state, what a resumed training continues from
TEMP_STATE = "tmp.training_state"  # the next one, being written
OLD_STATE = "delete.training_state"  # the one it replaces, being deleted
BEST = "params.best"  # a link to the best checkpoint's parameters, params.NNNNN
# Sockeye 1.18's best checkpoint's optimizer states (--learning-rate-decay-optimizer-states-reset best) and the
# training state's file that holds the same when the best checkpoint is the one the state was saved at
BEST_FROM_STATE = {"mx_optimizer_best.pkl": "mx_optimizer_last.pkl"}


def model_state(model_dir: str | Path) -> str:
    """`new`, `resumable` (Sockeye left its training state: killed, or stopped at its budget) or `converged`."""
    model_dir = Path(model_dir)
    if (model_dir / "training_state").is_dir():
        return "resumable"
    if (model_dir / "params.best").exists():
        return "converged"
    return "new"


def build_argv(
    job: sockeye_jobs.Job,
    model_dir: str | Path,
    data: dict[str, str],
    flags: dict[str, Any],
) -> list[str]:
    """The full command: the backend's `train` entry, data, flags, device."""
    return [
        *job.command("train"),
        "--source", data["source"], "--target", data["target"],
        "--validation-source", data["validation_source"], "--validation-target", data["validation_target"],
        "--output", str(model_dir),
        *sockeye_args(flags),
        *job.backend.device_args(job.device),
    ]


def checkpoints_done(model_dir: str | Path) -> int:
    """Number of rows in Sockeye's metrics file (one per checkpoint)."""
    metrics = Path(model_dir) / "metrics"
    return len(metrics.read_text().splitlines()) if metrics.exists() else 0


def link_checkpoint(link: str | Path) -> int | None:
    """The checkpoint that a Sockeye link (`params.best`, `training_state/params`) points to; None when `link` is
    not such a link."""
    try:
        target = os.readlink(link)
    except OSError:
        return None
    match = re.fullmatch(r"(?:\.\./)?params\.(\d+)", target)
    return int(match.group(1)) if match else None


def saved_checkpoint(model_dir: str | Path) -> int | None:
    """The checkpoint at which Sockeye saved the training state that a rerun resumes from; None without one."""
    return link_checkpoint(Path(model_dir) / STATE / "params")


def complete_metrics(model_dir: str | Path) -> list[dict[str, float]]:
    """The rows of Sockeye's metrics file that were written in full (Sockeye rewrites the whole file at each
    checkpoint, and a full disk may cut its last row short: a row is whole when its newline was written)."""
    path = Path(model_dir) / "metrics"
    if not path.is_file():
        return []
    rows = read_metrics(model_dir)
    return rows if path.read_bytes().endswith(b"\n") else rows[:-1]


def state_best(rows: list[dict[str, float]], saved: int) -> int | None:
    """The best checkpoint that a training state saved at checkpoint `saved` knows: of metrics rows 1..`saved`, the
    lowest validation perplexity (Sockeye's default --optimized-metric), the first on ties, as Sockeye keeps it;
    None when a row is missing or lacks it."""
    if saved == 0:  # the state of the start: its best is the initial parameters
        return 0
    rows = rows[:saved]
    if saved < 0 or len(rows) < saved or any("perplexity-val" not in row for row in rows):
        return None
    return int(best_checkpoint(rows)["checkpoint"])


def _flag(argv: list[str], name: str, default: str) -> str:
    return argv[argv.index(name) + 1] if name in argv[:-1] else default


def tidy(model_dir: str | Path, argv: list[str]) -> list[str]:
    """Make what a failed run (a full disk, a kill) left in a model folder safe to continue; what was done, one
    line each. Run under the folder's lock, before its state is read. In order:

    - killed between Sockeye's two renames (the new state is renamed only once written in full): the new state is
      put in place; a replaced state left half deleted is removed (Sockeye 1.18 cannot rename onto it);
    - `params.best` linked to checkpoint 0 without a training state (the first state was never saved): removed
      with the first checkpoint's files, so that Sockeye starts afresh (no finished training's best is 0);
    - `params.best` linked past the saved state's checkpoint (Sockeye 1.18 moves it, and writes the best optimizer
      state, before it saves the state): linked back to the best checkpoint the state knows (its metrics rows), and
      when that is the state's own checkpoint, the best optimizer state is restored from the state.
    """
    model_dir = Path(model_dir)
    notes: list[str] = []
    state, temp, old, best = (model_dir / name for name in (STATE, TEMP_STATE, OLD_STATE, BEST))
    if not state.exists() and old.is_dir() and temp.is_dir():
        temp.rename(state)
        notes.append(f"{temp.name}: renamed to {state.name} (Sockeye stopped between its two renames)")
    if state.is_dir() and old.exists():
        shutil.rmtree(old)
        notes.append(f"{old.name}: removed (a replaced training state, left half deleted)")
    if not state.exists() and link_checkpoint(best) == 0:
        best.unlink()
        shutil.rmtree(temp, ignore_errors=True)
        (model_dir / "params.00000").unlink(missing_ok=True)
        notes.append(f"{best.name}: removed with {temp.name} and params.00000 (the first training state was never"
                     " saved): the training starts afresh")
    saved, linked = saved_checkpoint(model_dir), link_checkpoint(best)
    if saved is not None and linked is not None and linked > saved:
        by_perplexity = _flag(argv, "--optimized-metric", "perplexity") == "perplexity"
        try:
            rows = complete_metrics(model_dir)
        except ValueError:  # a metrics file that is not Sockeye's
            rows = []
        chosen = state_best(rows, saved) if by_perplexity else None
        if chosen is None or not (model_dir / f"params.{chosen:05d}").exists():
            notes.append(f"{best.name} points to checkpoint {linked}, which the training state (checkpoint"
                         f" {saved}) never saved, and its metrics do not tell the best before it: left as it is")
            return notes
        best.unlink()
        best.symlink_to(f"params.{chosen:05d}")
        notes.append(f"{best.name}: linked to checkpoint {chosen}, the best that the training state (checkpoint"
                     f" {saved}) knows, not to the unsaved checkpoint {linked}")
        for name, last in BEST_FROM_STATE.items():
            if not (model_dir / name).exists():
                continue
            if chosen == saved and (state / last).is_file():
                shutil.copyfile(state / last, model_dir / name)
                notes.append(f"{name}: restored from {STATE}/{last} (checkpoint {saved})")
            else:
                notes.append(f"{name} may be of the unsaved checkpoint {linked} (the state's best, checkpoint"
                             f" {chosen}, is older than the state): it is rewritten when a checkpoint improves")
    return notes


def resumes_from(model_dir: str | Path) -> str:
    """What running the training again does, for a message: resume from the saved checkpoint, record a finished
    training, or start afresh."""
    saved, state = saved_checkpoint(model_dir), model_state(model_dir)
    if saved:
        return f"the training resumes from checkpoint {saved}"
    if state == "resumable" and saved is None:  # a state that does not say its checkpoint (Sockeye 3, DeepSpeed)
        return "the training resumes from its last checkpoint"
    if state == "converged" and link_checkpoint(Path(model_dir) / BEST) != 0:
        return "the training has finished and is only recorded"
    return "the training starts from its beginning (it had saved no checkpoint)"


class TrainerFailed(RuntimeError):
    """The trainer exited with a non-zero status."""


class NotLearning(RuntimeError):
    """The training's validation perplexity has not fallen enough after the guard's checkpoints."""


def parse_guard(value: str) -> tuple[int, float]:
    """`N:SHARE` (the not_learning guard) as (checkpoints, share); `0:...` turns it off."""
    checkpoints, _, share = value.partition(":")
    return int(checkpoints), float(share or 1.0)


def not_learning(rows: list[dict[str, float]], checkpoints: int, share: float) -> str | None:
    """Why a training with these metrics rows is not learning (None while it is, or before the guard's
    checkpoints): its best validation perplexity is still above `share` of its first checkpoint's."""
    rows = [row for row in rows if "perplexity-val" in row]  # (a row being written may lack it)
    if checkpoints <= 0 or len(rows) < checkpoints:
        return None
    first = rows[0]["perplexity-val"]
    best = min(row["perplexity-val"] for row in rows)
    if best <= share * first:
        return None
    return (
        f"not learning: its best validation perplexity after {len(rows)} checkpoints is {best:.2f},"
        f" {best / first:.0%} of the first checkpoint's {first:.2f} (not_learning: below {share:.0%} within"
        f" {checkpoints} checkpoints). Try another seed (teacher.seed; a student's trial) or a lower"
        " initial-learning-rate, and remove the model folder to train it afresh"
    )


def _guard(model_dir: Path, checkpoints: int, share: float) -> str | None:
    if checkpoints <= 0 or not (model_dir / "metrics").exists():
        return None
    try:
        rows = read_metrics(model_dir)
    except (OSError, ValueError, KeyError):  # a metrics file being written
        return None
    return not_learning(rows, checkpoints, share)


def train(
    argv: list[str], model_dir: str | Path, env: dict[str, str], guard: tuple[int, float] = (0, 1.0),
    sample: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Run (or resume, or skip) the training under the folder's lock; return what the completion file records.
    NotLearning when the guard stops it, supervise.Stopped when its job ended first, LockHeld when another
    trainer keeps the folder. `sample`: called while Sockeye runs (the job's GPU sampler, slkd/gpu_monitor.py)."""
    model_dir = Path(model_dir)
    with model_lock.hold(model_dir, shlex.join(argv)) as lock:
        for note in tidy(model_dir, argv):
            disk_space.say(f"{model_dir}: {note}")
        state = model_state(model_dir)
        record: dict[str, Any] = {"command": shlex.join(argv), "state_before": state,
                                  "checkpoints_before": checkpoints_done(model_dir)}
        if state != "converged":
            reason = _guard(model_dir, *guard)
            if reason:
                raise NotLearning(reason)
            disk_space.write_atomic(model_dir / "command.sh", "#!/bin/sh\n" + shlex.join(argv) + "\n")
            disk_space.say(f"{'resuming' if state == 'resumable' else 'starting'}: {shlex.join(argv)}")
            stopped: list[str] = []

            def check() -> str | None:
                reason = _guard(model_dir, *guard)
                if reason:
                    stopped.append(reason)
                return reason

            try:
                status = supervise.run(argv, env=env, check=check, pass_fds=[lock], sample=sample)
            except supervise.Stopped:
                if stopped:
                    raise NotLearning(stopped[0]) from None
                raise
            if status != 0:
                raise TrainerFailed(f"Sockeye exited with {status}; see {model_dir}/log")
        if not (model_dir / "params.best").exists():
            raise RuntimeError(f"{model_dir}: Sockeye ended without params.best")
        record["checkpoints"] = checkpoints_done(model_dir)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sockeye_jobs.add_options(parser)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--done", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--validation-source", required=True)
    parser.add_argument("--validation-target", required=True)
    parser.add_argument("--flags", required=True, help="sockeye.train flags as a JSON object")
    parser.add_argument("--not-learning", default=os.environ.get(NOT_LEARNING_ENV, "0:1"),
                        help="N:SHARE: stop when the validation perplexity is above SHARE of its first value after"
                        f" N checkpoints (default: ${NOT_LEARNING_ENV}, which the workflow sets; 0: never)")
    args = parser.parse_args(argv)
    job = sockeye_jobs.job(parser, args)
    refusal = sockeye_jobs.gpu_refusal(job)
    if refusal:
        print(f"ERROR: {refusal}", file=sys.stderr)
        return 1
    data = {k: getattr(args, k) for k in ("source", "target", "validation_source", "validation_target")}
    command = build_argv(job, args.model_dir, data, json.loads(args.flags))
    try:
        with job.monitor() as sampler:  # its GPU sampled while Sockeye trains (scripts/slkd/gpu_monitor.py)
            record = train(command, args.model_dir, job.env(), parse_guard(args.not_learning), sampler.poll)
    except NotLearning as err:
        disk_space.say(f"ERROR: {args.model_dir}: {err}")
        return 1
    except supervise.Stopped as err:
        disk_space.say(f"ERROR: {args.model_dir}: Sockeye stopped: {err}; running the workflow again resumes it from"
                       " its last checkpoint")
        return 1
    except (RuntimeError, OSError) as err:  # LockHeld, Sockeye's failure, a write of ours
        return _failed(args.model_dir, err, isinstance(err, TrainerFailed))
    try:  # whole or not at all: a partial completion file would pass for a finished training
        disk_space.write_atomic(args.done, json.dumps(record, indent=2) + "\n")
    except OSError as err:
        return _failed(args.model_dir, err)
    return 0


def _failed(model_dir: str, err: BaseException, trainer_failed: bool = False) -> int:
    """Say why the job failed, in one line (out of disk space: where, how much, and what a rerun does); 1."""
    space = disk_space.out_of_space(model_dir, err, trainer_failed)
    if space:
        disk_space.say(disk_space.message(space, resumes_from(model_dir)), fresh=True)
    else:
        disk_space.say(f"ERROR: {err}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
