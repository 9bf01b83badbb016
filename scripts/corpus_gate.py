"""The gate before any training: every split of the base corpus has passed its checks (the `check_corpus` rule).

Each split is checked by its own `prepare_corpus` job; with `keep-going` (profiles/slurm sets it) a failed
split would not stop the jobs that do not read it, and the teachers read only train and dev. Every training
therefore takes this file as an input: it exists only when every split's report does, so a bad test set stops
the run before any model is trained, as a bad training set does.

    python corpus_gate.py --output checked.json REPORT.json...
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def gather(reports: list[str | Path]) -> dict[str, Any]:
    """{split: its prepare_corpus report}, the split taken from the report's name (`train.report.json`)."""
    result: dict[str, Any] = {}
    for path in reports:
        path = Path(path)
        report = json.loads(path.read_text(encoding="utf-8"))
        if not report.get("kept"):
            raise ValueError(f"{path}: no pair was kept")
        result[path.name.split(".")[0]] = report
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("reports", nargs="+")
    args = parser.parse_args(argv)
    try:
        checked = gather(args.reports)
    except (OSError, ValueError) as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    args.output.write_text(json.dumps(checked, indent=2) + "\n", encoding="utf-8")
    counts = ", ".join(f"{split} {report['kept']} pairs" for split, report in checked.items())
    print(f"checked: {counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
