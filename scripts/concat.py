"""Concatenate parallel corpora into a dataset, keeping both sides aligned (`base+kd`, `base+kd+bt`, ...).

    python concat.py --part SRC_FILE TRG_FILE [--part ...] --src-out FILE --trg-out FILE

Each part's two sides are checked strictly (UTF-8, no empty line, equal line counts) before anything is
written, so a misaligned part can never shift the rest of a dataset.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from slkd.corpus_check import CorpusError, read_parallel, write_lines


def concat(parts: list[tuple[str | Path, str | Path]], src_out: str | Path, trg_out: str | Path) -> int:
    """Write the concatenation of the parts; return its number of pairs."""
    src_all: list[str] = []
    trg_all: list[str] = []
    for src, trg in parts:
        src_lines, trg_lines = read_parallel(src, trg)
        src_all += src_lines
        trg_all += trg_lines
    write_lines(src_out, src_all)
    write_lines(trg_out, trg_all)
    return len(src_all)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", nargs=2, action="append", required=True, metavar=("SRC", "TRG"))
    parser.add_argument("--src-out", required=True)
    parser.add_argument("--trg-out", required=True)
    args = parser.parse_args(argv)
    try:
        pairs = concat([tuple(p) for p in args.part], args.src_out, args.trg_out)
    except CorpusError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    print(f"{pairs} pairs from {len(args.part)} parts", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
