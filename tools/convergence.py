"""Whether each model of a run trained until its validation perplexity was flat (bench/gpu-tatoeba).

    python -m convergence --outdir OUTDIR [--last 3] [--tolerance 0.02] --json OUT.json --md OUT.md

For every Sockeye model folder under OUTDIR/models (teachers and students: its `log` and `metrics`), from the
trainer's own files:

- stopped: what ended its training, the last stopping line of its log: `early-stopping` ("Maximum number of not
  improved checkpoints reached", Sockeye's --max-num-checkpoint-not-improved on the dev set), `max-updates`,
  `max-epochs`, `max-seconds`, `diverged`; `unfinished` when the log has none (killed, or still running).
- the validation perplexities of its last LAST checkpoints (Sockeye's `metrics` file), their spread
  (max - min) / min, and the best checkpoint.
- flat: stopped by early stopping, or a spread under TOLERANCE (the last checkpoints differ by less than 2 %).
  An unfinished or diverged training is never flat.

Writes the records as JSON and a Markdown table with a one-line summary; exit 1 when no model was found.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))  # the library: slkd
from gpu_bench import model_dirs  # noqa: E402
from slkd.formats import read_metrics  # noqa: E402

# Sockeye 3.1.34 (training.py) and 1.18 write these lines when a training stops; the last one wins (a resumed
# training logs again)
STOPS = [
    ("early-stopping", re.compile(r"Maximum number of not improved checkpoints")),
    ("max-updates", re.compile(r"Maximum # of updates \(\d+\) reached")),
    ("max-epochs", re.compile(r"Maximum # of epochs \(\d+\) reached")),
    ("max-seconds", re.compile(r"Maximum # of seconds \(\d+\) reached")),
    ("diverged", re.compile(r"Model optimization diverged")),
]


def stop_reason(log: str) -> str:
    """How the (last) training in a Sockeye log ended; `unfinished` if it did not."""
    found, position = "unfinished", -1
    for reason, pattern in STOPS:
        for match in pattern.finditer(log):
            if match.start() > position:
                found, position = reason, match.start()
    return found


def record(model: str, folder: Path, last: int, tolerance: float) -> dict[str, Any]:
    """One model's entry: how it stopped, its last validation perplexities, their spread, flat or not."""
    log = (folder / "log").read_text(encoding="utf-8", errors="replace")
    rows = [r for r in read_metrics(folder) if "perplexity-val" in r] if (folder / "metrics").exists() else []
    tail = [r["perplexity-val"] for r in rows[-last:]]
    spread = (max(tail) - min(tail)) / min(tail) if len(tail) == last and min(tail) > 0 else None
    stopped = stop_reason(log)
    best = min(rows, key=lambda r: r["perplexity-val"]) if rows else None
    flat = stopped == "early-stopping" or (
        stopped not in ("unfinished", "diverged") and spread is not None and spread < tolerance)
    return {
        "model": model,
        "stopped": stopped,
        "checkpoints": len(rows),
        "best_checkpoint": int(best["checkpoint"]) if best else None,
        "best_ppl_val": best["perplexity-val"] if best else None,
        "last_ppl_val": tail,
        "spread": spread,
        "flat": flat,
    }


def convergence(outdir: Path, last: int = 3, tolerance: float = 0.02) -> list[dict[str, Any]]:
    """Every model's record (teachers first), as model_dirs finds them."""
    return [record(model, folder, last, tolerance) for model, folder in model_dirs(outdir)]


def markdown(records: list[dict[str, Any]], last: int, tolerance: float) -> str:
    """The table and a one-line summary."""
    flat = sum(r["flat"] for r in records)
    early = sum(r["stopped"] == "early-stopping" for r in records)
    lines = [f"{flat} of {len(records)} models flat: {early} stopped by early stopping on the dev set, {flat - early}"
             f" at a ceiling with the validation perplexities of their last {last} checkpoints within"
             f" {100 * tolerance:g} % of each other.", "",
             f"| model | stopped | checkpoints | best | best val ppl | last {last} val ppl | spread | flat |",
             "|---|---|---:|---:|---:|---|---:|---|"]
    for r in records:
        spread = "–" if r["spread"] is None else f"{100 * r['spread']:.2f} %"
        best = "–" if r["best_ppl_val"] is None else f"{r['best_ppl_val']:.3f}"
        lines.append(f"| {r['model']} | {r['stopped']} | {r['checkpoints']} | {r['best_checkpoint'] or '–'}"
                     f" | {best} | {', '.join(f'{v:.3f}' for v in r['last_ppl_val']) or '–'} | {spread}"
                     f" | {'yes' if r['flat'] else 'no'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outdir", required=True, help="the workflow's outdir (config outdir)")
    parser.add_argument("--last", type=int, default=3, help="checkpoints whose spread decides `flat`")
    parser.add_argument("--tolerance", type=float, default=0.02, help="largest relative spread that is flat")
    parser.add_argument("--json", required=True)
    parser.add_argument("--md", required=True)
    args = parser.parse_args(argv)
    records = convergence(Path(args.outdir), args.last, args.tolerance)
    Path(args.json).write_text(json.dumps({"last": args.last, "tolerance": args.tolerance, "models": records},
                                          indent=2) + "\n", encoding="utf-8")
    Path(args.md).write_text(markdown(records, args.last, args.tolerance), encoding="utf-8")
    print(markdown(records, args.last, args.tolerance).splitlines()[0], file=sys.stderr)
    return 0 if records else 1


if __name__ == "__main__":
    sys.exit(main())
