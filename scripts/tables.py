"""The paper's tables from result files: CSV (every number, per-trial values), Markdown and LaTeX.

    python tables.py table1 --run DATASET:ARCH:DROPOUT:TRIAL=RUN.json ... [--significance D:A:DR:T=P.json ...]
                     [--alpha 0.05] --prefix results/table1
    python tables.py table3 --run ... [--significance ...] --column ARCH:DROPOUT ... --prefix results/table3
    python tables.py table2 --stats DATASET=STATS.tsv ... --lang en --prefix results/table2

Table 1: test BLEU per trial and mean ± sd (rows: datasets). Table 3: mean ± sd over trials of test BLEU and
BPE train perplexity, one column pair per (architecture, dropout). Table 2: tokens and vocabulary of each
dataset's target side. With --significance (scripts/significance.py: paired bootstrap against the baseline
dataset's student of the same trial), the CSV holds every p-value and a BLEU cell whose p is below alpha in
every trial is marked with a dagger; in Table 1 each trial's cell is marked on its own.

The spec's `metric` (config evaluation.metric) is what the tables show in place of the paper's tokenized BLEU
(`bleu`, the default; `bleu_detok`, `chrf`: each a run file's key, with its `<key>_signature`), and the paired
bootstrap results must be of that metric; `metric_columns` (evaluation.columns) are shown beside it. With the
defaults the tables are the paper's; otherwise each CSV gains a `metric` column (what its p-values compare) and
the mean, sd, per-trial values and signature of each metric shown, and the captions name every metric shown
with its signature.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from slkd.results import DESCRIPTION, LABEL, ResultFileError, key_results, p_text


def mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def fmt(mean: float, sd: float, digits: int = 2) -> str:
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


def load_runs(paths: list[str | Path]) -> dict[tuple[str, str, str], dict[int, dict[str, Any]]]:
    """{(dataset, architecture, dropout): {trial: result}} of run (or significance) files."""
    runs: dict[tuple[str, str, str], dict[int, dict[str, Any]]] = defaultdict(dict)
    keyed = key_results(paths, ("dataset", "architecture", "dropout", "checkpoints", "trial"))
    for (dataset, arch, dropout, _checkpoints, trial), (_path, result) in keyed.items():
        runs[(dataset, arch, dropout)][trial] = result
    return runs


DAGGER = "†"


def load_significance(paths: list[str | Path], metric: str = "bleu") -> dict[tuple[str, str, str], dict[int, float]]:
    """{(dataset, architecture, dropout): {trial: p-value}} of paired bootstrap results, each checked to compare
    `metric` (a result of another metric, or of none named: written for another configuration)."""
    tests = load_runs(paths)
    for cell in tests.values():
        for test in cell.values():
            if test.get("metric") != metric:
                raise ResultFileError(f"the paired bootstrap of {test.get('model')} compares"
                                      f" {test.get('metric') or 'an unnamed metric'}, not {metric}"
                                      " (evaluation.metric): run the workflow again, which rewrites it")
    return {key: {trial: test["p_value"] for trial, test in cell.items()} for key, cell in tests.items()}


def metric_values(cell: dict[int, dict[str, Any]], trials: list[int], metric: str) -> list[float]:
    """The metric of each trial's run file; ResultFileError when a run file has none (detokenized BLEU is scored
    only when the configuration shows it)."""
    values = []
    for trial in trials:
        value = cell[trial].get(metric)
        if value is None:
            raise ResultFileError(f"the run file of {cell[trial].get('model')} has no {metric} (evaluation.metric,"
                                  " evaluation.columns): run the workflow again with this configuration")
        values.append(value)
    return values


def signatures(cell: dict[int, dict[str, Any]], metrics: list[str]) -> str:
    """`BLEU: <signature>. chrF: <signature>.` of the metrics shown (from a run file of the table)."""
    first = cell[min(cell)]
    return " ".join(f"{LABEL[m]}: {first[f'{m}_signature']}." for m in metrics)


def load_stats(paths: list[str | Path]) -> dict[str, Path]:
    """{corpus: stats file} of scripts/corpus_stats.py's TSVs, each named by its `corpus` column, in order."""
    stats: dict[str, Path] = {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            names = {row["corpus"] for row in csv.DictReader(handle, delimiter="\t")}
        if len(names) != 1:
            raise ResultFileError(f"{path}: expected the rows of one corpus, found {sorted(names) or 'none'}")
        stats[names.pop()] = Path(path)
    return stats


def marked(text: str, p_values: list[float | None], alpha: float) -> str:
    """The cell's text with a dagger when every trial's p-value is below alpha (none compared: unmarked)."""
    return text + DAGGER if p_values and all(p is not None and p < alpha for p in p_values) else text


def significance_note(tests: dict, alpha: float, per_trial: bool = False, metric: str = "bleu") -> str:
    if not tests:
        return ""
    when = "" if per_trial else " in every trial"
    return (f" {DAGGER}: {LABEL[metric]} differs from the baseline dataset's student of the same architecture,"
            f" dropout and trial with p < {alpha}{when} (sacrebleu paired bootstrap).")


def write_all(
    prefix: str | Path, header: list[str], rows: list[list[Any]], text_header: list[str], text_rows: list[list[str]],
    caption: str,
) -> None:
    """PREFIX.csv (every number), PREFIX.md and PREFIX.tex (the table as a reader sees it, with its caption)."""
    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{prefix}.csv", "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    Path(f"{prefix}.md").write_text(markdown(text_header, text_rows, caption), encoding="utf-8")
    Path(f"{prefix}.tex").write_text(latex(text_header, text_rows, caption), encoding="utf-8")


def markdown(header: list[str], rows: list[list[str]], caption: str) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + f"\n\n{caption}\n"


def latex(header: list[str], rows: list[list[str]], caption: str) -> str:
    def esc(text: str) -> str:
        return text.replace("±", r"$\pm$").replace("_", r"\_").replace("%", r"\%")

    body = [" & ".join(esc(h) for h in header) + r" \\ \midrule"]
    body += [" & ".join(esc(c) for c in row) + r" \\" for row in rows]
    return (
        "\\begin{table}[t]\n\\centering\n\\begin{tabular}{l" + "r" * (len(header) - 1) + "}\n\\toprule\n"
        + "\n".join(body) + "\n\\bottomrule\n\\end{tabular}\n"
        + f"\\caption{{{esc(caption)}}}\n\\end{{table}}\n"
    )


def table1(
    runs: dict, datasets: list[str], column: tuple[str, str], prefix: str | Path, tests: dict | None = None,
    alpha: float = 0.05, metric: str = "bleu", columns: list[str] | None = None,
) -> None:
    """Test BLEU (or `metric`) per trial and mean ± sd, as the paper's Table 1; p-values against the baseline per
    trial; the mean ± sd of each of `columns` beside it."""
    tests, columns = tests or {}, columns or []
    trials = sorted({t for cell in runs.values() for t in cell})
    header = ["dataset", *[f"trial_{t}" for t in trials], "avg", "sd", *[f"p_trial_{t}" for t in trials],
              f"{metric}_signature"]
    extended = metric != "bleu" or bool(columns)  # the paper's table has no more columns
    if extended:
        header += ["metric", *[f"{m}_{field}" for m in columns
                               for field in (*[f"trial_{t}" for t in trials], "avg", "sd", "signature")]]
    csv_rows, text_rows = [], []
    for dataset in datasets:
        cell = runs[(dataset, *column)]
        scores = metric_values(cell, trials, metric)
        p_values = [tests.get((dataset, *column), {}).get(t) for t in trials]
        avg, sd = mean_sd(scores)
        csv_row = [dataset, *scores, round(avg, 2), round(sd, 2), *["" if p is None else p for p in p_values],
                   cell[trials[0]][f"{metric}_signature"]]
        text_row = [dataset, *[marked(f"{b:.2f}", [p], alpha) for b, p in zip(scores, p_values, strict=True)],
                    fmt(avg, sd)]
        if extended:
            csv_row.append(metric)
        for other in columns:
            values = metric_values(cell, trials, other)
            (other_avg, other_sd) = mean_sd(values)
            csv_row += [*values, round(other_avg, 2), round(other_sd, 2), cell[trials[0]][f"{other}_signature"]]
            text_row.append(fmt(other_avg, other_sd))
        csv_rows.append(csv_row)
        text_rows.append(text_row)
    text_header = ["Dataset", *[f"Trial {t}" for t in trials], "Avg ± sd", *[f"{LABEL[m]} avg ± sd" for m in columns]]
    beside = f" Beside it: the mean ± sd of {', '.join(LABEL[m] for m in columns)}." if columns else ""
    first = runs[(datasets[0], *column)]
    caption = (f"Table 1: test {LABEL[metric]} of {column[0]} students ({column[1]}) trained on each dataset, per"
               f" trial (seed), and mean ± sd.{beside}{significance_note(tests, alpha, True, metric)}"
               f" {signatures(first, [metric, *columns])}")
    write_all(prefix, header, csv_rows, text_header, text_rows, caption)


TABLE3_HEADER = ["dataset", "architecture", "dropout", "trials", "bleu_mean", "bleu_sd", "ppl_train_mean",
                 "ppl_train_sd", "chrf_mean", "bleu_per_trial", "ppl_train_per_trial", "p_per_trial",
                 "significant_trials", "bleu_signature", "chrf_signature"]


def table3(
    runs: dict, datasets: list[str], columns: list[tuple[str, str]], prefix: str | Path, tests: dict | None = None,
    alpha: float = 0.05, metric: str = "bleu", metric_columns: list[str] | None = None,
) -> None:
    """Mean ± sd over trials of test BLEU (or `metric`) and BPE train perplexity per (architecture, dropout), the
    metric marked where it differs from the baseline's in every trial, `metric_columns` beside it."""
    tests, shown = tests or {}, [metric, *(metric_columns or [])]
    # the paper's columns, then (other metrics shown) what the p-values compare and each metric's numbers
    extra = [f"{m}_{field}" for m in shown if m != "bleu" for field in ("mean", "sd", "per_trial", "signature")]
    header = TABLE3_HEADER + (["metric", *[f for f in extra if f not in TABLE3_HEADER]] if shown != ["bleu"] else [])
    csv_rows, text_rows = [], []
    for dataset in datasets:
        text_row = [dataset]
        for column in columns:
            cell = runs[(dataset, *column)]
            trials = sorted(cell)
            bleus = [cell[t]["bleu"] for t in trials]
            ppls = [cell[t]["ppl_train"] for t in trials]
            chrfs = [cell[t]["chrf"] for t in trials]
            compared = (dataset, *column) in tests
            p_values = [tests.get((dataset, *column), {}).get(t) for t in trials] if compared else []
            (bm, bs), (pm, ps) = mean_sd(bleus), mean_sd(ppls)
            numbers = {m: metric_values(cell, trials, m) for m in shown}
            row = dict(zip(TABLE3_HEADER, [
                dataset, *column, len(trials), round(bm, 2), round(bs, 2), round(pm, 2), round(ps, 2),
                round(statistics.fmean(chrfs), 2), ";".join(f"{b:.2f}" for b in bleus),
                ";".join(f"{p:.3f}" for p in ppls), p_text(p_values),
                sum(p is not None and p < alpha for p in p_values) if compared else "",
                cell[trials[0]]["bleu_signature"], cell[trials[0]]["chrf_signature"]], strict=True))
            row["metric"] = metric
            for m, values in numbers.items():
                mean, sd = mean_sd(values)
                row.update({f"{m}_mean": round(mean, 2), f"{m}_sd": round(sd, 2),
                            f"{m}_per_trial": ";".join(f"{v:.2f}" for v in values),
                            f"{m}_signature": cell[trials[0]][f"{m}_signature"]})
            csv_rows.append([row[field] for field in header])
            text_row.append(marked(fmt(*mean_sd(numbers[metric])), p_values, alpha))
            text_row += [fmt(*mean_sd(numbers[m])) for m in shown[1:]]
            text_row.append(fmt(pm, ps))
        text_rows.append(text_row)
    text_header = ["Dataset"]
    for arch, dropout in columns:
        label = f"{arch} {'w/ dropout' if dropout == 'dropout' else 'no dropout'}"
        text_header += [*[f"{label} {LABEL[m]}" for m in shown], f"{label} PPL_train"]
    beside = f", beside it {', '.join(DESCRIPTION[m].replace('test ', '') for m in shown[1:])}," if shown[1:] else ""
    caption = (f"Table 3: {DESCRIPTION[metric]} (beam 5){beside} and BPE train perplexity at the best checkpoint,"
               f" mean ± sd over trials.{significance_note(tests, alpha, metric=metric)}"
               f" {signatures(runs[(datasets[0], *columns[0])], shown)}")
    write_all(prefix, header, csv_rows, text_header, text_rows, caption)


def table2(stats: dict[str, Path], lang: str, prefix: str | Path) -> None:
    """Tokens and vocabulary of each dataset's target side."""
    header = ["dataset", "lang", "lines", "tokens", "types"]
    csv_rows, text_rows = [], []
    for dataset, path in stats.items():
        with open(path, encoding="utf-8") as handle:
            row = next(r for r in csv.DictReader(handle, delimiter="\t") if r["lang"] == lang)
        csv_rows.append([dataset, lang, int(row["lines"]), int(row["tokens"]), int(row["types"])])
        text_rows.append([dataset, f"{int(row['tokens']):,}", f"{int(row['types']):,}"])
    text_header = ["Dataset", "# Tokens", "# Vocab"]
    caption = f"Table 2: number of tokens and vocabulary size of each training dataset's target side ({lang})."
    write_all(prefix, header, csv_rows, text_header, text_rows, caption)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("table", choices=["table1", "table2", "table3"])
    parser.add_argument("--run", nargs="*", action="extend", default=[], metavar="RUN.json",
                        help="run files (scripts/evaluate.py), each naming its student")
    parser.add_argument("--significance", nargs="*", action="extend", default=[], metavar="P.json",
                        help="paired bootstrap results against the baseline (scripts/significance.py)")
    parser.add_argument("--spec", default="{}", help='the table as JSON: {"datasets": [rows, in order],'
                        ' "columns": [{"architecture": A, "dropout": "dropout"|"nodropout"}], "alpha": 0.05,'
                        ' "metric": "bleu", "metric_columns": []}')
    parser.add_argument("--stats", nargs="*", action="extend", default=[], metavar="STATS.tsv",
                        help="table2: corpus statistics (scripts/corpus_stats.py), one per dataset, in row order")
    parser.add_argument("--lang", default="en")
    parser.add_argument("--prefix", required=True)
    args = parser.parse_args(argv)
    try:
        if args.table == "table2":
            table2(load_stats(args.stats), args.lang, args.prefix)
        else:
            spec = json.loads(args.spec)
            columns = [(c["architecture"], c["dropout"]) for c in spec["columns"]]
            metric, shown = spec.get("metric", "bleu"), spec.get("metric_columns", [])
            runs, tests = load_runs(args.run), load_significance(args.significance, metric)
            if args.table == "table1":
                table1(runs, spec["datasets"], columns[0], args.prefix, tests, spec["alpha"], metric, shown)
            else:
                table3(runs, spec["datasets"], columns, args.prefix, tests, spec["alpha"], metric, shown)
    except ResultFileError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    print(Path(f"{args.prefix}.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
