"""The paper's figures from fake run files: the CSVs, the images, and the data inside the matplotlib objects."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from figures import figure1, figure2, figure3, run_paths

pytestmark = pytest.mark.unit

SETTINGS = [("LARGE", "dropout"), ("SMALL", "nodropout")]  # given in this order, drawn SMALL first
DATASETS = ["base+kd", "baseline"]
GRID = {"bpe500-e256-l1-lstm-h256": 300_000, "bpe500-e512-l2-lstm-h512": 1_200_000,
        "bpe1000-e128-l1-lstm-h128": 90_000}
GRID_BLEU = {  # (architecture, dataset): BLEU of trial 1, trial 2
    ("bpe500-e256-l1-lstm-h256", "baseline"): (20.0, 22.0), ("bpe500-e256-l1-lstm-h256", "base+kd"): (23.0, 24.0),
    ("bpe500-e512-l2-lstm-h512", "baseline"): (25.0, 26.0), ("bpe500-e512-l2-lstm-h512", "base+kd"): (27.0, 27.5),
    ("bpe1000-e128-l1-lstm-h128", "baseline"): (15.0, 16.0), ("bpe1000-e128-l1-lstm-h128", "base+kd"): (18.0, 18.5),
}


def ppl(setting: int, dataset: int, trial: int, checkpoint: int) -> float:
    """The fake validation perplexity: falls with the checkpoint, 2 apart between the two trials."""
    return 100.0 / checkpoint + 10 * dataset + 5 * setting + 2 * trial


def write_run(path: Path, **fields: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    run = {"bleu": 30.0, "bleu_signature": "nrefs:1|tok:none", "chrf": 50.0, "sentences": 100, **fields}
    path.write_text(json.dumps({k: v for k, v in run.items() if v is not None}))
    return path


@pytest.fixture
def curve_runs(tmp_path: Path) -> dict[tuple[str, str, str, int], Path]:
    """2 settings x 2 datasets x 2 trials; trial 1 has checkpoints 1-3, trial 2 has 1-2 (and 3 without ppl_val)."""
    runs = {}
    for s, (arch, dropout) in enumerate(SETTINGS):
        for d, dataset in enumerate(DATASETS):
            for trial in (1, 2):
                curve = [{"checkpoint": c, "ppl_train": 1.0, "ppl_val": ppl(s, d, trial, c)}
                         for c in ((1, 2, 3) if trial == 1 else (1, 2))]
                if trial == 2:
                    curve.append({"checkpoint": 3, "ppl_train": 1.0, "ppl_val": None})
                path = tmp_path / f"runs/student/{arch}/{dataset}/{dropout}/ckpt3/trial{trial}.json"
                student = {"architecture": arch, "dataset": dataset, "dropout": dropout, "checkpoints": 3,
                           "trial": trial}
                runs[(dataset, arch, dropout, trial)] = write_run(path, curve=curve, student=student)
    return runs


@pytest.fixture
def grid_runs(tmp_path: Path) -> dict[tuple[str, str, int], Path]:
    """3 grid architectures x 2 datasets x 2 trials with known sizes and BLEU."""
    runs = {}
    for (arch, dataset), bleus in GRID_BLEU.items():
        for trial, bleu in enumerate(bleus, start=1):
            path = tmp_path / f"runs/grid/{arch}/{dataset}/trial{trial}.json"
            runs[(arch, dataset, trial)] = write_run(path, bleu=bleu, parameters=GRID[arch])
    return runs


def assert_outputs(prefix: Path, table: pd.DataFrame) -> None:
    """PNG and PDF written, and the CSV holds exactly the returned table."""
    assert (prefix.parent / f"{prefix.name}.png").read_bytes()[:4] == b"\x89PNG"
    assert (prefix.parent / f"{prefix.name}.pdf").read_bytes()[:4] == b"%PDF"
    assert (prefix.parent / f"{prefix.name}.png").stat().st_size > 1000
    pd.testing.assert_frame_equal(pd.read_csv(f"{prefix}.csv"), table, check_dtype=False)


def test_figure1_means_bands_and_panels(curve_runs: dict, tmp_path: Path) -> None:
    figs: list = []
    table = figure1(curve_runs, tmp_path / "fig/fig1", DATASETS, fig_out=figs)
    assert list(table.columns) == ["architecture", "dropout", "dataset", "checkpoint", "ppl_val_mean", "ppl_val_min",
                                   "ppl_val_max", "trials"]
    assert_outputs(tmp_path / "fig/fig1", table)
    # SMALL nodropout comes before LARGE dropout; datasets in the given order; checkpoint 3 is not shared
    expected = [(arch, dropout, dataset, c) for arch, dropout in reversed(SETTINGS) for dataset in DATASETS
                for c in (1, 2)]
    assert list(table[["architecture", "dropout", "dataset", "checkpoint"]].itertuples(index=False, name=None)) == \
        expected
    first = table.iloc[0]  # SMALL nodropout (s=1), base+kd (d=0), checkpoint 1: trials 107 and 109
    assert (first["ppl_val_mean"], first["ppl_val_min"], first["ppl_val_max"], first["trials"]) == (108, 107, 109, 2)
    for row in table.itertuples(index=False):
        s, d = SETTINGS.index((row.architecture, row.dropout)), DATASETS.index(row.dataset)
        values = [ppl(s, d, t, row.checkpoint) for t in (1, 2)]
        assert row.ppl_val_mean == pytest.approx(sum(values) / 2)
        assert (row.ppl_val_min, row.ppl_val_max) == (min(values), max(values))

    fig = figs[0]
    assert [ax.get_title() for ax in fig.axes] == ["SMALL, nodropout", "LARGE, dropout"]
    for ax in fig.axes:
        arch, dropout = ax.get_title().split(", ")
        assert ax.get_yscale() == "log" and ax.get_xlabel() == "checkpoint"
        assert ax.get_ylabel() == "validation perplexity (BPE)"
        assert [line.get_label() for line in ax.get_lines()] == DATASETS
        assert [t.get_text() for t in ax.get_legend().get_texts()] == DATASETS
        for line, band in zip(ax.get_lines(), ax.collections, strict=True):
            rows = table[(table["architecture"] == arch) & (table["dropout"] == dropout)
                         & (table["dataset"] == line.get_label())]
            np.testing.assert_allclose(line.get_xdata(), rows["checkpoint"])
            np.testing.assert_allclose(line.get_ydata(), rows["ppl_val_mean"])
            ys = band.get_paths()[0].vertices[:, 1]
            assert ys.min() == pytest.approx(rows["ppl_val_min"].min())
            assert ys.max() == pytest.approx(rows["ppl_val_max"].max())


def test_figure2_bleu_against_parameters(grid_runs: dict, tmp_path: Path) -> None:
    figs: list = []
    table = figure2(grid_runs, tmp_path / "fig2", fig_out=figs)
    assert list(table.columns) == ["architecture", "dataset", "parameters", "bleu_mean", "trials"]
    assert_outputs(tmp_path / "fig2", table)
    assert table.values.tolist() == [  # by size
        ["bpe1000-e128-l1-lstm-h128", "baseline", 90_000, 15.5, 2],
        ["bpe500-e256-l1-lstm-h256", "baseline", 300_000, 21.0, 2],
        ["bpe500-e512-l2-lstm-h512", "baseline", 1_200_000, 25.5, 2],
    ]
    ax = figs[0].axes[0]
    assert ax.get_xscale() == "log"
    assert [c.get_label() for c in ax.collections] == list(table["architecture"])
    for points, row in zip(ax.collections, table.itertuples(index=False), strict=True):
        np.testing.assert_allclose(points.get_offsets(), [[row.parameters, row.bleu_mean]])
    markers = {tuple(c.get_paths()[0].vertices.round(3).flatten()) for c in ax.collections}
    colours = {tuple(c.get_facecolor()[0]) for c in ax.collections}
    assert len(markers) == len(colours) == 3
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(table["architecture"])

    other = figure2(grid_runs, tmp_path / "fig2kd", dataset="base+kd")
    assert other["bleu_mean"].tolist() == [18.25, 23.5, 27.25] and set(other["dataset"]) == {"base+kd"}


def test_figure3_pairs_diagonal_and_names(grid_runs: dict, tmp_path: Path) -> None:
    only_base = write_run(tmp_path / "runs/grid/lonely/baseline/trial1.json", bleu=40.0, parameters=5)
    figs: list = []
    table = figure3({**grid_runs, ("lonely", "baseline", 1): only_base}, tmp_path / "fig3", fig_out=figs)
    assert list(table.columns) == ["architecture", "bleu_base", "bleu_other", "trials_base", "trials_other"]
    assert_outputs(tmp_path / "fig3", table)
    assert table.values.tolist() == [  # by name; "lonely" has no base+kd run
        ["bpe1000-e128-l1-lstm-h128", 15.5, 18.25, 2, 2],
        ["bpe500-e256-l1-lstm-h256", 21.0, 23.5, 2, 2],
        ["bpe500-e512-l2-lstm-h512", 25.5, 27.25, 2, 2],
    ]
    ax = figs[0].axes[0]
    np.testing.assert_allclose(ax.collections[0].get_offsets(), table[["bleu_base", "bleu_other"]].to_numpy())
    (diagonal,) = ax.get_lines()
    assert diagonal.get_linestyle() == "--"
    np.testing.assert_allclose(diagonal.get_xdata(), [15.5, 27.25])
    np.testing.assert_allclose(diagonal.get_ydata(), [15.5, 27.25])
    assert [t.get_text() for t in ax.texts] == list(table["architecture"])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("BLEU, baseline", "BLEU, base+kd")


def test_figure2_names_a_run_file_without_parameters(grid_runs: dict, tmp_path: Path) -> None:
    old = write_run(tmp_path / "old/trial2.json", bleu=21.0)
    grid_runs[("bpe500-e256-l1-lstm-h256", "baseline", 2)] = old
    with pytest.raises(ValueError, match=re.escape(f"{old} has no 'parameters'")):
        figure2(grid_runs, tmp_path / "fig2")
    assert not (tmp_path / "fig2.png").exists()
    old.write_text('{"bleu": 21.0, "parameters": ')
    with pytest.raises(ValueError, match=re.escape(f"{old}: not a readable run file")):
        figure3(grid_runs, tmp_path / "fig3")


def test_run_files_are_keyed_by_the_student_they_name(curve_runs: dict, tmp_path: Path) -> None:
    # keyed by the coordinates inside each file, whatever its path and the order given
    fields = ("dataset", "architecture", "dropout", "trial")
    assert run_paths([str(p) for p in reversed(curve_runs.values())], fields) == {
        k: str(p) for k, p in curve_runs.items()}
    twin = tmp_path / "elsewhere.json"
    twin.write_text(next(iter(curve_runs.values())).read_text())
    with pytest.raises(ValueError, match="are both"):
        run_paths([str(next(iter(curve_runs.values()))), str(twin)], fields)
    anonymous = write_run(tmp_path / "old.json")
    with pytest.raises(ValueError, match=re.escape(f"{anonymous}: names no student")):
        run_paths([str(anonymous)], ("dataset",))


def test_cli_figure1_matches_the_function(curve_runs: dict, tmp_path: Path) -> None:
    specs = ["--run", *map(str, curve_runs.values())]
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts/figures.py"), "figure1", *specs, "--dataset", "base+kd",
         "--dataset", "baseline", "--prefix", str(tmp_path / "cli/fig1")],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "ppl_val_mean" in proc.stdout
    expected = figure1(curve_runs, tmp_path / "direct", DATASETS)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "cli/fig1.csv"), expected, check_dtype=False)
    assert (tmp_path / "cli/fig1.pdf").stat().st_size > 0
