"""The paper's claims, answered from the workflow's own result files: one line per claim and scope with the
numbers it rests on, whether it holds (on the means), the trials in which it holds, and the paired bootstrap
p-values (sacrebleu, scripts/significance.py) of the comparisons behind it.

    python claims.py --run RUN.json ... --significance P.json ... --stats STATS.tsv ... --spec JSON --prefix OUT

The claims (Gordon & Duh 2019, Sections 4-5), about the students of one architecture (`architecture`, the
paper's SMALL) with and without dropout, as configured under `claims:`:
  kd>baseline   the student trained on kd beats the one trained on the original data (baseline);
  base+kd>=kd   adding the original data to kd does not hurt (base+kd >= kd);
  gains         the gains of each augmented dataset over baseline are larger without dropout than with it;
  vocabulary    kd's target vocabulary is smaller than the original's, of the same order (ratio >= 0.1).
A claim whose students are not in the files (a column missing from Table 3) is written as not answered, with
the reason. The numbers are the spec's `metric` (config evaluation.metric: the paper's tokenized BLEU by default,
or detokenized BLEU or chrF), the metric the paired bootstrap results compare; each line names it (`metric`),
and the Markdown says which it is, with its sacrebleu signature.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from results import ResultFileError, key_results, read_result
from slkd_config import model_student
from tables import DESCRIPTION, LABEL, p_text

FORMAT = 2  # bump with any change of HEADER or of the lines' meaning: the rule's parameter, so claims are rewritten
HEADER = ["claim", "scope", "statement", "metric", "value", "reference", "holds", "trials_holding", "trials",
          "p_values", "significant_trials", "detail"]
SAME_ORDER = 0.1  # "of the same order": the smaller vocabulary at least a tenth of the larger


def load(runs: list[str], tests: list[str], metric: str = "bleu") -> tuple[dict, dict]:
    """Run files as {(architecture, dropout, dataset): {trial: the metric}} and paired bootstrap results (of
    that metric) as {(architecture, dropout, dataset, reference dataset): {trial: p-value}}."""
    bleu: dict[tuple[str, str, str], dict[int, float]] = {}
    for (arch, dataset, dropout, _ckpt, trial), (path, result) in key_results(
            runs, ("architecture", "dataset", "dropout", "checkpoints", "trial")).items():
        if result.get(metric) is None:
            raise ResultFileError(f"{path}: no {metric} (evaluation.metric): run the workflow again with this"
                                  " configuration")
        bleu.setdefault((arch, dropout, dataset), {})[trial] = result[metric]
    p_values: dict[tuple[str, str, str, str], dict[int, float]] = {}
    for path in tests:
        result = read_result(path)
        if result.get("metric") != metric:
            raise ResultFileError(f"{path}: compares {result.get('metric') or 'an unnamed metric'}, not {metric}"
                                  " (evaluation.metric): run the workflow again, which rewrites it")
        student = result["student"]
        try:
            reference = model_student(result["baseline_model"]).dataset
        except (KeyError, ValueError) as exc:
            raise ResultFileError(f"{path}: names no reference student ({exc})") from exc
        key = (student["architecture"], student["dropout"], student["dataset"], reference)
        if student["trial"] in p_values.get(key, {}):
            raise ResultFileError(f"{path}: a second result for {key}, trial {student['trial']}")
        p_values.setdefault(key, {})[student["trial"]] = result["p_value"]
    return bleu, p_values


def signature(runs: list[str], metric: str = "bleu") -> str:
    """The metric's sacrebleu signature, as the first run file gives it ("" without one)."""
    return (read_result(runs[0]).get(f"{metric}_signature") or "") if runs else ""


def vocabulary(paths: list[str], lang: str) -> dict[str, int]:
    """{corpus: target-side types} of scripts/corpus_stats.py's TSVs."""
    types: dict[str, int] = {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                if row["lang"] == lang:
                    types[row["corpus"]] = int(row["types"])
    return types


def _line(claim: str, scope: str, statement: str, **fields: Any) -> dict[str, Any]:
    return {"claim": claim, "scope": scope, "statement": statement, **{k: fields.get(k, "") for k in HEADER[3:]}}


def _missing(claim: str, scope: str, statement: str, what: str) -> dict[str, Any]:
    return _line(claim, scope, statement, holds="not answered", detail=f"no results for {what}")


def comparison(claim: str, scope: str, statement: str, bleu: dict, p_values: dict, cell: tuple[str, str],
               system: str, reference: str, alpha: float, at_least: bool = False,
               metric: str = "bleu") -> dict[str, Any]:
    """`system` against `reference` in one (architecture, dropout) column: mean BLEU (the `metric`) of each,
    whether the system's mean is above (or, with at_least, not below) the reference's, per trial, and the
    p-values of the paired bootstrap of the system against the reference."""
    ours, theirs = bleu.get((*cell, system)), bleu.get((*cell, reference))
    if not ours or not theirs:
        return _missing(claim, scope, statement, f"{system if not ours else reference} ({' '.join(cell)})")
    trials = sorted(set(ours) & set(theirs))
    if not trials:
        return _missing(claim, scope, statement, f"a trial of both {system} and {reference} ({' '.join(cell)})")
    better = (lambda a, b: a >= b) if at_least else (lambda a, b: a > b)
    tests = p_values.get((*cell, system, reference), {})
    p_list = [tests.get(t) for t in trials]
    mean, reference_mean = statistics.fmean(ours[t] for t in trials), statistics.fmean(theirs[t] for t in trials)
    return _line(claim, scope, statement, metric=metric, value=round(mean, 2), reference=round(reference_mean, 2),
                 holds="yes" if better(mean, reference_mean) else "no",
                 trials_holding=sum(better(ours[t], theirs[t]) for t in trials), trials=len(trials),
                 p_values=p_text(p_list), significant_trials=sum(p is not None and p < alpha for p in p_list),
                 detail=f"{LABEL[metric]} {system} {mean:.2f} vs {reference} {reference_mean:.2f}"
                        f" (per trial: {', '.join(f'{ours[t]:.2f}/{theirs[t]:.2f}' for t in trials)})")


def gains(bleu: dict, p_values: dict, architecture: str, baseline: str, dataset: str,
          alpha: float, metric: str = "bleu") -> dict[str, Any]:
    """The gain of `dataset` over baseline without dropout against the same gain with dropout (trial t of one
    column against trial t of the other: the same seed); the p-values are each gain's paired bootstrap (no
    dropout, then dropout)."""
    statement = f"{dataset}'s gain over {baseline} is larger without dropout than with it"
    columns = {d: (architecture, d) for d in ("nodropout", "dropout")}
    cells = {d: (bleu.get((*c, dataset)), bleu.get((*c, baseline))) for d, c in columns.items()}
    for d, (ours, theirs) in cells.items():
        if not ours or not theirs:
            return _missing("gains", f"{architecture} {dataset}", statement,
                            f"{dataset if not ours else baseline} ({architecture} {d})")
    trials = sorted(set.intersection(*(set(o) & set(t) for o, t in cells.values())))
    if not trials:
        return _missing("gains", f"{architecture} {dataset}", statement, "a trial in both dropout settings")
    gain = {d: {t: ours[t] - theirs[t] for t in trials} for d, (ours, theirs) in cells.items()}
    mean = {d: statistics.fmean(g.values()) for d, g in gain.items()}
    p_list = {d: [p_values.get((*columns[d], dataset, baseline), {}).get(t) for t in trials] for d in columns}
    return _line("gains", f"{architecture} {dataset}", statement, metric=metric, value=round(mean["nodropout"], 2),
                 reference=round(mean["dropout"], 2), holds="yes" if mean["nodropout"] > mean["dropout"] else "no",
                 trials_holding=sum(gain["nodropout"][t] > gain["dropout"][t] for t in trials), trials=len(trials),
                 p_values=f"no dropout {p_text(p_list['nodropout'])} / dropout {p_text(p_list['dropout'])}",
                 significant_trials=f"{sum(p is not None and p < alpha for p in p_list['nodropout'])}"
                                    f" / {sum(p is not None and p < alpha for p in p_list['dropout'])}",
                 detail=f"{LABEL[metric]} gain without dropout {mean['nodropout']:+.2f},"
                        f" with dropout {mean['dropout']:+.2f}")


def vocabulary_claim(types: dict[str, int], baseline: str, kd: str, lang: str) -> dict[str, Any]:
    statement = f"{kd}'s target vocabulary is smaller than {baseline}'s, of the same order"
    if baseline not in types or kd not in types:
        return _missing("vocabulary", f"{lang} side", statement, f"the {lang} statistics of {baseline} and {kd}")
    ratio = types[kd] / types[baseline]
    return _line("vocabulary", f"{lang} side", statement, value=types[kd], reference=types[baseline],
                 holds="yes" if SAME_ORDER <= ratio < 1 else "no",
                 detail=f"types {kd} {types[kd]:,} vs {baseline} {types[baseline]:,} (ratio {ratio:.2f};"
                        f" same order: >= {SAME_ORDER})")


def claims(bleu: dict, p_values: dict, types: dict[str, int], spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every claim's line, in the paper's order."""
    arch, alpha, metric = spec["architecture"], spec["alpha"], spec.get("metric", "bleu")
    baseline, kd, combined = spec["baseline"], spec["kd"], spec["combined"]
    lines = []
    for dropout in ("dropout", "nodropout"):
        scope = f"{arch} {'with' if dropout == 'dropout' else 'without'} dropout"
        lines.append(comparison("kd>baseline", scope, f"{kd} beats {baseline}", bleu, p_values, (arch, dropout),
                                kd, baseline, alpha, metric=metric))
    for dropout in ("dropout", "nodropout"):
        scope = f"{arch} {'with' if dropout == 'dropout' else 'without'} dropout"
        lines.append(comparison("base+kd>=kd", scope, f"{combined} is at least as good as {kd}", bleu, p_values,
                                (arch, dropout), combined, kd, alpha, at_least=True, metric=metric))
    lines += [gains(bleu, p_values, arch, baseline, dataset, alpha, metric) for dataset in spec["augmented"]]
    lines.append(vocabulary_claim(types, baseline, kd, spec["lang"]))
    return lines


def markdown(lines: list[dict[str, Any]], alpha: float, metric: str = "bleu", metric_signature: str = "") -> str:
    rows = ["| Claim | Scope | Holds | Trials | Numbers | p (paired bootstrap) |", "|---|---|---|---|---|---|"]
    for line in lines:
        trials = f"{line['trials_holding']}/{line['trials']}" if line["trials"] != "" else ""
        rows.append(f"| {line['statement']} | {line['scope']} | {line['holds']} | {trials} | {line['detail']} |"
                    f" {line['p_values']} |")
    return ("\n".join(rows) + "\n\nThe paper's claims answered by this run: whether each holds on the means over"
            " trials, in how many trials it holds (trial t against trial t: the same seed), and sacrebleu's paired"
            f" bootstrap p-values of the comparison in each trial (below {alpha}: significant)."
            f" Scores and p-values: {DESCRIPTION[metric]}{f' ({metric_signature})' if metric_signature else ''}.\n")


def write(prefix: str | Path, lines: list[dict[str, Any]], alpha: float, metric: str = "bleu",
          metric_signature: str = "") -> None:
    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{prefix}.csv", "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, HEADER, lineterminator="\n")
        writer.writeheader()
        writer.writerows(lines)
    Path(f"{prefix}.md").write_text(markdown(lines, alpha, metric, metric_signature), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", nargs="*", action="extend", default=[], help="run files (scripts/evaluate.py)")
    parser.add_argument("--significance", nargs="*", action="extend", default=[],
                        help="paired bootstrap results (scripts/significance.py)")
    parser.add_argument("--stats", nargs="*", action="extend", default=[], help="corpus statistics TSVs")
    parser.add_argument("--spec", required=True, help='JSON: {"architecture", "baseline", "kd", "combined",'
                        ' "augmented": [...], "alpha", "lang", "metric"}')
    parser.add_argument("--prefix", required=True)
    args = parser.parse_args(argv)
    spec = json.loads(args.spec)
    try:
        metric = spec.get("metric", "bleu")
        bleu, p_values = load(args.run, args.significance, metric)
        lines = claims(bleu, p_values, vocabulary(args.stats, spec["lang"]), spec)
        metric_signature = signature(args.run, metric)
    except ResultFileError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    write(args.prefix, lines, spec["alpha"], metric, metric_signature)
    print(Path(f"{args.prefix}.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
