"""scripts/claims.py on result files written here: each claim's numbers, the trials in which it holds and its
p-values come from exactly the files given; a claim without its students is not answered."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import claims
import pytest
import slkd_config as sc
from conftest import load_config
from evaluate import model_fields

SPEC = {"architecture": "SMALL", "baseline": "baseline", "kd": "kd", "combined": "base+kd",
        "augmented": ["base+kd"], "alpha": 0.05, "lang": "en"}
# BLEU per (dataset, dropout), trials 1-3
BLEU = {
    ("baseline", "dropout"): [30.0, 31.0, 32.0], ("kd", "dropout"): [31.0, 30.5, 33.0],
    ("base+kd", "dropout"): [32.0, 31.0, 33.5],
    ("baseline", "nodropout"): [20.0, 21.0, 22.0], ("kd", "nodropout"): [25.0, 26.0, 27.0],
    ("base+kd", "nodropout"): [24.0, 27.0, 28.0],
}


def student(dataset: str, dropout: str, trial: int) -> sc.Student:
    return sc.Student("SMALL", dataset, dropout == "dropout", 2, trial)


def p_value(dataset: str, reference: str, dropout: str, trial: int) -> float:
    return round(0.001 * trial + (0.1 if dropout == "nodropout" else 0) + (0.5 if reference == "kd" else 0), 4)


def write_results(folder: Path, bleu: dict = BLEU) -> tuple[list[str], list[str], list[str]]:
    runs, tests = [], []
    for (dataset, dropout), values in bleu.items():
        for trial, value in enumerate(values, 1):
            path = folder / f"run.{dataset}.{dropout}.{trial}.json"
            path.write_text(json.dumps({**model_fields(sc.student_model(student(dataset, dropout, trial))),
                                        "bleu": value}))
            runs.append(str(path))
            for reference in {"kd": ["baseline"], "base+kd": ["baseline", "kd"]}.get(dataset, []):
                test = folder / f"p.{reference}.{dataset}.{dropout}.{trial}.json"
                test.write_text(json.dumps({
                    **model_fields(sc.student_model(student(dataset, dropout, trial))),
                    "baseline_model": sc.student_model(student(reference, dropout, trial)), "metric": "bleu",
                    "p_value": p_value(dataset, reference, dropout, trial)}))
                tests.append(str(test))
    stats = folder / "stats.tsv"
    stats.write_text("corpus\tlang\tlines\ttokens\ttypes\nbaseline\ten\t10\t100\t500\nkd\ten\t10\t90\t320\n"
                     "kd\tde\t10\t95\t900\n")
    return runs, tests, [str(stats)]


def test_every_claim_from_the_files(tmp_path: Path) -> None:
    runs, tests, stats = write_results(tmp_path)
    assert claims.main(["--run", *runs, "--significance", *tests, "--stats", *stats, "--spec", json.dumps(SPEC),
                        "--prefix", str(tmp_path / "claims")]) == 0
    lines = list(csv.DictReader(open(tmp_path / "claims.csv")))
    got = [(row["claim"], row["scope"], row["value"], row["reference"], row["holds"], row["trials_holding"],
            row["trials"], row["p_values"], row["significant_trials"]) for row in lines]
    assert got == [
        # kd vs baseline with dropout: means 31.5 vs 31.0, kd better in trials 1 and 3; p 0.001, 0.002, 0.003
        ("kd>baseline", "SMALL with dropout", "31.5", "31.0", "yes", "2", "3", "0.0010;0.0020;0.0030", "3"),
        ("kd>baseline", "SMALL without dropout", "26.0", "21.0", "yes", "3", "3", "0.1010;0.1020;0.1030", "0"),
        # base+kd >= kd: with dropout 32.17 vs 31.5 (trial 2: 31.0 >= 30.5); without: 26.33 vs 26.0, trial 1 below
        ("base+kd>=kd", "SMALL with dropout", "32.17", "31.5", "yes", "3", "3", "0.5010;0.5020;0.5030", "0"),
        ("base+kd>=kd", "SMALL without dropout", "26.33", "26.0", "yes", "2", "3", "0.6010;0.6020;0.6030", "0"),
        # gains of base+kd over baseline: without dropout 4, 6, 6 (mean 5.33); with dropout 2, 0, 1.5 (1.17)
        ("gains", "SMALL base+kd", "5.33", "1.17", "yes", "3", "3",
         "no dropout 0.1010;0.1020;0.1030 / dropout 0.0010;0.0020;0.0030", "0 / 3"),
        # the target side (en) only: 320 types against 500
        ("vocabulary", "en side", "320", "500", "yes", "", "", "", ""),
    ]
    markdown = (tmp_path / "claims.md").read_text()
    assert "| kd beats baseline | SMALL with dropout | yes | 2/3 |" in markdown
    assert "types kd 320 vs baseline 500 (ratio 0.64" in markdown


def test_a_claim_fails_where_the_numbers_say_so(tmp_path: Path) -> None:
    bleu = {**BLEU, ("kd", "dropout"): [29.0, 30.0, 33.0]}  # mean 30.67 < 31.0, better only in trial 3
    runs, tests, stats = write_results(tmp_path, bleu)
    lines = claims.claims(*claims.load(runs, tests), claims.vocabulary(stats, "en"), SPEC)
    assert (lines[0]["holds"], lines[0]["trials_holding"], lines[0]["value"]) == ("no", 1, 30.67)


def test_a_claim_without_its_students_is_not_answered(tmp_path: Path) -> None:
    bleu = {key: value for key, value in BLEU.items() if key[1] == "dropout"}  # no column without dropout
    runs, tests, stats = write_results(tmp_path, bleu)
    lines = claims.claims(*claims.load(runs, tests), claims.vocabulary(stats, "en"), SPEC)
    missing = [(line["claim"], line["holds"], line["detail"]) for line in lines if line["holds"] == "not answered"]
    assert missing == [("kd>baseline", "not answered", "no results for kd (SMALL nodropout)"),
                       ("base+kd>=kd", "not answered", "no results for base+kd (SMALL nodropout)"),
                       ("gains", "not answered", "no results for base+kd (SMALL nodropout)")]


def test_a_result_file_without_its_reference_is_an_error(tmp_path: Path) -> None:
    runs, tests, _stats = write_results(tmp_path)
    bad = Path(tests[0])
    bad.write_text(json.dumps({**json.loads(bad.read_text()), "baseline_model": "teacher/de-en"}))
    with pytest.raises(claims.ResultFileError, match=f"{bad}: names no reference student"):
        claims.load(runs, tests)


def test_the_claims_plan_reuses_the_tables_comparisons_and_adds_combined_against_kd() -> None:
    config = load_config()  # the paper's: Table 3 with SMALL with and without dropout, 3 trials
    chosen, comparisons = sc.claim_students(config)
    small = [s for s in sc.students(config, ["table3"]) if s.architecture == "SMALL"]
    assert chosen == small and len(chosen) == 5 * 2 * 3
    against_baseline = {s for s, reference in comparisons if reference == "baseline"}
    assert against_baseline == {s for s in sc.compared_students(config, "table3") if s.architecture == "SMALL"}
    assert sorted(s for s, reference in comparisons if reference == "kd") == [s for s in small
                                                                               if s.dataset == "base+kd"]
    assert sc.claim_students({**config, "claims": None}) == ([], [])
