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
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import sockeye_jobs
from slkd_config import sockeye_args


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


def train(argv: list[str], model_dir: str | Path, env: dict[str, str]) -> dict[str, Any]:
    """Run (or resume, or skip) the training; return what the completion file records."""
    model_dir = Path(model_dir)
    state = model_state(model_dir)
    record: dict[str, Any] = {"command": shlex.join(argv), "state_before": state,
                              "checkpoints_before": checkpoints_done(model_dir)}
    if state != "converged":
        model_dir.mkdir(parents=True, exist_ok=True)
        (model_dir / "command.sh").write_text("#!/bin/sh\n" + shlex.join(argv) + "\n", encoding="utf-8")
        print(f"{'resuming' if state == 'resumable' else 'starting'}: {shlex.join(argv)}", file=sys.stderr, flush=True)
        subprocess.run(argv, check=True, env=env)
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
    args = parser.parse_args(argv)
    job = sockeye_jobs.job(parser, args)
    refusal = sockeye_jobs.gpu_refusal(job)
    if refusal:
        print(f"ERROR: {refusal}", file=sys.stderr)
        return 1
    data = {k: getattr(args, k) for k in ("source", "target", "validation_source", "validation_target")}
    command = build_argv(job, args.model_dir, data, json.loads(args.flags))
    try:
        record = train(command, args.model_dir, job.env())
    except subprocess.CalledProcessError as err:
        print(f"ERROR: Sockeye exited with {err.returncode}; see {args.model_dir}/log", file=sys.stderr)
        return 1
    except RuntimeError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    Path(args.done).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
