"""The gate before any training: every split of the base corpus has passed its checks (the `check_corpus` rule).

Each split is checked by its own `prepare_corpus` job; with `keep-going` (profiles/slurm sets it) a failed
split would not stop the jobs that do not read it, and the teachers read only train and dev. Every training
therefore takes this file as an input: it exists only when every split's report does, so a bad test set stops
the run before any model is trained, as a bad training set does.

The gate also looks for evaluation pairs (dev, test) that occur in the training data, on the prepared text that
the models read (the same source and the same target line; corpus_check.eval_overlap): it counts and names them
in its output and warns on the console. With corpus.drop_eval_overlap the train split's preparation has dropped
them already: the train report says which were found and how many training pairs went, and the gate says so.

    python corpus_gate.py --output checked.json [--text SPLIT SRC TRG]... REPORT.json...

The output: `splits` ({split: its prepare_corpus report}) and `eval_overlap`: `found` (per evaluation split:
`pairs` found in training, `of` the split's pairs, the `first` few as `dev:12 = train:345`, lines of the prepared
text), `dropped` (whether they were dropped from training) and `dropped_train_pairs` (how many training pairs
that removed); `eval_overlap` is null without --text.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from slkd.corpus_check import overlap_report, read_parallel

# How many of the overlapping pairs the console names (the output names up to corpus_check.OVERLAP_EXAMPLES a split)
CONSOLE_EXAMPLES = 3


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


def overlap(reports: dict[str, Any], texts: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """The evaluation pairs found in training (`found`: corpus_check.overlap_report), whether they were dropped and
    how many training pairs that removed: from the train report where its preparation dropped them
    (corpus.drop_eval_overlap), else from the prepared texts ({split: (source, target)}, train among them)."""
    report = reports.get("train", {})
    if "eval_overlap" in report:
        return {"found": report["eval_overlap"], "dropped": True, "dropped_train_pairs": report["dropped_eval_overlap"]}
    sides = {split: read_parallel(*paths) for split, paths in texts.items()}
    return {"found": overlap_report(sides.pop("train"), sides), "dropped": False, "dropped_train_pairs": 0}


def overlap_lines(result: dict[str, Any], folder: str | Path) -> list[str]:
    """The console's word on evaluation pairs found in training (nothing when there are none): a line that counts
    them and names the first few (lines of the prepared text in `folder`), and one that says whether they stay in
    training."""
    found = {split: entry for split, entry in result["found"].items() if entry["pairs"]}
    if not found:
        return []
    counts = ", ".join(f"{split} {entry['pairs']} of {entry['of']}" for split, entry in found.items())
    named = [example for entry in found.values() for example in entry["first"]][:CONSOLE_EXAMPLES]
    total = sum(entry["pairs"] for entry in found.values())
    if total > len(named):
        named.append("...")
    where = f"lines of {folder}" + ("; train's before the drop" if result["dropped"] else "")
    line = f"{total} evaluation pairs were found in the training data: {counts} ({', '.join(named)}; {where})"
    if result["dropped"]:
        return [line, f"they were dropped from the training data: {result['dropped_train_pairs']} training pairs"
                      " (corpus.drop_eval_overlap: true)"]
    return [f"WARNING: {line}", "WARNING: they stay in the training data; corpus.drop_eval_overlap: true drops them"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--text", nargs=3, action="append", default=[], metavar=("SPLIT", "SRC", "TRG"),
                        help="a split's prepared text (train, dev, test: the evaluation pairs in training)")
    parser.add_argument("reports", nargs="+")
    args = parser.parse_args(argv)
    try:
        checked = gather(args.reports)
        texts = {split: (src, trg) for split, src, trg in args.text}
        found = overlap(checked, texts) if "train" in texts else None
    except (OSError, ValueError) as err:  # corpus_check.CorpusError is a ValueError
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    args.output.write_text(json.dumps({"splits": checked, "eval_overlap": found}, indent=2) + "\n", encoding="utf-8")
    counts = ", ".join(f"{split} {report['kept']} pairs" for split, report in checked.items())
    print(f"checked: {counts}", file=sys.stderr)
    for line in overlap_lines(found, Path(texts["train"][0]).parent) if found else []:
        print(line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
