"""Token and vocabulary counts of a corpus (the paper's Table 2), as TSV.

    python corpus_stats.py --corpus NAME --file LANG=PATH [--file LANG=PATH ...] --output STATS.tsv

One row per side: corpus, lang, lines, tokens, types (distinct tokens).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

COLUMNS = ("corpus", "lang", "lines", "tokens", "types")


def count(path: str | Path) -> dict[str, int]:
    """Lines, tokens and distinct tokens of a tokenized text file."""
    vocab: Counter[str] = Counter()
    lines = 0
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            lines += 1
            vocab.update(line.split())
    return {"lines": lines, "tokens": sum(vocab.values()), "types": len(vocab)}


def write_stats(corpus: str, files: dict[str, str | Path], output: str | Path) -> list[dict[str, object]]:
    """Count each side and write the TSV; return its rows."""
    rows = [{"corpus": corpus, "lang": lang, **count(path)} for lang, path in files.items()]
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    with open(output, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--file", action="append", required=True, metavar="LANG=PATH")
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    files = dict(item.split("=", 1) for item in args.file)
    for row in write_stats(args.corpus, files, args.output):
        print("\t".join(str(row[c]) for c in COLUMNS), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
