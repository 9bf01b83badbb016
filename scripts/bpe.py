"""Byte-pair encoding with subword-nmt: learn codes per (language, size), apply them, and undo them exactly.

    python bpe.py learn --size N --input TRAIN --codes CODES
    python bpe.py apply --codes CODES --input TEXT --output BPE
    python bpe.py debpe --input BPE --output TEXT

The size is the number of merge operations (the paper's "BPE 10k" / "BPE 500"); it also sets Sockeye's
`--num-words`. De-BPE removes the `@@ ` joints: it is the exact inverse of `apply` on text without `@@`.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from slkd.text import debpe_line

SEPARATOR = "@@"


def learn(train: str | Path, codes: str | Path, size: int) -> None:
    """Learn `size` merges from a tokenized training file (deterministic for the same input)."""
    from subword_nmt.learn_bpe import learn_bpe

    Path(codes).parent.mkdir(parents=True, exist_ok=True)
    with open(train, encoding="utf-8") as infile, open(codes, "w", encoding="utf-8", newline="\n") as outfile:
        learn_bpe(infile, outfile, size, min_frequency=2, total_symbols=False)


def apply(codes: str | Path, infile: str | Path, outfile: str | Path) -> None:
    """Segment every line of a tokenized file with the codes."""
    from subword_nmt.apply_bpe import BPE

    with open(codes, encoding="utf-8") as handle:
        merges = [line for line in handle if line.strip() and not line.startswith("#version")]
        handle.seek(0)
        # a tiny corpus can give no merge at all: subword-nmt cannot read such a file, and it means "identity"
        bpe = BPE(handle, separator=SEPARATOR) if merges else None
    Path(outfile).parent.mkdir(parents=True, exist_ok=True)
    with open(infile, encoding="utf-8") as src, open(outfile, "w", encoding="utf-8", newline="\n") as out:
        for line in src:
            out.write(bpe.process_line(line) if bpe else " ".join(line.split()) + "\n")


def debpe(infile: str | Path, outfile: str | Path | io.TextIOBase) -> None:
    """De-BPE a file, line by line."""
    with open(infile, encoding="utf-8") as src, open(outfile, "w", encoding="utf-8", newline="\n") as out:
        for line in src:
            out.write(debpe_line(line.rstrip("\n")) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_learn = sub.add_parser("learn")
    p_learn.add_argument("--size", type=int, required=True)
    p_learn.add_argument("--input", required=True)
    p_learn.add_argument("--codes", required=True)
    p_apply = sub.add_parser("apply")
    p_apply.add_argument("--codes", required=True)
    p_apply.add_argument("--input", required=True)
    p_apply.add_argument("--output", required=True)
    p_debpe = sub.add_parser("debpe")
    p_debpe.add_argument("--input", required=True)
    p_debpe.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    if args.command == "learn":
        learn(args.input, args.codes, args.size)
    elif args.command == "apply":
        apply(args.codes, args.input, args.output)
    else:
        debpe(args.input, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
