"""Score sentence pairs with a trained Sockeye model (sockeye.score): one cost per pair, checked line by line.

    python score.py [--backend sockeye1|sockeye3] [--sockeye-python PY] --model-dir DIR --source BPE --target BPE \\
        --output SCORES [--normalize length|none] [--batch-size 64] [--device auto|cpu|gpu] [--gpus N] [--threads N]

The cost of a pair is the model's negative log-probability of the target given the source: per target token
(`--normalize length`: Sockeye's length penalty with alpha 1 and beta 0 divides it by the target's length in
subwords; Sockeye 3 counts its end-of-sentence symbol too, Sockeye 1.18 does not) or per sentence (`none`:
alpha 0). The workflow scores a
distilled part's pairs with the teacher of the other direction (cross-entropy filtering; scripts/distill.py
filter drops the worst share). Every input pair gets exactly one score or the job fails.
"""

from __future__ import annotations

import argparse
import sys

from slkd import sockeye_jobs
from slkd.corpus_check import count_lines

LENGTH_PENALTY_ALPHA = {"length": "1.0", "none": "0.0"}


def build_argv(args: argparse.Namespace, job: sockeye_jobs.Job) -> list[str]:
    """The sockeye.score command through the backend's entry point (the best checkpoint scores)."""
    return [
        *job.command("score"),
        "--model", args.model_dir, "--source", args.source, "--target", args.target, "--output", args.output,
        "--output-type", "score", "--score-type", "neglogprob", "--batch-size", str(args.batch_size),
        "--length-penalty-alpha", LENGTH_PENALTY_ALPHA[args.normalize], "--length-penalty-beta", "0.0",
        *job.backend.translate_args(),
        *job.backend.device_args(job.device),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sockeye_jobs.add_options(parser)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--source", required=True, help="what the model reads (BPE)")
    parser.add_argument("--target", required=True, help="what it scores (BPE)")
    parser.add_argument("--output", required=True)
    parser.add_argument("--normalize", choices=list(LENGTH_PENALTY_ALPHA), default="length")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    job = sockeye_jobs.job(parser, args)
    expected, targets = count_lines(args.source), count_lines(args.target)
    if targets != expected:
        print(f"ERROR: {args.target} has {targets} lines but {args.source} has {expected}", file=sys.stderr)
        return 1
    return sockeye_jobs.run_per_line(job, lambda: build_argv(args, job), "sockeye.score", args.source, args.output,
                                     expected, unit="scores")


if __name__ == "__main__":
    sys.exit(main())
