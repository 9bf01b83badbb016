"""Train one Sockeye model (a teacher or a student) and resume it where a killed run stopped.

    python train_model.py --sockeye-python PY --model-dir DIR --done DONE.json \\
        --source S --target T --validation-source VS --validation-target VT \\
        --flags '{"num-embed": 256, ...}' [--device auto|cpu|gpu] [--gpus N] [--threads N]

Sockeye 1.18 continues from `DIR/training_state` when it is called again with identical arguments, so the
model folder is never a declared output (Snakemake would delete it with a failed job): the rule declares the
completion file DONE instead, written only after Sockeye finished. Budgets are absolute (--max-updates,
--max-num-epochs), so calling Sockeye again on a folder that reached its budget ends at once; a folder whose
training converged (`params.best` and no `training_state`) is never trained again. The exact command is kept
with the model (`DIR/command.sh`), beside Sockeye's own `args.yaml`.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from slkd_config import ConfigError, sockeye_args, sockeye_device

ENTRY = Path(__file__).resolve().parent / "sockeye_entry.py"


def sockeye_env(threads: int | str) -> dict[str, str]:
    """The environment of a Sockeye process: this one's, with MXNet's and OpenMP's threads set."""
    return {**os.environ, "OMP_NUM_THREADS": str(threads), "MXNET_CPU_WORKER_NTHREADS": str(threads)}


def add_sockeye_options(parser: argparse.ArgumentParser) -> None:
    """Options of every script that runs Sockeye: its interpreter, where it runs, and its threads."""
    parser.add_argument("--sockeye-python", required=True, help="the Sockeye environment's interpreter (the rules"
                        " pass $SLKD_SOCKEYE_PYTHON: config sockeye_python)")
    parser.add_argument("--device", choices=["auto", "cpu", "gpu"], default="cpu",
                        help="compute.device; auto: the GPU exactly when --gpus > 0")
    parser.add_argument("--gpus", default="0", help="the GPUs the job holds (its `gpu` resource)")
    parser.add_argument("--threads", type=int, default=1, help="MXNet/OpenMP threads")


def job_device(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    """`cpu` or `gpu` for this job (see slkd_config.sockeye_device); a usage error for a bad setting."""
    if not args.sockeye_python:
        parser.error("--sockeye-python is empty: run through Snakemake (which sets $SLKD_SOCKEYE_PYTHON) or name"
                     " the interpreter")
    try:
        return sockeye_device(args.device, args.gpus)
    except ConfigError as err:
        parser.error(str(err))


def model_state(model_dir: str | Path) -> str:
    """`new`, `resumable` (Sockeye left its training state: killed, or stopped at its budget) or `converged`."""
    model_dir = Path(model_dir)
    if (model_dir / "training_state").is_dir():
        return "resumable"
    if (model_dir / "params.best").exists():
        return "converged"
    return "new"


def device_args(device: str) -> list[str]:
    """CPU: `--use-cpu`. GPU: the first visible device, i.e. the one SLURM assigned via CUDA_VISIBLE_DEVICES."""
    return ["--use-cpu"] if device == "cpu" else ["--device-ids", "0"]


def build_argv(
    sockeye_python: str,
    model_dir: str | Path,
    data: dict[str, str],
    flags: dict[str, Any],
    device: str,
) -> list[str]:
    """The full command: interpreter, the project's entry point, `train`, data, flags, device."""
    return [
        sockeye_python, str(ENTRY), "train",
        "--source", data["source"], "--target", data["target"],
        "--validation-source", data["validation_source"], "--validation-target", data["validation_target"],
        "--output", str(model_dir),
        *sockeye_args(flags),
        *device_args(device),
    ]


def checkpoints_done(model_dir: str | Path) -> int:
    """Number of rows in Sockeye's metrics file (one per checkpoint)."""
    metrics = Path(model_dir) / "metrics"
    return len(metrics.read_text().splitlines()) if metrics.exists() else 0


def train(argv: list[str], model_dir: str | Path, threads: int) -> dict[str, Any]:
    """Run (or resume, or skip) the training; return what the completion file records."""
    model_dir = Path(model_dir)
    state = model_state(model_dir)
    record: dict[str, Any] = {"command": shlex.join(argv), "state_before": state,
                              "checkpoints_before": checkpoints_done(model_dir)}
    if state != "converged":
        model_dir.mkdir(parents=True, exist_ok=True)
        (model_dir / "command.sh").write_text("#!/bin/sh\n" + shlex.join(argv) + "\n", encoding="utf-8")
        print(f"{'resuming' if state == 'resumable' else 'starting'}: {shlex.join(argv)}", file=sys.stderr, flush=True)
        subprocess.run(argv, check=True, env=sockeye_env(threads))
    if not (model_dir / "params.best").exists():
        raise RuntimeError(f"{model_dir}: Sockeye ended without params.best")
    record["checkpoints"] = checkpoints_done(model_dir)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_sockeye_options(parser)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--done", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--validation-source", required=True)
    parser.add_argument("--validation-target", required=True)
    parser.add_argument("--flags", required=True, help="sockeye.train flags as a JSON object")
    args = parser.parse_args(argv)
    device = job_device(parser, args)
    data = {k: getattr(args, k) for k in ("source", "target", "validation_source", "validation_target")}
    command = build_argv(args.sockeye_python, args.model_dir, data, json.loads(args.flags), device)
    try:
        record = train(command, args.model_dir, args.threads)
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
