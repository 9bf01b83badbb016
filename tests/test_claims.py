"""scripts/claims.py on files written here: test translations whose quality is set sentence by sentence, their run
files (scored as evaluate.py scores them) and paired bootstrap results. Each claim's verdict (over all its trials)
is the one the translations were built to give, its effect the mean of the trials' differences, its numbers and
p-values come from exactly the files given; a claim without its students is not answered."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import claims
import pytest
import yaml
from conftest import REPO, load_config
from slkd import design, layout, settings
from slkd.scoring import metric, model_fields, read_translations

pytestmark = pytest.mark.unit

WORDS = [f"w{i}" for i in range(150)]
SENTENCES = 300
SPEC = {"architecture": "SMALL", "baseline": "baseline", "kd": "kd", "combined": "base+kd",
        "augmented": ["base+kd", "base+bt"], "alpha": 0.05, "lang": "en", "margin": 0.5, "samples": 1000,
        "seed": 12345, "confidence": 0.95}
# Which sentences each student garbles, by (dataset, dropout): those with i % 10 in the set (the same garbling of
# a sentence in every student of a trial, a different one in each trial)
WRONG = {
    # with dropout: kd garbles 4 in 10 where baseline garbles 6 (kd beats baseline); base+kd translates as kd
    ("baseline", "dropout"): range(0, 6), ("kd", "dropout"): range(0, 4), ("base+kd", "dropout"): range(0, 4),
    # without dropout: kd garbles 7 in 10, baseline 5 (kd loses); base+kd 9 (far worse than kd)
    ("baseline", "nodropout"): range(0, 5), ("kd", "nodropout"): range(0, 7), ("base+kd", "nodropout"): range(0, 9),
    # base+bt garbles as many sentences as baseline in each column, other ones: its gains are 0 but for chance
    ("base+bt", "dropout"): range(4, 10), ("base+bt", "nodropout"): range(5, 10),
}


def references() -> list[str]:
    r = random.Random(1)
    return [" ".join(r.choices(WORDS, k=r.randint(6, 16))) for _ in range(SENTENCES)]


def translations(refs: list[str], wrong: range, trial: int) -> list[str]:
    def garble(i: int, sentence: str) -> str:
        r = random.Random(f"{trial}.{i}")
        return " ".join(w if r.random() < 0.5 else r.choice(WORDS) for w in sentence.split())
    return [garble(i, s) if i % 10 in wrong else s for i, s in enumerate(refs)]


def student(dataset: str, dropout: str, trial: int) -> design.Student:
    return design.Student("SMALL", dataset, dropout == "dropout", 2, trial)


def p_value(dataset: str, reference: str, dropout: str, trial: int) -> float:
    return round(0.001 * trial + (0.1 if dropout == "nodropout" else 0) + (0.5 if reference == "kd" else 0), 4)


def write_student(folder: Path, s: design.Student, lines: list[str], ref: Path, metric_name: str = "bleu",
                  **fields: object) -> tuple[str, str, float]:
    """A student's test translations where the layout puts them (detokenized ones for bleu_detok) and its run file
    with their score as evaluate.py writes it (and `fields`): (run file, translations, score)."""
    where = layout.paths(str(folder))
    hyp = Path(layout.fill(where.student_test_detok if metric_name == design.DETOK else where.student_test_hyp,
                       **s.wildcards))
    hyp.parent.mkdir(parents=True, exist_ok=True)
    hyp.write_text("".join(f"{line}\n" for line in lines))
    refs = ref.read_text().splitlines()
    score = round(metric(metric_name).corpus_score(read_translations(hyp, metric_name), [refs]).score, 2)
    run = Path(layout.fill(where.run, **s.wildcards))
    run.parent.mkdir(parents=True, exist_ok=True)
    run.write_text(json.dumps({**model_fields(layout.student_model(s)), metric_name: score, **fields}))
    return str(run), str(hyp), score


def write_results(folder: Path, wrong: dict = WRONG, trials: int = 3) -> dict:
    """Every student's files, the paired bootstrap results and Table 2's statistics: claims.py's arguments,
    and the run files' scores {(dataset, dropout): [trial 1, 2, 3]}."""
    ref = folder / "test.en"
    ref.write_text("".join(f"{line}\n" for line in references()))
    runs, hyps, tests, scores = [], [], [], {}
    for (dataset, dropout), garbled in wrong.items():
        for trial in range(1, trials + 1):
            run, hyp, score = write_student(folder, student(dataset, dropout, trial),
                                            translations(references(), garbled, trial), ref)
            runs.append(run)
            hyps.append(hyp)
            scores.setdefault((dataset, dropout), []).append(score)
            for reference in {"kd": ["baseline"], "base+kd": ["baseline", "kd"], "base+bt": ["baseline"]}[dataset] \
                    if dataset != "baseline" else []:
                test = folder / f"p.{reference}.{dataset}.{dropout}.{trial}.json"
                test.write_text(json.dumps({
                    **model_fields(layout.student_model(student(dataset, dropout, trial))),
                    "baseline_model": layout.student_model(student(reference, dropout, trial)), "metric": "bleu",
                    "p_value": p_value(dataset, reference, dropout, trial)}))
                tests.append(str(test))
    stats = folder / "stats.tsv"
    stats.write_text("corpus\tlang\tlines\ttokens\ttypes\nbaseline\ten\t10\t100\t500\nkd\ten\t10\t90\t320\n"
                     "kd\tde\t10\t95\t900\n")
    return {"runs": runs, "hyps": hyps, "ref": str(ref), "tests": tests, "stats": [str(stats)], "scores": scores}


def arguments(files: dict, spec: dict = SPEC) -> list[str]:
    return ["--run", *files["runs"], "--hyp", *files["hyps"], "--ref", files["ref"], "--significance",
            *files["tests"], "--stats", *files["stats"], "--spec", json.dumps(spec)]


def answer(files: dict, spec: dict = SPEC) -> list[dict]:
    """claims.claims on the files, as main reads them."""
    bootstrap = claims.Bootstrap.of(spec)
    bleu, p_values = claims.load(files["runs"], files["tests"])
    stats = claims.load_translations(files["hyps"], files["ref"], bootstrap.scorer)
    return claims.claims(bleu, p_values, stats, claims.vocabulary(files["stats"], "en"), spec, bootstrap)


def test_every_claim_from_the_files(tmp_path: Path) -> None:
    files = write_results(tmp_path)
    assert claims.main([*arguments(files), "--prefix", str(tmp_path / "claims")]) == 0
    lines = list(csv.DictReader(open(tmp_path / "claims.csv")))
    assert list(lines[0]) == claims.HEADER
    got = [(row["claim"], row["scope"], row["verdict"], row["margin"], row["trials_holding"], row["trials"],
            row["p_values"], row["significant_trials"]) for row in lines]
    assert got == [
        ("kd>baseline", "SMALL with dropout", "supported", "", "3", "3", "0.0010;0.0020;0.0030", "3"),
        ("kd>baseline", "SMALL without dropout", "contradicted", "", "0", "3", "0.1010;0.1020;0.1030", "0"),
        # base+kd translates as kd with dropout: effect 0, interval [0, 0], within the margin in every trial
        ("base+kd>=kd", "SMALL with dropout", "supported", "0.5", "3", "3", "0.5010;0.5020;0.5030", "0"),
        ("base+kd>=kd", "SMALL without dropout", "contradicted", "0.5", "0", "3", "0.6010;0.6020;0.6030", "0"),
        # base+kd's gain: far below baseline without dropout, above it with dropout
        ("gains", "SMALL base+kd", "contradicted", "", "0", "3",
         "no dropout 0.1010;0.1020;0.1030 / dropout 0.0010;0.0020;0.0030", "0 / 3"),
        # base+bt garbles as many sentences as baseline, other ones: no gain in either column but by chance (the
        # same sentences in every trial: the same small gain in each, within the interval)
        ("gains", "SMALL base+bt", "undecided", "", "3", "3",
         "no dropout 0.1010;0.1020;0.1030 / dropout 0.0010;0.0020;0.0030", "0 / 3"),
        # the target side (en) only: 320 types against 500
        ("vocabulary", "en side", "supported", "", "", "", "", ""),
    ]
    scores = {key: sum(values) / 3 for key, values in files["scores"].items()}
    for row, (system, reference) in zip(lines[:4], [(("kd", "dropout"), ("baseline", "dropout")),
                                                   (("kd", "nodropout"), ("baseline", "nodropout")),
                                                   (("base+kd", "dropout"), ("kd", "dropout")),
                                                   (("base+kd", "nodropout"), ("kd", "nodropout"))], strict=True):
        # the numbers are the run files' means; the effect, their difference (less the run files' rounding)
        assert (float(row["value"]), float(row["reference"])) == (round(scores[system], 2), round(scores[reference], 2))
        assert float(row["effect"]) == pytest.approx(scores[system] - scores[reference], abs=0.011)
        assert float(row["ci_low"]) <= float(row["effect"]) <= float(row["ci_high"])
    with_dropout, without, same, worse, gain, chance, _ = lines
    def effect(row: dict) -> tuple[float, float, float]:
        return float(row["effect"]), float(row["ci_low"]), float(row["ci_high"])

    assert effect(with_dropout) == (15.91, 12.23, 19.94)
    assert effect(without) == (-15.84, -20.13, -12.16)
    assert effect(same) == (0, 0, 0)
    assert effect(worse) == (-17.23, -21.11, -13.11)  # far below −0.5
    gains = {d: scores["base+kd", d] - scores["baseline", d] for d in ("nodropout", "dropout")}
    assert (float(gain["value"]), float(gain["reference"])) == (round(gains["nodropout"], 2),
                                                                 round(gains["dropout"], 2))
    assert float(gain["effect"]) == pytest.approx(gains["nodropout"] - gains["dropout"], abs=0.03)
    assert effect(gain) == (-48.98, -55.48, -42.88)
    assert effect(chance) == (0.91, -3.43, 5.08)
    markdown = (tmp_path / "claims.md").read_text()
    assert (f"| kd beats baseline | SMALL with dropout | supported | {float(with_dropout['effect']):+.2f}"
            f" [{float(with_dropout['ci_low']):+.2f}, {float(with_dropout['ci_high']):+.2f}] | 3/3 |") in markdown
    assert "| base+kd is at least as good as kd | SMALL with dropout | supported | +0.00 [+0.00, +0.00] (margin 0.5)" \
           " | 3/3 |" in markdown
    assert markdown.startswith("| Claim | Scope | Verdict | Effect [95 % CI] | Trials holding | p (paired bootstrap)"
                               " | Numbers |\n")
    assert "types kd 320 vs baseline 500 (ratio 0.64" in markdown
    assert "pooled paired bootstrap over the 300 test sentences: 1000 resamples of the sentences (seed 12345)," \
           " each resample applied to every trial's students" in markdown
    assert "margin of 0.5 BLEU points: supported when the interval is above −0.5" in markdown


def test_the_verdicts_follow_the_settings(tmp_path: Path) -> None:
    files = write_results(tmp_path)
    scorer = metric("bleu")
    bleu, p_values = claims.load(files["runs"], files["tests"])
    stats = claims.load_translations(files["hyps"], files["ref"], scorer)

    def combined(**settings: object) -> dict:  # base+kd against kd with dropout: they translate alike
        return claims.comparison("base+kd>=kd", "", "", bleu, p_values, stats, ("SMALL", "dropout"), "base+kd",
                                 "kd", 0.05, claims.Bootstrap(scorer, **settings), at_least=True)

    def chance(**settings: object) -> dict:  # base+bt's gains: 0 but for chance
        return claims.gains(bleu, p_values, stats, "SMALL", "baseline", "base+bt", 0.05,
                            claims.Bootstrap(scorer, **settings))

    # a margin of 0 makes "at least as good" a claim of superiority: translating alike is then undecided
    assert [(line["verdict"], line["margin"]) for line in (combined(), combined(margin=0))] == [
        ("supported", 0.5), ("undecided", 0)]
    # another seed, other resamples: the same effect, other bounds; more confidence, a wider interval
    assert [(line["effect"], line["ci_low"], line["ci_high"]) for line in (
        chance(), chance(seed=1), chance(confidence=0.99), chance(samples=200))] == [
        (0.91, -3.43, 5.08), (0.91, -3.51, 5.57), (0.91, -4.54, 6.57), (0.91, -4.0, 5.21)]


def test_a_claim_is_contradicted_where_the_translations_say_so(tmp_path: Path) -> None:
    # kd with dropout now garbles 8 sentences in 10 against baseline's 6
    files = write_results(tmp_path, {**WRONG, ("kd", "dropout"): range(0, 8)})
    line = answer(files)[0]
    assert (line["verdict"], line["trials_holding"]) == ("contradicted", 0)
    assert line["ci_high"] < 0 and line["value"] < line["reference"]


def test_one_trial_is_answered_from_its_sentences(tmp_path: Path) -> None:
    files = write_results(tmp_path, trials=1)
    assert [(line["verdict"], line["trials"]) for line in answer(files)[:4]] == [
        ("supported", 1), ("contradicted", 1), ("supported", 1), ("contradicted", 1)]


def test_a_claim_without_its_students_is_not_answered(tmp_path: Path) -> None:
    files = write_results(tmp_path, {key: value for key, value in WRONG.items() if key[1] == "dropout"})
    missing = [(line["claim"], line["verdict"], line["detail"]) for line in answer(files)
               if line["verdict"] == "not answered"]
    assert missing == [("kd>baseline", "not answered", "no results for kd (SMALL nodropout)"),
                       ("base+kd>=kd", "not answered", "no results for base+kd (SMALL nodropout)"),
                       ("gains", "not answered", "no results for base+kd (SMALL nodropout)"),
                       ("gains", "not answered", "no results for base+bt (SMALL nodropout)")]


def test_a_result_file_without_its_reference_is_an_error(tmp_path: Path) -> None:
    files = write_results(tmp_path, trials=1)
    bad = Path(files["tests"][0])
    bad.write_text(json.dumps({**json.loads(bad.read_text()), "baseline_model": "teacher/de-en"}))
    with pytest.raises(claims.ResultFileError, match=f"{bad}: names no reference student"):
        claims.load(files["runs"], files["tests"])


def test_the_translations_must_be_the_run_files(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    files = write_results(tmp_path, trials=1)
    prefix = ["--prefix", str(tmp_path / "claims")]
    # a run file without its translations
    assert claims.main([*arguments({**files, "hyps": files["hyps"][1:]}), *prefix]) == 1
    assert "ERROR: no translations of SMALL dropout baseline 1" in capsys.readouterr().err
    # translations that are not where the layout puts a student's
    stray = tmp_path / "test.bpe"
    stray.write_text(Path(files["hyps"][0]).read_text())
    assert claims.main([*arguments({**files, "hyps": [str(stray), *files["hyps"][1:]]}), *prefix]) == 1
    assert f"ERROR: not a student's test translations: {stray}" in capsys.readouterr().err
    # translations that do not score what their run file says
    hyp = Path(files["hyps"][0])
    hyp.write_text(Path(files["hyps"][1]).read_text())
    assert claims.main([*arguments(files), *prefix]) == 1
    assert "ERROR: the translations of SMALL dropout baseline, trial 1, score" in capsys.readouterr().err
    # or are of another test set
    hyp.write_text("a\n")
    assert claims.main([*arguments(files), *prefix]) == 1
    assert f"ERROR: {hyp} has 1 lines but {files['ref']} has {SENTENCES}" in capsys.readouterr().err


def test_the_claims_plan_reuses_the_tables_comparisons_and_adds_combined_against_kd() -> None:
    config = load_config()  # the paper's: Table 3 with SMALL with and without dropout, 3 trials
    chosen, comparisons = design.claim_students(config)
    small = [s for s in design.students(config, ["table3"]) if s.architecture == "SMALL"]
    assert chosen == small and len(chosen) == 5 * 2 * 3
    against_baseline = {s for s, reference in comparisons if reference == "baseline"}
    assert against_baseline == {s for s in design.compared_students(config, "table3") if s.architecture == "SMALL"}
    assert sorted(s for s, reference in comparisons if reference == "kd") == [s for s in small
                                                                               if s.dataset == "base+kd"]
    assert design.claim_students({**config, "claims": None}) == ([], [])


def test_the_verdicts_settings_and_their_defaults() -> None:
    config = load_config()
    assert design.claim_settings(config) == {"margin": 0.5, "confidence": 0.95, "samples": 1000, "seed": 12345}
    bare = {**config, "claims": {k: v for k, v in config["claims"].items() if k not in design.CLAIM_DEFAULTS}}
    assert design.claim_settings(bare) == design.CLAIM_DEFAULTS
    assert design.claim_settings({**config, "claims": {**config["claims"], "margin": 1.0}})["margin"] == 1.0


@pytest.mark.parametrize(("override", "line"), [
    ({"margin": -0.5}, "claims.margin: -0.5 is less than the minimum of 0"),
    ({"confidence": 1}, "claims.confidence: 1 is greater than or equal to the maximum of 1"),
    ({"samples": 0}, "claims.samples: 0 is less than the minimum of 1"),
    ({"seed": "x"}, "claims.seed: 'x' is not of type 'integer'"),
    ({"margins": 1}, "claims.margins: unknown key (did you mean 'margin'?)"),
])
def test_the_schema_checks_the_verdicts_settings(override: dict, line: str) -> None:
    config = load_config()
    schema = yaml.safe_load((REPO / "schemas/config.schema.yaml").read_text())
    assert settings.schema_error(config, schema) is None
    assert settings.schema_error(settings.merge_config(config, {"claims": override}), schema) == line


def test_a_translation_path_names_its_student() -> None:
    s = design.Student("SMALL", "base+kd", False, 30, 2)
    where = layout.paths("some/outdir")
    assert layout.translation_student(layout.fill(where.student_test_hyp, **s.wildcards)) == s
    assert layout.translation_student(layout.fill(layout.paths(".").student_test_detok, **s.wildcards)) == s
    for path in ("data/translations/teacher/de-en/test.bpe", "data/translations/student/SMALL/kd/dropout/ckpt3/"
                 "trial1/dev.bpe", "translations/student/SMALL/kd/dropout/ckpt3/trial1/test.bpe"):
        with pytest.raises(ValueError, match="not a student's test translations"):
            layout.translation_student(path)
