"""The paper's claims, answered from the workflow's own files: one line per claim and scope with its verdict
(supported, contradicted or undecided, over all its trials together), the effect with its confidence interval,
and as detail the numbers it rests on, the trials in which it holds and the paired bootstrap p-values (sacrebleu,
scripts/significance.py) of each trial's comparisons.

    python claims.py --run RUN.json ... --hyp TRANSLATIONS ... --ref TEST_REFERENCE --significance P.json ...
                     --stats STATS.tsv ... --spec JSON --prefix OUT

The claims (Gordon & Duh 2019, Sections 4-5), about the students of one architecture (`architecture`, the
paper's SMALL) with and without dropout, as configured under `claims:`:
  kd>baseline   the student trained on kd beats the one trained on the original data (baseline);
  base+kd>=kd   adding the original data to kd does not hurt: base+kd is worse than kd by less than `margin`;
  gains         the gains of each augmented dataset over baseline are larger without dropout than with it;
  vocabulary    kd's target vocabulary is smaller than the original's, of the same order (ratio >= 0.1).
A claim whose students are not in the files (a column missing from Table 3) is written as not answered, with
the reason. The numbers are the spec's `metric` (config evaluation.metric: the paper's tokenized BLEU by default,
or detokenized BLEU or chrF), the metric the paired bootstrap results compare; each line names it (`metric`),
and the Markdown says which it is, with its sacrebleu signature.

Verdicts (scripts/slkd/verdict.py): a comparison's effect is the mean over its trials of the metric's difference
(system − reference; for the gains, the gain without dropout − the gain with dropout), computed from the students'
test translations (`--hyp`: the BPE ones, or the detokenized ones for bleu_detok, as slkd.layout names
them, in any order) against `--ref`; its interval is a pooled paired bootstrap over the test sentences (`samples`
resamples drawn with `seed`, each applied to every trial's students) at `confidence`. Supported when the interval
lies above 0 (base+kd>=kd: above −`margin`), contradicted when it lies below, undecided otherwise. The vocabulary
claim is a count: supported or contradicted. Every run file needs its students' translations, and they must score
what it says.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from slkd import verdict as vd
from slkd.design import CLAIM_DEFAULTS, dropout_label
from slkd.layout import model_student, translation_student
from slkd.results import DESCRIPTION, LABEL, ResultFileError, key_results, p_text, read_result
from slkd.scoring import metric as metric_scorer
from slkd.scoring import read_references, read_translations

FORMAT = 3  # bump with any change of HEADER or of the lines' meaning: the rule's parameter, so claims are rewritten
HEADER = ["claim", "scope", "statement", "metric", "verdict", "effect", "ci_low", "ci_high", "margin", "value",
          "reference", "trials_holding", "trials", "p_values", "significant_trials", "detail"]
SAME_ORDER = 0.1  # "of the same order": the smaller vocabulary at least a tenth of the larger
NOT_ANSWERED = "not answered"


@dataclass(frozen=True)
class Bootstrap:
    """How the verdicts are reached (config `claims`, slkd.design.CLAIM_DEFAULTS): the metric's sacrebleu object,
    the resamples, their seed, the intervals' confidence and the non-inferiority margin (the metric's points)."""

    scorer: Any
    samples: int = CLAIM_DEFAULTS["samples"]
    seed: int = CLAIM_DEFAULTS["seed"]
    confidence: float = CLAIM_DEFAULTS["confidence"]
    margin: float = CLAIM_DEFAULTS["margin"]

    @classmethod
    def of(cls, spec: dict[str, Any]) -> Bootstrap:
        """The settings of a claims spec (claims_spec in rules/common.smk)."""
        return cls(metric_scorer(spec.get("metric", "bleu"), spec.get("tokenize", "none")),
                   **{key: spec.get(key, default) for key, default in CLAIM_DEFAULTS.items()})


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


def load_translations(hyps: list[str], ref: str, scorer: Any, metric: str = "bleu") -> dict:
    """The students' test translations as {(architecture, dropout, dataset): {trial: per-sentence statistics of
    the metric against `ref`}}, each keyed by the student that its path names."""
    references = read_references(ref)
    stats: dict[tuple[str, str, str], dict[int, np.ndarray]] = {}
    for path in hyps:
        try:
            student = translation_student(path)
        except ValueError as exc:
            raise ResultFileError(str(exc)) from exc
        key = (student.architecture, dropout_label(student.dropout), student.dataset)
        if student.trial in stats.get(key, {}):
            raise ResultFileError(f"{path}: a second translation of {' '.join(key)}, trial {student.trial}")
        lines = read_translations(path, metric)
        if len(lines) != len(references):
            raise ResultFileError(f"{path} has {len(lines)} lines but {ref} has {len(references)}")
        stats.setdefault(key, {})[student.trial] = vd.sentence_stats(scorer, lines, references)
    return stats


def check_translations(bleu: dict, stats: dict, scorer: Any, metric: str = "bleu") -> None:
    """ResultFileError unless the translations are exactly the run files' students, each scoring what its run file
    says (the run files round to 2 decimals)."""
    runs = {(*key, t) for key, trials in bleu.items() for t in trials}
    translated = {(*key, t) for key, trials in stats.items() for t in trials}
    for what, missing in (("translations", runs - translated), ("run files", translated - runs)):
        if missing:
            raise ResultFileError(f"no {what} of {', '.join(' '.join(map(str, m)) for m in sorted(missing))}")
    for key, trials in stats.items():
        for trial, sentences in trials.items():
            score = vd.corpus_score(scorer, sentences.sum(axis=0))
            if abs(score - bleu[key][trial]) > 0.005 + 1e-9:
                raise ResultFileError(f"the translations of {' '.join(key)}, trial {trial}, score {score:.2f}"
                                      f" {metric} but their run file says {bleu[key][trial]}: run the workflow"
                                      " again")


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
    return _line(claim, scope, statement, verdict=NOT_ANSWERED, detail=f"no results for {what}")


def _estimate(estimate: vd.Estimate, margin: float | None = None) -> dict[str, Any]:
    """A line's verdict fields: superiority (margin None) or non-inferiority with `margin`."""
    return {"verdict": vd.decide(estimate, margin or 0.0), "effect": round(estimate.effect, 2),
            "ci_low": round(estimate.low, 2), "ci_high": round(estimate.high, 2),
            "margin": "" if margin is None else margin}


def comparison(claim: str, scope: str, statement: str, bleu: dict, p_values: dict, stats: dict,
               cell: tuple[str, str], system: str, reference: str, alpha: float, bootstrap: Bootstrap,
               at_least: bool = False, metric: str = "bleu") -> dict[str, Any]:
    """`system` against `reference` in one (architecture, dropout) column: the verdict on "system beats
    reference" (with at_least, on "system is worse than reference by less than the margin") over the trials of
    both, the mean `metric` of each, the trials in which it holds and each trial's paired bootstrap p-value."""
    ours, theirs = bleu.get((*cell, system)), bleu.get((*cell, reference))
    if not ours or not theirs:
        return _missing(claim, scope, statement, f"{system if not ours else reference} ({' '.join(cell)})")
    trials = sorted(set(ours) & set(theirs))
    if not trials:
        return _missing(claim, scope, statement, f"a trial of both {system} and {reference} ({' '.join(cell)})")
    margin = bootstrap.margin if at_least else None
    estimate = vd.paired_effect(bootstrap.scorer, [(stats[(*cell, system)][t], stats[(*cell, reference)][t])
                                                for t in trials], bootstrap.samples, bootstrap.seed,
                             bootstrap.confidence)
    tests = p_values.get((*cell, system, reference), {})
    p_list = [tests.get(t) for t in trials]
    mean, reference_mean = statistics.fmean(ours[t] for t in trials), statistics.fmean(theirs[t] for t in trials)
    return _line(claim, scope, statement, metric=metric, **_estimate(estimate, margin), value=round(mean, 2),
                 reference=round(reference_mean, 2),
                 trials_holding=sum(round(ours[t] - theirs[t], 2) > -(margin or 0.0) for t in trials),
                 trials=len(trials), p_values=p_text(p_list),
                 significant_trials=sum(p is not None and p < alpha for p in p_list),
                 detail=f"{LABEL[metric]} {system} {mean:.2f} vs {reference} {reference_mean:.2f}"
                        f" (per trial: {', '.join(f'{ours[t]:.2f}/{theirs[t]:.2f}' for t in trials)})")


def gains(bleu: dict, p_values: dict, stats: dict, architecture: str, baseline: str, dataset: str, alpha: float,
          bootstrap: Bootstrap, metric: str = "bleu") -> dict[str, Any]:
    """The gain of `dataset` over baseline without dropout against the same gain with dropout (trial t of one
    column against trial t of the other: the same seed): the verdict on "larger without dropout" over the trials
    of all four students; the p-values are each gain's paired bootstrap (no dropout, then dropout)."""
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
    estimate = vd.gain_difference(bootstrap.scorer, [
        tuple(stats[(*columns[d], name)][t] for d in ("nodropout", "dropout") for name in (dataset, baseline))
        for t in trials], bootstrap.samples, bootstrap.seed, bootstrap.confidence)
    gain = {d: {t: ours[t] - theirs[t] for t in trials} for d, (ours, theirs) in cells.items()}
    mean = {d: statistics.fmean(g.values()) for d, g in gain.items()}
    p_list = {d: [p_values.get((*columns[d], dataset, baseline), {}).get(t) for t in trials] for d in columns}
    return _line("gains", f"{architecture} {dataset}", statement, metric=metric, **_estimate(estimate),
                 value=round(mean["nodropout"], 2), reference=round(mean["dropout"], 2),
                 trials_holding=sum(round(gain["nodropout"][t] - gain["dropout"][t], 2) > 0 for t in trials),
                 trials=len(trials),
                 p_values=f"no dropout {p_text(p_list['nodropout'])} / dropout {p_text(p_list['dropout'])}",
                 significant_trials=f"{sum(p is not None and p < alpha for p in p_list['nodropout'])}"
                                    f" / {sum(p is not None and p < alpha for p in p_list['dropout'])}",
                 detail=f"{LABEL[metric]} gain without dropout {mean['nodropout']:+.2f},"
                        f" with dropout {mean['dropout']:+.2f}")


def vocabulary_claim(types: dict[str, int], baseline: str, kd: str, lang: str) -> dict[str, Any]:
    """kd's target-side types against baseline's: a count, no sampling, so supported or contradicted."""
    statement = f"{kd}'s target vocabulary is smaller than {baseline}'s, of the same order"
    if baseline not in types or kd not in types:
        return _missing("vocabulary", f"{lang} side", statement, f"the {lang} statistics of {baseline} and {kd}")
    ratio = types[kd] / types[baseline]
    return _line("vocabulary", f"{lang} side", statement, value=types[kd], reference=types[baseline],
                 verdict=vd.SUPPORTED if SAME_ORDER <= ratio < 1 else vd.CONTRADICTED,
                 detail=f"types {kd} {types[kd]:,} vs {baseline} {types[baseline]:,} (ratio {ratio:.2f};"
                        f" same order: >= {SAME_ORDER})")


def claims(bleu: dict, p_values: dict, stats: dict, types: dict[str, int], spec: dict[str, Any],
           bootstrap: Bootstrap) -> list[dict[str, Any]]:
    """Every claim's line, in the paper's order."""
    arch, alpha, metric = spec["architecture"], spec["alpha"], spec.get("metric", "bleu")
    baseline, kd, combined = spec["baseline"], spec["kd"], spec["combined"]
    lines = []
    for dropout in ("dropout", "nodropout"):
        scope = f"{arch} {'with' if dropout == 'dropout' else 'without'} dropout"
        lines.append(comparison("kd>baseline", scope, f"{kd} beats {baseline}", bleu, p_values, stats,
                                (arch, dropout), kd, baseline, alpha, bootstrap, metric=metric))
    for dropout in ("dropout", "nodropout"):
        scope = f"{arch} {'with' if dropout == 'dropout' else 'without'} dropout"
        lines.append(comparison("base+kd>=kd", scope, f"{combined} is at least as good as {kd}", bleu, p_values,
                                stats, (arch, dropout), combined, kd, alpha, bootstrap, at_least=True,
                                metric=metric))
    lines += [gains(bleu, p_values, stats, arch, baseline, dataset, alpha, bootstrap, metric)
              for dataset in spec["augmented"]]
    lines.append(vocabulary_claim(types, baseline, kd, spec["lang"]))
    return lines


def _effect_text(line: dict[str, Any]) -> str:
    if line["effect"] == "":
        return ""
    text = f"{line['effect']:+.2f} [{line['ci_low']:+.2f}, {line['ci_high']:+.2f}]"
    return f"{text} (margin {line['margin']:g})" if line["margin"] != "" else text


def markdown(lines: list[dict[str, Any]], alpha: float, bootstrap: Bootstrap, sentences: int | None = None,
             metric: str = "bleu", metric_signature: str = "") -> str:
    level = f"{bootstrap.confidence * 100:g} %"
    rows = [f"| Claim | Scope | Verdict | Effect [{level} CI] | Trials holding | p (paired bootstrap) | Numbers |",
            "|---|---|---|---|---|---|---|"]
    for line in lines:
        trials = f"{line['trials_holding']}/{line['trials']}" if line["trials"] != "" else ""
        rows.append(f"| {line['statement']} | {line['scope']} | {line['verdict']} | {_effect_text(line)} | {trials} |"
                    f" {line['p_values']} | {line['detail']} |")
    label = LABEL[metric]
    return ("\n".join(rows) + "\n\nThe paper's claims answered by this run, each over all its trials together."
            f" Effect: the mean over trials of the {label} difference, system − reference (for the gains: the gain"
            " over baseline without dropout − the gain with dropout), each trial's students compared on the"
            f" same test set (trial t against trial t: the same seed). Its {level} interval comes from a pooled"
            f" paired bootstrap over the {f'{sentences} ' if sentences else ''}test sentences: {bootstrap.samples}"
            f" resamples of the sentences (seed {bootstrap.seed}), each resample applied to every trial's students,"
            " the effect recomputed on each; the interval is the resampled effects' percentile interval."
            " Verdict: *supported* when the whole interval is above 0, *contradicted* when it is below 0,"
            " *undecided* when it contains 0; \"at least as good\" is a non-inferiority claim with a margin of"
            f" {bootstrap.margin:g} {label} points: supported when the interval is above −{bootstrap.margin:g},"
            f" contradicted when below. The vocabulary claim is a count: supported or contradicted. The interval"
            " covers the sampling of test sentences only: the variation from one trial (seed) to another enters only"
            " through the trials present, averaged and not resampled, so with few trials it can understate how far"
            " another seed would move the effect. Trials holding: the trials in which the claim holds on the whole"
            f" test set; p: sacrebleu's paired bootstrap p-value of each trial's comparison (below {alpha}:"
            f" significant). Scores and p-values: {DESCRIPTION[metric]}"
            f"{f' ({metric_signature})' if metric_signature else ''}.\n")


def write(prefix: str | Path, lines: list[dict[str, Any]], alpha: float, bootstrap: Bootstrap,
          sentences: int | None = None, metric: str = "bleu", metric_signature: str = "") -> None:
    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{prefix}.csv", "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, HEADER, lineterminator="\n")
        writer.writeheader()
        writer.writerows(lines)
    Path(f"{prefix}.md").write_text(markdown(lines, alpha, bootstrap, sentences, metric, metric_signature),
                                    encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", nargs="*", action="extend", default=[], help="run files (scripts/evaluate.py)")
    parser.add_argument("--hyp", nargs="*", action="extend", default=[],
                        help="the run files' students' test translations (BPE; detokenized for bleu_detok)")
    parser.add_argument("--ref", required=True, help="the test reference they are scored against")
    parser.add_argument("--significance", nargs="*", action="extend", default=[],
                        help="paired bootstrap results (scripts/significance.py)")
    parser.add_argument("--stats", nargs="*", action="extend", default=[], help="corpus statistics TSVs")
    parser.add_argument("--spec", required=True, help='JSON: {"architecture", "baseline", "kd", "combined",'
                        ' "augmented": [...], "alpha", "lang", "metric", "tokenize", "margin", "confidence",'
                        ' "samples", "seed"}')
    parser.add_argument("--prefix", required=True)
    args = parser.parse_args(argv)
    spec = json.loads(args.spec)
    try:
        metric = spec.get("metric", "bleu")
        bootstrap = Bootstrap.of(spec)
        bleu, p_values = load(args.run, args.significance, metric)
        stats = load_translations(args.hyp, args.ref, bootstrap.scorer, metric)
        check_translations(bleu, stats, bootstrap.scorer, metric)
        lines = claims(bleu, p_values, stats, vocabulary(args.stats, spec["lang"]), spec, bootstrap)
        metric_signature = signature(args.run, metric)
    except ResultFileError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    sentences = len(read_references(args.ref))
    write(args.prefix, lines, spec["alpha"], bootstrap, sentences, metric, metric_signature)
    print(Path(f"{args.prefix}.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
