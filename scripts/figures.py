"""The paper's figures from run files: PREFIX.png, PREFIX.pdf and PREFIX.csv (exactly the plotted series).

    python figures.py figure1 --run DATASET:ARCH:DROPOUT:TRIAL=RUN.json ... [--dataset D ...] --prefix results/fig1
    python figures.py figure2 --run GRIDNAME:DATASET:TRIAL=RUN.json ... [--dataset baseline] --prefix results/fig2
    python figures.py figure3 --run GRIDNAME:DATASET:TRIAL=RUN.json ... [--base baseline] [--other base+kd]
                              --prefix results/fig3

Figure 1: validation perplexity per checkpoint, one panel per (architecture, dropout), one line per dataset (mean
over trials, band from min to max). Figure 2: the grid search, test BLEU against the number of parameters, one
marker per grid architecture. Figure 3: per grid architecture, test BLEU trained on the distilled data against
BLEU trained on the baseline data, with the diagonal. Dataset names may hold "+" and "-" but not ":".
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
from slkd.results import ResultFileError, key_results

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

SETTING_ORDER = [("SMALL", "dropout"), ("SMALL", "nodropout"), ("LARGE", "dropout")]
MARKERS = ["o", "s", "D", "^", "v", "P", "X", "*", "h", "<", ">", "p"]
CURVE_COLUMNS = ["architecture", "dropout", "dataset", "checkpoint", "ppl_val_mean", "ppl_val_min", "ppl_val_max",
                 "trials"]
GRID_COLUMNS = ["architecture", "dataset", "parameters", "bleu_mean", "trials"]
PAIR_COLUMNS = ["architecture", "bleu_base", "bleu_other", "trials_base", "trials_other"]


class RunFileError(ValueError):
    """A run file that cannot be read or lacks what a figure needs; the message names the file."""


GRID_KEY = ("architecture", "dataset", "trial")  # a grid section's runs share dropout and budget


def run_paths(paths: list[str], fields: tuple[str, ...]) -> dict[tuple[Any, ...], str]:
    """{(the student's `fields`...): path} of run files, keyed by the coordinates each names."""
    return {key: path for key, (path, _result) in key_results(paths, fields).items()}


def read_run(path: str | Path) -> dict[str, Any]:
    """One run file (the JSON evaluate.py writes)."""
    try:
        run = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunFileError(f"{path}: not a readable run file ({exc})") from exc
    if not isinstance(run, dict):
        raise RunFileError(f"{path}: not a run file (a JSON object was expected)")
    return run


def need(run: dict[str, Any], key: str, path: str | Path) -> Any:
    """run[key], or an error naming the file when it is missing or null."""
    if run.get(key) is None:
        raise RunFileError(f"{path} has no {key!r}" + (
            " (written before evaluate.py recorded it, or the model's log lacks 'Total # of parameters';"
            " re-run evaluate)" if key == "parameters" else ""))
    return run[key]


def val_curve(path: str | Path) -> dict[int, float]:
    """{checkpoint: validation perplexity} of one run file."""
    curve = need(read_run(path), "curve", path)
    try:
        return {int(p["checkpoint"]): float(p["ppl_val"]) for p in curve if p.get("ppl_val") is not None}
    except (KeyError, TypeError, ValueError) as exc:
        raise RunFileError(f"{path}: malformed 'curve' ({exc!r})") from exc


def setting_order(settings: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """SMALL dropout, SMALL nodropout, LARGE dropout (those present), then any others sorted."""
    return [s for s in SETTING_ORDER if s in settings] + sorted(settings - set(SETTING_ORDER))


def mean(values: list[float]) -> float | int:
    """The mean, as an int when it is a whole number (a parameter count)."""
    value = statistics.fmean(values)
    return int(value) if value.is_integer() and all(isinstance(v, int) for v in values) else value


def save(fig: Figure, table: pd.DataFrame, prefix: str | Path, fig_out: list[Figure] | None) -> pd.DataFrame:
    """PREFIX.png, PREFIX.pdf and PREFIX.csv; the figure is closed (and handed to fig_out, if given)."""
    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(f"{prefix}.csv", index=False)
    fig.savefig(f"{prefix}.png", dpi=150, bbox_inches="tight")
    fig.savefig(f"{prefix}.pdf", bbox_inches="tight", metadata={"CreationDate": None})
    if fig_out is not None:
        fig_out.append(fig)
    plt.close(fig)
    return table


def curve_table(runs: Mapping[tuple[str, str, str, int], str | Path], datasets: list[str]) -> pd.DataFrame:
    """Figure 1's series: per setting and dataset, mean/min/max validation perplexity at the shared checkpoints."""
    cells: dict[tuple[str, str, str], list[str | Path]] = {}
    for (dataset, arch, dropout, _trial), path in sorted(runs.items(), key=lambda item: item[0][3]):
        cells.setdefault((arch, dropout, dataset), []).append(path)
    rows = []
    for arch, dropout in setting_order({(a, d) for a, d, _ in cells}):
        for dataset in datasets:
            paths = cells.get((arch, dropout, dataset))
            if not paths:
                continue
            curves = [val_curve(p) for p in paths]
            shared = sorted(set.intersection(*(set(c) for c in curves)))
            if not shared:
                names = ", ".join(map(str, paths))
                raise RunFileError(f"no checkpoint with a validation perplexity is shared by {names}")
            for ckpt in shared:
                values = [c[ckpt] for c in curves]
                rows.append([arch, dropout, dataset, ckpt, statistics.fmean(values), min(values), max(values),
                             len(values)])
    return pd.DataFrame(rows, columns=CURVE_COLUMNS)


def plot_curves(table: pd.DataFrame, datasets: list[str]) -> Figure:
    """One panel per (architecture, dropout), one line and min-max band per dataset, log-scale y."""
    settings = list(dict.fromkeys(zip(table["architecture"], table["dropout"], strict=True)))
    ncols = min(len(settings), 3)
    nrows = math.ceil(len(settings) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.6 * nrows + 0.4), sharey=True, squeeze=False)
    colours = matplotlib.colormaps["tab10" if len(datasets) <= 10 else "tab20"]
    for ax, (arch, dropout) in zip(axes.flat, settings, strict=False):
        panel = table[(table["architecture"] == arch) & (table["dropout"] == dropout)]
        for index, dataset in enumerate(datasets):
            line = panel[panel["dataset"] == dataset]
            if line.empty:
                continue
            colour = colours(index % colours.N)
            ax.plot(line["checkpoint"], line["ppl_val_mean"], marker="o", markersize=3, color=colour, label=dataset)
            ax.fill_between(line["checkpoint"], line["ppl_val_min"], line["ppl_val_max"], color=colour, alpha=0.2,
                            linewidth=0)
        ax.set_yscale("log")
        ax.set_title(f"{arch}, {dropout}")
        ax.set_xlabel("checkpoint")
        ax.set_ylabel("validation perplexity (BPE)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize="small")
    for ax in list(axes.flat)[len(settings):]:
        fig.delaxes(ax)
    fig.suptitle("Figure 1: validation perplexity (mean over trials; band: min to max)")
    fig.tight_layout()
    return fig


def figure1(
    runs: Mapping[tuple[str, str, str, int], str | Path], prefix: str | Path, datasets: list[str] | None = None,
    fig_out: list[Figure] | None = None,
) -> pd.DataFrame:
    """Validation curves; runs maps (dataset, architecture, dropout, trial) to a run file. Returns the CSV's table."""
    if datasets is None:
        datasets = list(dict.fromkeys(key[0] for key in runs))
    for dataset in datasets:
        if not any(key[0] == dataset for key in runs):
            raise ValueError(f"figure 1: no run file for dataset {dataset!r}")
    table = curve_table(runs, datasets)
    if table.empty:
        raise ValueError("figure 1: no run files")
    return save(plot_curves(table, datasets), table, prefix, fig_out)


def grid_cells(grid_runs: Mapping[tuple[str, str, int], str | Path]) -> dict[tuple[str, str], list[str | Path]]:
    """{(grid architecture, dataset): [run file per trial, by trial]}."""
    cells: dict[tuple[str, str], list[str | Path]] = {}
    for (arch, dataset, _trial), path in sorted(grid_runs.items(), key=lambda item: item[0][2]):
        cells.setdefault((arch, dataset), []).append(path)
    return cells


def mean_of(paths: list[str | Path], key: str) -> float | int:
    """The mean over trials of one number of the run files."""
    return mean([need(read_run(p), key, p) for p in paths])


def grid_table(grid_runs: Mapping[tuple[str, str, int], str | Path], dataset: str) -> pd.DataFrame:
    """Figure 2's points: per grid architecture, mean parameters and mean test BLEU (by size, then name)."""
    rows = [[arch, dataset, mean_of(paths, "parameters"), mean_of(paths, "bleu"), len(paths)]
            for (arch, ds), paths in grid_cells(grid_runs).items() if ds == dataset]
    if not rows:
        raise ValueError(f"figure 2: no grid run file for dataset {dataset!r}")
    rows.sort(key=lambda row: (row[2], row[0]))
    return pd.DataFrame(rows, columns=GRID_COLUMNS)


def plot_grid(table: pd.DataFrame, dataset: str) -> Figure:
    """Test BLEU against the number of parameters (log x), one marker and colour per architecture."""
    fig, ax = plt.subplots(figsize=(8.0, 4.8))
    colours = matplotlib.colormaps["tab10"]
    for index, row in enumerate(table.itertuples(index=False)):
        ax.scatter([row.parameters], [row.bleu_mean], marker=MARKERS[index % len(MARKERS)],
                   color=colours(index % colours.N), s=40, label=row.architecture)
    ax.set_xscale("log")
    ax.set_xlabel("number of parameters")
    ax.set_ylabel("test BLEU")
    ax.set_title(f"Figure 2: grid search, test BLEU against model size ({dataset})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.02, 1.0), ncol=1 + len(table) // 25)
    fig.tight_layout()
    return fig


def figure2(
    grid_runs: Mapping[tuple[str, str, int], str | Path], prefix: str | Path, dataset: str = "baseline",
    fig_out: list[Figure] | None = None,
) -> pd.DataFrame:
    """The grid search; grid_runs maps (grid architecture, dataset, trial) to a run file. Returns the CSV's table."""
    table = grid_table(grid_runs, dataset)
    return save(plot_grid(table, dataset), table, prefix, fig_out)


def pair_table(grid_runs: Mapping[tuple[str, str, int], str | Path], base: str, other: str) -> pd.DataFrame:
    """Figure 3's points: per grid architecture trained on both datasets, mean BLEU on each (by name)."""
    cells = grid_cells(grid_runs)
    archs = sorted({a for a, d in cells if d == base} & {a for a, d in cells if d == other})
    if not archs:
        raise ValueError(f"figure 3: no grid architecture has run files for both {base!r} and {other!r}")
    rows = [[arch, mean_of(cells[(arch, base)], "bleu"), mean_of(cells[(arch, other)], "bleu"),
             len(cells[(arch, base)]), len(cells[(arch, other)])] for arch in archs]
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def plot_pairs(table: pd.DataFrame, base: str, other: str) -> Figure:
    """BLEU on `other` against BLEU on `base`, the dashed diagonal, each point named."""
    fig, ax = plt.subplots(figsize=(5.8, 5.6))
    ax.scatter(table["bleu_base"], table["bleu_other"], s=25, color="tab:blue", zorder=3)
    for row in table.itertuples(index=False):
        ax.annotate(row.architecture, (row.bleu_base, row.bleu_other), xytext=(3, 3), textcoords="offset points",
                    fontsize=6)
    values = [*table["bleu_base"], *table["bleu_other"]]
    low, high = min(values), max(values)
    ax.plot([low, high], [low, high], linestyle="--", color="grey", linewidth=1, label="y = x")
    pad = 0.05 * (high - low) or 1.0
    ax.set_xlim(low - pad, high + pad)
    ax.set_ylim(low - pad, high + pad)
    ax.set_aspect("equal")
    ax.set_xlabel(f"BLEU, {base}")
    ax.set_ylabel(f"BLEU, {other}")
    ax.set_title(f"Figure 3: test BLEU per architecture, {other} against {base}", fontsize="medium")
    ax.legend(fontsize="small", loc="upper left")
    fig.tight_layout()
    return fig


def figure3(
    grid_runs: Mapping[tuple[str, str, int], str | Path], prefix: str | Path, base: str = "baseline",
    other: str = "base+kd", fig_out: list[Figure] | None = None,
) -> pd.DataFrame:
    """Grid architectures trained on `base` and on `other`; grid_runs as for figure2. Returns the CSV's table."""
    table = pair_table(grid_runs, base, other)
    return save(plot_pairs(table, base, other), table, prefix, fig_out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("figure", choices=["figure1", "figure2", "figure3"])
    parser.add_argument("--run", nargs="*", action="extend", default=[], metavar="RUN.json",
                        help="run files (scripts/evaluate.py), each naming its student")
    parser.add_argument("--dataset", action="append", default=[],
                        help="figure1: line order (default: as given); figure2: the dataset (default: baseline)")
    parser.add_argument("--base", default="baseline", help="figure3: x axis dataset")
    parser.add_argument("--other", default="base+kd", help="figure3: y axis dataset")
    parser.add_argument("--prefix", required=True)
    args = parser.parse_args(argv)
    try:
        if args.figure == "figure1":
            table = figure1(run_paths(args.run, ("dataset", "architecture", "dropout", "trial")), args.prefix,
                            args.dataset or None)
        elif args.figure == "figure2":
            if len(args.dataset) > 1:
                parser.error("figure2 takes at most one --dataset")
            table = figure2(run_paths(args.run, GRID_KEY), args.prefix, *args.dataset)
        else:
            table = figure3(run_paths(args.run, GRID_KEY), args.prefix, args.base, args.other)
    except (ValueError, ResultFileError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
