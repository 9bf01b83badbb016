"""Decode a file with a trained Sockeye model, checking that every input line got exactly one output line.

    python translate.py [--backend sockeye1|sockeye3] [--sockeye-python PY] --model-dir DIR --input BPE --output OUT \\
        [--beam-size 5] [--batch-size 64] [--nbest-size 1] [--output-type translation|json] \\
        [--device auto|cpu|gpu] [--gpus N] [--threads N]

The best checkpoint (`params.best`) decodes. An empty input (an empty shard) gives an empty output without
starting Sockeye.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import sockeye_jobs
import supervise
from corpus_check import count_lines


def build_argv(args: argparse.Namespace, job: sockeye_jobs.Job) -> list[str]:
    """The sockeye.translate command through the backend's entry point."""
    return [
        *job.command("translate"),
        "--models", args.model_dir, "--input", args.input, "--output", args.output,
        "--beam-size", str(args.beam_size), "--batch-size", str(args.batch_size),
        "--nbest-size", str(args.nbest_size), "--output-type", args.output_type,
        *job.backend.translate_args(),
        *job.backend.device_args(job.device),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sockeye_jobs.add_options(parser)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--nbest-size", type=int, default=1)
    parser.add_argument("--output-type", choices=["translation", "json"], default="translation")
    args = parser.parse_args(argv)
    job = sockeye_jobs.job(parser, args)
    expected = count_lines(args.input)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    if expected == 0:
        Path(args.output).write_text("", encoding="utf-8")
        return 0
    refusal = sockeye_jobs.gpu_refusal(job)
    if refusal:
        print(f"ERROR: {refusal}", file=sys.stderr)
        return 1
    command = build_argv(args, job)
    print(shlex.join(command), file=sys.stderr, flush=True)
    try:  # never outliving the job (scripts/supervise.py)
        status = supervise.run(command, env=job.env())
    except supervise.Stopped as err:
        print(f"ERROR: sockeye.translate stopped on {args.input}: {err}", file=sys.stderr)
        return 1
    if status != 0:
        print(f"ERROR: sockeye.translate exited with {status} on {args.input}", file=sys.stderr)
        return 1
    produced = count_lines(args.output)
    if produced != expected:
        print(f"ERROR: {args.output} has {produced} lines but {args.input} has {expected}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
