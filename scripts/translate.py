"""Decode a file with a trained Sockeye model, checking that every input line got exactly one output line.

    python translate.py [--backend sockeye1|sockeye3] [--sockeye-python PY] --model-dir DIR [DIR ...] --input BPE \\
        --output OUT [--beam-size 5] [--batch-size 64] [--nbest-size 1] [--output-type translation|json] \\
        [--ensemble-mode linear|log_linear] [--device auto|cpu|gpu] [--gpus N] [--threads N]

The best checkpoint (`params.best`) decodes. Several model folders decode as an ensemble (a teacher ensemble,
teacher.ensemble: sockeye.translate --models DIR1 DIR2 ..., combined by --ensemble-mode, Sockeye's default
linear unless given; with one folder the mode is not passed). An empty input (an empty shard) gives an empty
output without starting Sockeye.
"""

from __future__ import annotations

import argparse
import sys

from slkd import sockeye_jobs
from slkd.corpus_check import count_lines


def build_argv(args: argparse.Namespace, job: sockeye_jobs.Job) -> list[str]:
    """The sockeye.translate command through the backend's entry point."""
    return [
        *job.command("translate"),
        "--models", *args.model_dir, "--input", args.input, "--output", args.output,
        "--beam-size", str(args.beam_size), "--batch-size", str(args.batch_size),
        "--nbest-size", str(args.nbest_size), "--output-type", args.output_type,
        *(["--ensemble-mode", args.ensemble_mode] if args.ensemble_mode and len(args.model_dir) > 1 else []),
        *job.backend.translate_args(),
        *job.backend.device_args(job.device),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sockeye_jobs.add_options(parser)
    parser.add_argument("--model-dir", required=True, nargs="+", help="a model folder; several: an ensemble")
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--nbest-size", type=int, default=1)
    parser.add_argument("--output-type", choices=["translation", "json"], default="translation")
    parser.add_argument("--ensemble-mode", choices=["linear", "log_linear"],
                        help="how several folders' distributions combine (default: Sockeye's, linear)")
    args = parser.parse_args(argv)
    job = sockeye_jobs.job(parser, args)
    return sockeye_jobs.run_per_line(job, lambda: build_argv(args, job), "sockeye.translate", args.input,
                                     args.output, count_lines(args.input))


if __name__ == "__main__":
    sys.exit(main())
