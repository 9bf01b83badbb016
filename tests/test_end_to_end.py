"""The whole matrix through real Sockeye on a tiny synthetic corpus, down to Tables 1-3; the teacher gate."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import tables
from conftest import GPU_RULES, REPO, SNAKEMAKE, SOCKEYE_PYTHON, load_config, run_workflow
from conftest import TINY as TINY_CONFIG
from sacrebleu import corpus_bleu
from slkd import design, formats, layout, results
from slkd.cost import rates as cost_rates
from slkd.text import detokenize

TINY = (TINY_CONFIG,)
DATASETS = ["baseline", "kd", "base+kd", "base+kd+bt", "base+best-2"]

pytestmark = [
    pytest.mark.workflow,
    pytest.mark.skipif(not SOCKEYE_PYTHON.exists(), reason=f"no Sockeye environment at {SOCKEYE_PYTHON}"),
]


def test_table3_has_a_number_in_every_cell(tiny_run: Path) -> None:
    rows = list(csv.DictReader(open(tiny_run / "results/table3.csv")))
    assert [(r["dataset"], r["architecture"], r["dropout"]) for r in rows] == [
        (d, a, p) for d in DATASETS for a, p in (("SMALL", "dropout"), ("SMALL", "nodropout"), ("LARGE", "dropout"))
    ]
    for row in rows:
        assert 0 <= float(row["bleu_mean"]) <= 100
        assert float(row["ppl_train_mean"]) > 1
        assert row["trials"] == "1" and len(row["bleu_per_trial"].split(";")) == 1
        assert "tok:none" in row["bleu_signature"] and "version:2." in row["bleu_signature"]
        assert row["chrf_signature"].startswith("nrefs:1")
    md = (tiny_run / "results/table3.md").read_text()
    assert md.count("\n| ") == len(DATASETS) and "±" in md
    assert "\\begin{tabular}" in (tiny_run / "results/table3.tex").read_text()


def test_table1_and_table2(tiny_run: Path) -> None:
    t1 = list(csv.reader(open(tiny_run / "results/table1.csv")))
    assert t1[0][:3] == ["dataset", "trial_1", "avg"] and [r[0] for r in t1[1:]] == ["baseline", "kd", "base+kd"]
    t2 = {r["dataset"]: r for r in csv.DictReader(open(tiny_run / "results/table2.csv"))}
    assert list(t2) == DATASETS
    base_lines = int(t2["baseline"]["lines"])
    # concatenations keep every pair of their parts (kd may lose pairs whose hypothesis is empty, reported)
    report = {part: json.loads((tiny_run / f"data/distill/de-en/{part}/report.json").read_text())["parts"][part]
              for part in ("kd", "best2")}
    kd_pairs = report["kd"]["pairs"]
    assert int(t2["kd"]["lines"]) == kd_pairs == base_lines - report["kd"]["empty"]
    assert int(t2["base+kd"]["lines"]) == base_lines + kd_pairs
    assert int(t2["base+best-2"]["lines"]) == base_lines + kd_pairs + report["best2"]["pairs"]


def test_distilled_corpora_are_aligned_and_debped(tiny_run: Path) -> None:
    for part, direction in (("kd", "de-en"), ("best2", "de-en"), ("bt", "en-de")):
        folder = tiny_run / f"data/distill/{direction}/{part}"
        de, en = (folder / "train.de").read_text().splitlines(), (folder / "train.en").read_text().splitlines()
        assert len(de) == len(en) > 0
        hyps = en if direction == "de-en" else de
        assert not any("@@" in h for h in hyps) and all(h.strip() for h in hyps)
    real_en = (tiny_run / "data/text/base/train.en").read_text().splitlines()
    bt_en = (tiny_run / "data/distill/en-de/bt/train.en").read_text().splitlines()
    assert set(bt_en) <= set(real_en)


def test_every_student_has_a_run_with_curve_and_its_command(tiny_run: Path) -> None:
    runs = sorted((tiny_run / "results/runs/student").rglob("*.json"))
    students = design.students(load_config(TINY_CONFIG))
    tables = {tiny_run.parent / layout.fill(layout.paths("tiny").run, **s.wildcards) for s in students}
    assert len(tables) == 15 and tables <= set(runs)  # (other tests of this module may have added grid runs)
    for path in runs:
        run = json.loads(path.read_text())
        assert run["sentences"] == 100 and run["checkpoints"] == len(run["curve"]) >= 1
        assert run["ppl_train"] == run["curve"][run["best_checkpoint"] - 1]["ppl_train"]
    model = tiny_run / "models/student/SMALL/kd/nodropout/ckpt2/trial1"
    command = (model / "command.sh").read_text()
    assert "--rnn-dropout-inputs 0:0" in command and "--seed 1" in command and "--max-updates 40" in command
    assert (model / "args.yaml").is_file()


def test_figure1_plots_the_students_validation_curves(tiny_run: Path) -> None:
    run_workflow(tiny_run.parent, "figures", configfiles=TINY)
    figures = tiny_run / "results/figures"
    assert (figures / "fig1.png").stat().st_size > 0 and (figures / "fig1.pdf").stat().st_size > 0
    rows = list(csv.DictReader(open(figures / "fig1.csv")))
    assert {(r["architecture"], r["dropout"]) for r in rows} == {("SMALL", "dropout"), ("SMALL", "nodropout"),
                                                                 ("LARGE", "dropout")}
    for row in rows:  # trials 1: each plotted point is the run file's validation perplexity at that checkpoint
        run = json.loads((tiny_run / "results/runs/student" / row["architecture"] / row["dataset"] / row["dropout"]
                          / "ckpt2/trial1.json").read_text())
        curve = {p["checkpoint"]: p["ppl_val"] for p in run["curve"]}
        assert float(row["ppl_val_mean"]) == pytest.approx(curve[int(row["checkpoint"])])
    assert len(rows) == 5 * 3 * 2  # datasets x settings x checkpoints


def test_figures_2_and_3_plot_the_grids_run_files(tiny_run: Path) -> None:
    """The tiny grid is LARGE and SMALL (Table 3's own models, not retrained) and two 16-unit models; Figure 3
    compares the two 16-unit ones on baseline and base+kd."""
    run_workflow(tiny_run.parent, "figures", configfiles=TINY)  # done already if the test above ran
    figures, runs = tiny_run / "results/figures", tiny_run / "results/runs/student"

    def run(arch: str, dataset: str) -> dict:
        return json.loads((runs / arch / dataset / "dropout/ckpt2/trial1.json").read_text())

    fig2 = list(csv.DictReader(open(figures / "fig2.csv")))
    assert {r["architecture"] for r in fig2} == {"LARGE", "SMALL", "bpe300-e16-l1-lstm-h16", "bpe60-e16-l1-lstm-h16"}
    for row in fig2:
        assert row["dataset"] == "baseline" and row["trials"] == "1"
        assert int(row["parameters"]) == run(row["architecture"], "baseline")["parameters"] > 0
        assert float(row["bleu_mean"]) == pytest.approx(run(row["architecture"], "baseline")["bleu"])
    sizes = [int(r["parameters"]) for r in fig2]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    fig3 = list(csv.DictReader(open(figures / "fig3.csv")))
    assert [r["architecture"] for r in fig3] == ["bpe300-e16-l1-lstm-h16", "bpe60-e16-l1-lstm-h16"]
    for row in fig3:
        assert float(row["bleu_base"]) == pytest.approx(run(row["architecture"], "baseline")["bleu"])
        assert float(row["bleu_other"]) == pytest.approx(run(row["architecture"], "base+kd")["bleu"])
    assert all((figures / f"fig{n}.{ext}").stat().st_size > 0 for n in (2, 3) for ext in ("png", "pdf"))


def test_report_holds_the_tables_and_figures_with_captions_from_the_config(tiny_run: Path) -> None:
    """`snakemake --report` after Tables 1-3 and the figures: each result is in the HTML with its caption, and
    the captions quote this run's configuration (tiny: synthetic corpus, BPE 300 and 60, grid hidden 32/16)."""
    report = tiny_run / "results/report.html"
    run_workflow(tiny_run.parent, "--report", str(report), "table1", "table2", "table3", "claims", "figures",
                 configfiles=TINY)
    html = report.read_text(encoding="utf-8")
    for name in ("table1.csv", "table2.csv", "table3.csv", "claims.csv", "fig1.png", "fig2.png", "fig3.png"):
        assert f'"filename": "{name}"' in html
    assert "corpus <strong>synthetic</strong>" in html
    assert "<strong>LARGE</strong> (BPE 300, embed 16, hidden 32" in html
    assert "hidden 32/16, less the excluded combinations" in html  # Figure 2's caption, from grid:
    assert "paired\nbootstrap p-value" in html or "paired bootstrap p-value" in html  # Table 1's
    assert "students with and without dropout and from Table 2's statistics" in html  # the claims' caption


def test_seqinterp_is_a_dataset_like_any_other(tiny_run: Path) -> None:
    """A student on the seqinterp dataset (not in the tiny tables) by its run file: its corpus takes, per
    sentence, the teacher hypothesis (of 2) with the higher sentence BLEU against the real target."""
    from sacrebleu.metrics import BLEU

    run_workflow(tiny_run.parent, "tiny/results/runs/student/SMALL/seqinterp/dropout/ckpt2/trial1.json",
                 configfiles=TINY)
    run = json.loads((tiny_run / "results/runs/student/SMALL/seqinterp/dropout/ckpt2/trial1.json").read_text())
    assert run["sentences"] == 100 and run["bleu"] >= 0
    distill = tiny_run / "data/distill/de-en"
    report = json.loads((distill / "seqinterp/report.json").read_text())["parts"]["seqinterp"]
    refs = (tiny_run / "data/text/base/train.en").read_text().splitlines()
    chosen = (distill / "seqinterp/train.en").read_text().splitlines()
    kd, best2 = ((distill / p / "train.en").read_text().splitlines() for p in ("kd", "best2"))
    assert report["pairs"] == len(chosen) == len(refs) == len(kd) == len(best2)  # no empty hypothesis here
    assert sum(report["ranks_chosen"].values()) == len(refs) and report["ranks_chosen"]["2"] > 0
    bleu = BLEU(tokenize="none", force=True, effective_order=True)
    for ref, pick, first, second in zip(refs, chosen, kd, best2, strict=True):
        assert pick in (first, second)
        assert bleu.sentence_score(pick, [ref]).score >= bleu.sentence_score(first, [ref]).score
    assert (tiny_run / "data/text/seqinterp/train.de").read_text() == (tiny_run / "data/text/base/train.de").read_text()


def test_a_moved_clone_on_a_gpu_profile_reruns_nothing(tiny_run: Path, tmp_path: Path) -> None:
    """The finished tiny run, planned again from a copy of the workflow elsewhere, with another Sockeye
    interpreter and a GPU on every Sockeye job (what profiles/slurm gives them): nothing to do. Neither the
    clone's location, nor the interpreter, nor the device is part of a job's command or parameters."""
    clone = tmp_path / "elsewhere"
    shutil.copytree(REPO, clone, ignore=shutil.ignore_patterns(".git", ".venv*", ".snakemake", "demo", "tiny",
                                                               "bench", "__pycache__", ".pytest_cache"))
    other_python = tmp_path / "sockeye-python"
    other_python.symlink_to(SOCKEYE_PYTHON)
    gpus = [f"{rule}:gpu=1" for rule in sorted(GPU_RULES)]
    proc = subprocess.run(
        [str(SNAKEMAKE), "-n", "table1", "table2", "table3", "--snakefile", str(clone / "Snakefile"),
         "--directory", str(tiny_run.parent), "--configfile", str(TINY_CONFIG), "--config",
         f"sockeye_python={other_python}", "--set-resources", *gpus],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "Nothing to be done" in out, out[-4000:]


def test_scoring_a_teacher_again_distils_nothing_again(tiny_run: Path) -> None:
    """A teacher's score file written again (a new run-file format rescored it) is newer than every distilled
    shard; the shards take it as the floor's gate, not by its age: nothing downstream is planned again."""
    for direction in ("de-en", "en-de"):
        score = tiny_run / f"results/teachers/{direction}.json"
        later = max(p.stat().st_mtime for p in (tiny_run / "results").rglob("*") if p.is_file()) + 60
        os.utime(score, (later, later))
    proc = run_workflow(tiny_run.parent, "-n", "table1", "table2", "table3", configfiles=(TINY_CONFIG,))
    assert "Nothing to be done" in proc.stdout + proc.stderr, (proc.stdout + proc.stderr)[-3000:]


def test_table_cells_equal_their_run_and_significance_files(tiny_run: Path) -> None:
    runs = tiny_run / "results/runs/student"
    for row in csv.DictReader(open(tiny_run / "results/table3.csv")):
        run = json.loads((runs / f"{row['architecture']}/{row['dataset']}/{row['dropout']}/ckpt2/trial1.json")
                         .read_text())
        assert float(row["bleu_mean"]) == float(row["bleu_per_trial"]) == run["bleu"]
        assert float(row["chrf_mean"]) == run["chrf"] and row["bleu_signature"] == run["bleu_signature"]
        assert float(row["ppl_train_per_trial"]) == pytest.approx(run["ppl_train"], abs=5e-4)
        if row["dataset"] != "baseline":
            test = json.loads((tiny_run / f"results/significance/baseline/{row['architecture']}/{row['dataset']}/"
                               f"{row['dropout']}/ckpt2/trial1.json").read_text())
            assert row["p_per_trial"] == f"{test['p_value']:.4f}"
    table1 = list(csv.DictReader(open(tiny_run / "results/table1.csv")))
    for row in table1:  # SMALL with dropout: Table 3's students
        run = json.loads((runs / f"SMALL/{row['dataset']}/dropout/ckpt2/trial1.json").read_text())
        assert float(row["trial_1"]) == float(row["avg"]) == run["bleu"]
        # the columns beside it (config/test-tiny.yaml evaluation.columns: bleu_detok, chrf)
        assert float(row["bleu_detok_trial_1"]) == run["bleu_detok"] and float(row["chrf_avg"]) == run["chrf"]


def test_detok_bleu_equals_sacrebleus_own_on_the_detokenized_files(tiny_run: Path, tmp_path: Path) -> None:
    """evaluation.columns shows detokenized BLEU: each student's run file holds sacrebleu's default BLEU of its
    detokenized translations against the detokenized reference (the synthetic corpus comes tokenized: its
    reference is detokenized), and Table 3 shows it and chrF as the run files say; a table of another metric
    (evaluation.metric chrf, bleu_detok) built from the same run files shows exactly their values."""
    paths = layout.paths("tiny")
    reference = tiny_run.parent / layout.fill(paths.detok_text, corpus="base", split="test", lang="en")
    tokenized = (tiny_run / "data/text/base/test.en").read_text().splitlines()
    assert reference.read_text().splitlines() == detokenize(tokenized, "en") != tokenized
    students = design.students(load_config(TINY_CONFIG), ["table3"])
    run_files = [tiny_run.parent / layout.fill(paths.run, **s.wildcards) for s in students]
    for student, path in zip(students, run_files, strict=True):
        run = json.loads(path.read_text())
        hyp = tiny_run.parent / layout.fill(paths.student_test_detok, **student.wildcards)
        lines = hyp.read_text().splitlines()
        assert len(lines) == run["sentences"] and not any("@@" in line for line in lines)
        assert run["bleu_detok"] == round(corpus_bleu(lines, [reference.read_text().splitlines()]).score, 2)
        assert "tok:13a" in run["bleu_detok_signature"]
    first = json.loads(run_files[0].read_text())  # sacrebleu's command line on one student's file
    hyp = tiny_run.parent / layout.fill(paths.student_test_detok, **students[0].wildcards)
    cli = subprocess.run([str(SNAKEMAKE.parent / "sacrebleu"), str(reference), "-i", str(hyp), "-b", "-w", "2"],
                         capture_output=True, text=True, check=True)
    assert float(cli.stdout) == first["bleu_detok"]
    by_cell = {(r["student"]["dataset"], r["student"]["architecture"], r["student"]["dropout"]): r
               for r in map(json.loads, (p.read_text() for p in run_files))}
    for row in csv.DictReader(open(tiny_run / "results/table3.csv")):
        run = by_cell[(row["dataset"], row["architecture"], row["dropout"])]
        assert float(row["bleu_detok_mean"]) == float(row["bleu_detok_per_trial"]) == run["bleu_detok"]
        assert float(row["chrf_per_trial"]) == run["chrf"] and row["metric"] == "bleu"
    assert "BLEU (detok.): nrefs:1|case:mixed|eff:no|tok:13a" in (tiny_run / "results/table3.md").read_text()
    columns = [{"architecture": a, "dropout": d} for a, d in (("SMALL", "dropout"), ("LARGE", "dropout"))]
    for metric in ("chrf", "bleu_detok"):
        spec = {"datasets": DATASETS, "columns": columns, "alpha": 0.05, "metric": metric, "metric_columns": []}
        prefix = tmp_path / f"table3-{metric}"
        assert tables.main(["table3", "--run", *map(str, run_files), "--spec", json.dumps(spec),
                            "--prefix", str(prefix)]) == 0
        rows = list(csv.DictReader(open(f"{prefix}.csv")))
        assert len(rows) == len(DATASETS) * 2
        for row in rows:
            run = by_cell[(row["dataset"], row["architecture"], row["dropout"])]
            assert float(row[f"{metric}_mean"]) == run[metric]
            assert row[f"{metric}_signature"] == run[f"{metric}_signature"]
        md = Path(f"{prefix}.md").read_text()
        run = by_cell[("kd", "SMALL", "dropout")]
        assert f"| kd | {run[metric]:.2f} ± 0.00 |" in md
        assert f"{results.LABEL[metric]}: {run[metric + '_signature']}." in md


def test_distilled_sides_equal_the_base_corpus_line_by_line(tiny_run: Path) -> None:
    base = {lang: (tiny_run / f"data/text/base/train.{lang}").read_text().splitlines() for lang in ("de", "en")}
    for part, direction, real, hyp_lang in (("kd", "de-en", "de", "en"), ("best2", "de-en", "de", "en"),
                                            ("bt", "en-de", "en", "de")):
        folder = tiny_run / f"data/distill/{direction}/{part}"
        entry = json.loads((folder / "report.json").read_text())["parts"][part]
        real_side = (folder / f"train.{real}").read_text().splitlines()
        hyps = (folder / f"train.{hyp_lang}").read_text().splitlines()
        # the real side is the base corpus less the pairs whose hypothesis was empty or missing (reported)
        assert len(real_side) == len(hyps) == entry["pairs"] == len(base[real]) - entry["empty"] - entry["missing"]
        it = iter(base[real])
        assert all(any(line == b for b in it) for line in real_side)  # an in-order subsequence of the base side
        assert all(h.strip() and "@@" not in h for h in hyps)
    kd = json.loads((tiny_run / "data/distill/de-en/kd/report.json").read_text())["parts"]["kd"]
    if kd["empty"] == kd["missing"] == 0:
        assert (tiny_run / "data/distill/de-en/kd/train.de").read_text().splitlines() == base["de"]


def test_parameter_counts_equal_what_sockeye_logged(tiny_run: Path) -> None:
    config = load_config(TINY_CONFIG)
    models = [tiny_run / "models/teacher/de-en", tiny_run / "models/teacher/en-de",
              *sorted(p.parent for p in (tiny_run / "models/student").rglob("args.yaml"))]
    assert len(models) >= 2 + 15  # the teachers, Table 3's students (and the grid's, where a test trained them)
    for model in models:
        info = layout.parse_model(model.relative_to(tiny_run / "models").as_posix())
        name = config["teacher"]["architecture"] if info["kind"] == "teacher" else info["architecture"]
        vocab = [len(json.loads((model / f"vocab.{side}.0.json").read_text())) for side in ("src", "trg")]
        assert cost_rates.parameters(design.architecture(config, name), *vocab) == formats.read_parameters(model), model



def test_claims_equal_table3_table2_and_the_significance_files(tiny_run: Path) -> None:
    """Each claim's numbers are Table 3's (one trial: its BLEU), Table 2's and the paired bootstrap files'; its
    effect is the difference of its BLEU (one trial: the paired bootstrap file's), within an interval whose
    bounds give the verdict."""
    table3 = {(r["dataset"], r["dropout"]): r for r in csv.DictReader(open(tiny_run / "results/table3.csv"))
              if r["architecture"] == "SMALL"}
    types = {r["dataset"]: int(r["types"]) for r in csv.DictReader(open(tiny_run / "results/table2.csv"))}
    lines = list(csv.DictReader(open(tiny_run / "results/claims.csv")))
    bleu = {key: float(row["bleu_mean"]) for key, row in table3.items()}

    def test(reference: str, dataset: str, dropout: str) -> dict:
        return json.loads((tiny_run / f"results/significance/{reference}/SMALL/{dataset}/{dropout}/ckpt2/trial1.json")
                          .read_text())

    def p_value(reference: str, dataset: str, dropout: str) -> str:
        return f"{test(reference, dataset, dropout)['p_value']:.4f}"

    expected = []
    for claim, system, reference in (("kd>baseline", "kd", "baseline"), ("base+kd>=kd", "base+kd", "kd")):
        for dropout in ("dropout", "nodropout"):
            margin = 0.5 if claim == "base+kd>=kd" else 0.0  # claims.margin
            holds = round(bleu[system, dropout] - bleu[reference, dropout], 2) > -margin
            expected.append((claim, bleu[system, dropout], bleu[reference, dropout], str(int(holds)),
                             p_value(reference, system, dropout)))
            effect = float(lines[len(expected) - 1]["effect"])
            assert effect == pytest.approx(test(reference, system, dropout)["difference"], abs=0.011)
    for dataset in ("base+kd", "base+kd+bt", "base+best-2"):
        gain = {d: bleu[dataset, d] - bleu["baseline", d] for d in ("nodropout", "dropout")}
        expected.append(("gains", round(gain["nodropout"], 2), round(gain["dropout"], 2),
                         str(int(round(gain["nodropout"] - gain["dropout"], 2) > 0)),
                         f"no dropout {p_value('baseline', dataset, 'nodropout')} /"
                         f" dropout {p_value('baseline', dataset, 'dropout')}"))
        assert float(lines[len(expected) - 1]["effect"]) == pytest.approx(gain["nodropout"] - gain["dropout"],
                                                                          abs=0.03)
    expected.append(("vocabulary", types["kd"], types["baseline"], "", ""))
    assert [(line["claim"], float(line["value"]), float(line["reference"]), line["trials_holding"],
             line["p_values"]) for line in lines] == [(c, float(v), float(r), t, p) for c, v, r, t, p in expected]
    for line in lines[:-1]:
        low, effect, high = float(line["ci_low"]), float(line["effect"]), float(line["ci_high"])
        threshold = -float(line["margin"] or 0)
        assert low <= effect <= high
        # the CSV rounds to 2 decimals, the verdict is taken before: a bound within 0.005 of the threshold
        # allows the verdicts on either side of it (the tiny students' effects are a few hundredths)
        allowed = {"supported" if lo > threshold else "contradicted" if hi < threshold else "undecided"
                   for lo in (low - 0.005, low + 0.005) for hi in (high - 0.005, high + 0.005)}
        assert line["verdict"] in allowed, (line["claim"], line["scope"], low, high, threshold)
    ratio = types["kd"] / types["baseline"]
    assert lines[-1]["verdict"] == ("supported" if 0.1 <= ratio < 1 else "contradicted")
    markdown = (tiny_run / "results/claims.md").read_text()
    assert markdown.count("\n| ") == len(expected) and "pooled paired bootstrap" in markdown


def test_a_second_run_from_scratch_gives_the_same_corpora_and_numbers(tiny_run: Path, tmp_path: Path) -> None:
    """Same seed, same numbers: the tiny configuration run again in a fresh folder (same machine) gives
    byte-identical distilled corpora and datasets and the same BLEU and perplexity in every cell."""
    run_workflow(tmp_path, "table3", configfiles=TINY, timeout=1500)
    again = tmp_path / "tiny"
    # what Table 3 trains on (the session's tiny run may hold more, made by other tests)
    corpora = [Path(f"data/distill/{direction}/{part}/train.{lang}") for direction, part in
               (("de-en", "kd"), ("de-en", "best2"), ("en-de", "bt")) for lang in ("de", "en")]
    corpora += [Path(f"data/text/{dataset}/train.{lang}") for dataset in DATASETS for lang in ("de", "en")]
    for path in corpora:
        assert (again / path).read_bytes() == (tiny_run / path).read_bytes(), path
    first, second = (list(csv.DictReader(open(root / "results/table3.csv"))) for root in (tiny_run, again))
    assert first == second
