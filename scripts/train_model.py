"""Train one Sockeye model (a teacher or a student) and resume it where a killed run stopped.

    python train_model.py [--backend sockeye1|sockeye3] [--sockeye-python PY] --model-dir DIR --done DONE.json \\
        --source S --target T --validation-source VS --validation-target VT \\
        --flags '{"num-embed": 256, ...}' [--device auto|cpu|gpu] [--gpus N] [--threads N]

Both backends (scripts/trainers/) behave alike here. Sockeye (1.18 and 3) continues from `DIR/training_state`
when it is called again with the same arguments, so the model folder is never a declared output (Snakemake
would delete it with a failed job): the rule declares the completion file DONE instead, written only after
Sockeye finished. Budgets are absolute (--max-updates, --max-num-epochs), so calling Sockeye again on a folder
that reached its budget ends at once; a folder whose training converged (`params.best` and no
`training_state`) is never trained again. The exact command is kept with the model (`DIR/command.sh`), beside
Sockeye's own `args.yaml`.

One trainer at a time: the folder's lock (scripts/model_lock.py) is held from before its state is read until
Sockeye has ended, and Sockeye never outlives this script nor, on a local run, the Snakemake process that
started it (scripts/supervise.py). A training that is not learning stops early: after `--not-learning N:SHARE`
checkpoints (config `not_learning`, passed as $SLKD_NOT_LEARNING so that it is no part of the command), a best
validation perplexity still above SHARE of the first checkpoint's ends the job with what to try.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import model_lock
import sockeye_jobs
import supervise
from evaluate import read_metrics
from slkd_config import sockeye_args

NOT_LEARNING_ENV = "SLKD_NOT_LEARNING"


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
    trainer keeps the folder. `sample`: called while Sockeye runs (the job's GPU sampler, scripts/gpu_monitor.py)."""
    model_dir = Path(model_dir)
    with model_lock.hold(model_dir, shlex.join(argv)) as lock:
        state = model_state(model_dir)
        record: dict[str, Any] = {"command": shlex.join(argv), "state_before": state,
                                  "checkpoints_before": checkpoints_done(model_dir)}
        if state != "converged":
            reason = _guard(model_dir, *guard)
            if reason:
                raise NotLearning(reason)
            (model_dir / "command.sh").write_text("#!/bin/sh\n" + shlex.join(argv) + "\n", encoding="utf-8")
            print(f"{'resuming' if state == 'resumable' else 'starting'}: {shlex.join(argv)}", file=sys.stderr,
                  flush=True)
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
                raise RuntimeError(f"Sockeye exited with {status}; see {model_dir}/log")
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
        with job.monitor() as sampler:  # its GPU sampled while Sockeye trains (scripts/gpu_monitor.py)
            record = train(command, args.model_dir, job.env(), parse_guard(args.not_learning), sampler.poll)
    except NotLearning as err:
        print(f"ERROR: {args.model_dir}: {err}", file=sys.stderr)
        return 1
    except supervise.Stopped as err:
        print(f"ERROR: {args.model_dir}: Sockeye stopped: {err}; running the workflow again resumes it from its"
              " last checkpoint", file=sys.stderr)
        return 1
    except (RuntimeError, OSError) as err:  # LockHeld, Sockeye's failure
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    Path(args.done).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
