"""The Transformer backend (Sockeye 3 on PyTorch) through the whole workflow: config/test-tiny-transformer.yaml
trains Transformer teachers in both directions, distils kd, best-2 and bt with them, and trains Table 3's two
columns, LSTM students (Sockeye 1.18) and Transformer students (Sockeye 3), on the same distilled data."""

from __future__ import annotations

import csv
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from conftest import REPO, TINY_TRANSFORMER, load_config

DATASETS = ["baseline", "kd", "base+kd", "base+kd+bt", "base+best-2"]
CONFIG = load_config(*TINY_TRANSFORMER)


def run_file(outdir: Path, arch: str, dataset: str) -> dict:
    return json.loads((outdir / f"results/runs/student/{arch}/{dataset}/dropout/ckpt3/trial1.json").read_text())


def logged_parameters(model: Path) -> int:
    """The count Sockeye 3 logs: `# of parameters: N | trainable: ...`."""
    counts = re.findall(r"(?<!Total )# of parameters: (\d+) \|", (model / "log").read_text())
    assert counts, f"{model}/log has no parameter count"
    return int(counts[-1])


@pytest.mark.workflow
def test_table3_cells_equal_the_run_files(tiny_transformer_run: Path) -> None:
    rows = list(csv.DictReader(open(tiny_transformer_run / "results/table3.csv")))
    assert [(r["dataset"], r["architecture"]) for r in rows] == [
        (d, a) for d in DATASETS for a in ("SMALL", "T-SMALL")
    ]
    for row in rows:
        run = run_file(tiny_transformer_run, row["architecture"], row["dataset"])
        assert float(row["bleu_mean"]) == run["bleu"] and float(row["bleu_per_trial"]) == run["bleu"]
        assert float(row["ppl_train_per_trial"]) == pytest.approx(run["ppl_train"], abs=5e-4)
        assert float(row["chrf_mean"]) == run["chrf"]
        assert row["bleu_signature"] == run["bleu_signature"]
        if row["dataset"] != "baseline":
            test = json.loads((tiny_transformer_run / f"results/significance/baseline/{row['architecture']}/"
                               f"{row['dataset']}/dropout/ckpt3/trial1.json").read_text())
            assert row["p_per_trial"] == f"{test['p_value']:.4f}"  # 4 decimals in the CSV
    md = (tiny_transformer_run / "results/table3.md").read_text()
    assert "| T-SMALL w/ dropout BLEU |" in md


@pytest.mark.workflow
def test_each_model_trained_with_its_backend(tiny_transformer_run: Path) -> None:
    models = tiny_transformer_run / "models"
    for model in [models / "teacher/de-en", models / "teacher/en-de",
                  *[models / f"student/T-SMALL/{d}/dropout/ckpt3/trial1" for d in DATASETS]]:
        command = shlex.split((model / "command.sh").read_text().splitlines()[1])  # the clone's path may hold spaces
        assert command[1].endswith("scripts/sockeye3_entry.py") and command[2] == "train"
        assert command[command.index("--transformer-model-size") + 1] == "32"
        args = yaml.safe_load((model / "args.yaml").read_text())
        assert args["encoder"] == args["decoder"] == "transformer" and args["use_cpu"] is True
        assert (model / "version").read_text().strip() == "3.1.34"
    for dataset in DATASETS:  # the LSTM column: Sockeye 1.18, on the Transformer teachers' distilled data
        model = models / f"student/SMALL/{dataset}/dropout/ckpt3/trial1"
        command = shlex.split((model / "command.sh").read_text().splitlines()[1])
        assert command[1].endswith("scripts/sockeye_entry.py") and command[2] == "train"
        assert command[command.index("--rnn-num-hidden") + 1] == "32"
        assert (model / "version").read_text().strip() == "1.18.106"
    student = models / "student/T-SMALL/kd/dropout/ckpt3/trial1"
    assert yaml.safe_load((student / "args.yaml").read_text())["max_updates"] == 3 * 20
    assert [int(line.split("\t")[0]) for line in (student / "metrics").read_text().splitlines()] == [1, 2, 3]


@pytest.mark.workflow
def test_transformer_teachers_clear_their_floor(tiny_transformer_run: Path) -> None:
    floor = CONFIG["teacher"]["min_bleu"]
    assert floor > 0
    for direction in ("de-en", "en-de"):
        score = json.loads((tiny_transformer_run / f"results/teachers/{direction}.json").read_text())
        assert score["bleu"] >= floor
        assert score["parameters"] == logged_parameters(tiny_transformer_run / f"models/teacher/{direction}")
    for dataset in DATASETS:
        model = tiny_transformer_run / f"models/student/T-SMALL/{dataset}/dropout/ckpt3/trial1"
        run = run_file(tiny_transformer_run, "T-SMALL", dataset)
        assert run["parameters"] == logged_parameters(model)
        metrics = [dict(f.split("=") for f in line.split("\t")[1:]) for line in (model / "metrics").read_text()
                   .splitlines()]
        assert [p["ppl_val"] for p in run["curve"]] == [float(m["perplexity-val"]) for m in metrics]


@pytest.mark.workflow
def test_distilled_corpora_line_up_with_the_base_corpus(tiny_transformer_run: Path) -> None:
    base = {lang: (tiny_transformer_run / f"data/text/base/train.{lang}").read_text().splitlines()
            for lang in ("de", "en")}
    for part, direction, real in (("kd", "de-en", "de"), ("best2", "de-en", "de"), ("bt", "en-de", "en")):
        folder = tiny_transformer_run / f"data/distill/{direction}/{part}"
        report = json.loads((folder / "report.json").read_text())
        assert report["lines"] == len(base["de"])
        entry = report["parts"][part]
        sides = {lang: (folder / f"train.{lang}").read_text().splitlines() for lang in ("de", "en")}
        hyp = sides["en" if real == "de" else "de"]
        assert entry["empty"] == entry["missing"] == 0, entry  # so every real sentence is kept, in order
        assert sides[real] == base[real]
        assert len(hyp) == len(base[real]) and all(h.strip() and "@@" not in h for h in hyp)
    # the shards' JSON are Sockeye 3's n-best lists: the kd side is each line's best, best2 its second
    shards = sorted((tiny_transformer_run / "data/distill/de-en/shards").glob("*.json"))
    nbest = [json.loads(line) for shard in shards for line in shard.read_text().splitlines()]
    kd = (tiny_transformer_run / "data/distill/de-en/kd/train.en").read_text().splitlines()
    best2 = (tiny_transformer_run / "data/distill/de-en/best2/train.en").read_text().splitlines()
    debpe = lambda text: re.sub(r"@@( |$)", "", text).strip()  # noqa: E731
    assert kd == [debpe(n["translations"][0]) for n in nbest]
    assert best2 == [debpe(n["translations"][1]) for n in nbest]
    assert sum(a != b for a, b in zip(kd, best2, strict=True)) > 0


@pytest.mark.unit
def test_the_papers_config_trains_no_transformer() -> None:
    from slkd import design, training_flags

    paper = load_config()
    assert design.backends_used(paper) == ["sockeye1"]
    assert design.backends_used(CONFIG) == ["sockeye1", "sockeye3"]
    assert design.backend_of(paper, "TRANSFORMER-LARGE") == "sockeye3"
    flags = training_flags.model_flags(paper, "TRANSFORMER-SMALL", dropout=False)
    assert "backend" not in flags and flags["transformer-dropout-prepost"] == "0:0"
    assert not any(key.startswith("rnn-") for key in flags)
    assert (REPO / "envs/requirements-sockeye3.txt").read_text().count("torch==") == 1


@pytest.mark.plan
def test_tiny_transformer_plan(tmp_path: Path) -> None:
    """Table 3 of the tiny Transformer config: 2 Transformer teachers, 2 columns x 5 datasets, one trial."""
    from conftest import planned_jobs, run_workflow

    jobs = planned_jobs(run_workflow(tmp_path, "-n", "table3", configfiles=TINY_TRANSFORMER))
    assert jobs["train_teacher"] == jobs["score_teacher"] == 2
    assert jobs["train_student"] == jobs["evaluate"] == 10
    assert jobs["translate_test"] == 10 + 2
    assert jobs["distill"] == 2 * CONFIG["decoding"]["shards"]
    assert jobs["paired_bootstrap"] == 4 * 2
