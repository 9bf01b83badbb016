"""The metrics beside the paper's tokenized BLEU (config evaluation.metric, evaluation.columns): detokenized BLEU
on the detokenized files, chrF, the paired bootstrap of the metric shown, and the tables and claims that show
it; each number equal to what sacrebleu (its command line where it has one) or the run files give."""

from __future__ import annotations

import copy
import csv
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import claims
import detok
import pytest
import significance
import tables
import yaml
from conftest import REPO, load_config
from evaluate import evaluate
from slkd import checks, design, layout, results, settings
from slkd.corpus_check import CorpusError
from slkd.scoring import model_fields
from test_claims import references, translations, write_student

pytestmark = pytest.mark.unit

SACREBLEU = Path(sys.executable).parent / "sacrebleu"
SCHEMA = yaml.safe_load((REPO / "schemas/config.schema.yaml").read_text())
# Moses-tokenized English with its XML escapes, as TED's tok/ files and Sockeye's output have them
TOKENIZED = ["the cat didn &apos;t sleep , did it ?", "&quot; hello &quot; , she said .", "it costs $ 5 ."]
DETOKENIZED = ["the cat didn't sleep, did it?", '"hello", she said.', "it costs $5."]


def sacrebleu_cli(*args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run([str(SACREBLEU), *args], capture_output=True, text=True, check=True,
                          env={**os.environ, **(env or {})})
    return proc.stdout


def test_the_reference_is_detokenized_or_the_raw_text(tmp_path: Path) -> None:
    tokenized = tmp_path / "test.en"
    tokenized.write_text("\n".join(TOKENIZED) + "\n")
    assert detok.reference(tokenized, "en") == DETOKENIZED  # a corpus tokenized by its authors
    raw = tmp_path / "raw.en"  # a corpus the workflow tokenized: its raw text, as obtained (BOM and CRLF off)
    raw.write_bytes(b"\xef\xbb\xbfThe Cat didn't sleep,  did it?\r\nA\r\nB\r\n")
    assert detok.reference(tokenized, "en", raw) == ["The Cat didn't sleep,  did it?", "A", "B"]
    assert detok.reference(tokenized, "en", raw, lowercase=True)[0] == "the cat didn't sleep,  did it?"
    raw.write_text("one line\n")
    with pytest.raises(CorpusError, match=f"{raw} has 1 lines but its tokenized text {tokenized} has 3"):
        detok.reference(tokenized, "en", raw)
    out = tmp_path / "detok/test.en"
    assert detok.main(["reference", "--tokenized", str(tokenized), "--lang", "en", "--output", str(out)]) == 0
    assert out.read_text().splitlines() == DETOKENIZED


def test_detok_bleu_equals_sacrebleus_own_on_the_detokenized_file(tmp_path: Path) -> None:
    (tmp_path / "metrics").write_text("1\tperplexity-train=4.0\tperplexity-val=5.0\n")
    (tmp_path / "hyp.bpe").write_text("the c@@ at didn &apos;t sleep , did it ?\n&quot; hi &quot; , she said .\n"
                                      "it costs $ 6 .\n")
    (tmp_path / "ref.tok").write_text("\n".join(TOKENIZED) + "\n")
    reference = tmp_path / "ref.detok"
    reference.write_text("\n".join(detok.reference(tmp_path / "ref.tok", "en")) + "\n")
    hyp = tmp_path / "translations/test.detok"
    run = evaluate(tmp_path / "hyp.bpe", tmp_path / "ref.tok", tmp_path, "none", reference, hyp, "en")
    assert hyp.read_text().splitlines() == ["the cat didn't sleep, did it?", '"hi", she said.', "it costs $6."]
    assert run["bleu_detok"] == float(sacrebleu_cli(str(reference), "-i", str(hyp), "-b", "-w", "2"))
    assert run["bleu_detok_signature"] == json.loads(sacrebleu_cli(str(reference), "-i", str(hyp)))["signature"]
    assert "tok:13a" in run["bleu_detok_signature"] and "tok:none" in run["bleu_signature"]
    # without a detokenized reference: none scored, none written
    plain = evaluate(tmp_path / "hyp.bpe", tmp_path / "ref.tok", tmp_path, "none")
    assert plain["bleu_detok"] is plain["bleu_detok_signature"] is None and plain["bleu"] == run["bleu"]


def bootstrap_files(folder: Path) -> tuple[list[str], list[str], list[str]]:
    """A reference and two systems that differ by chance in a few sentences, not consistently."""
    rng = random.Random(1)
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split()
    refs = [" ".join(rng.choice(words) for _ in range(8)) for _ in range(120)]
    system = [" ".join(r.split()[:6]) if i % 7 == 0 else r for i, r in enumerate(refs)]
    baseline = [" ".join(r.split()[:5]) if i % 9 == 0 else r for i, r in enumerate(refs)]
    for name, lines in (("ref", refs), ("system", system), ("baseline", baseline)):
        (folder / name).write_text("\n".join(lines) + "\n")
    return system, baseline, refs


def test_the_chrf_bootstrap_is_sacrebleus_paired_bs_on_chrf(tmp_path: Path) -> None:
    system, baseline, refs = bootstrap_files(tmp_path)
    result = significance.paired_bootstrap(system, baseline, refs, samples=200, seed=7, metric_name="chrf")
    out = sacrebleu_cli(str(tmp_path / "ref"), "-i", str(tmp_path / "baseline"), str(tmp_path / "system"), "-m",
                        "chrf", "--paired-bs", "--paired-bs-n", "200", "-f", "text", env={"SACREBLEU_SEED": "7"})
    assert f"(p = {result['p_value']:.4f})" in out
    assert 0.01 < result["p_value"] < 0.99  # a p-value that the seed and the samples decide, not a bound
    assert re.search(rf"\b{result['score']:.1f} \(", out) and re.search(rf"\b{result['baseline_score']:.1f} \(", out)
    assert result["metric"] == "chrf" and "nc:6" in result["signature"]
    assert "bs:200" in result["signature"] and "seed:7" in result["signature"]
    bleu = significance.paired_bootstrap(system, baseline, refs, samples=200, seed=7)
    assert bleu["metric"] == "bleu" and bleu["score"] != result["score"] and "tok:none" in bleu["signature"]


def test_the_bootstrap_of_detok_bleu_reads_the_detokenized_files_as_they_are(tmp_path: Path) -> None:
    bootstrap_files(tmp_path)
    (tmp_path / "system").write_text((tmp_path / "system").read_text().replace("alpha", "al@@ pha"))
    output = tmp_path / "p.json"
    assert significance.main(["--hyp", str(tmp_path / "system"), "--baseline-hyp", str(tmp_path / "baseline"),
                              "--ref", str(tmp_path / "ref"), "--output", str(output), "--metric", "bleu_detok",
                              "--samples", "100"]) == 0
    result = json.loads(output.read_text())
    assert set(result) == set(significance.SIGNIFICANCE_FIELDS) and result["metric"] == "bleu_detok"
    # a detokenized file is scored as it is (no de-BPE): "al@@" stays a token; sacrebleu's default 13a
    assert result["score"] == float(sacrebleu_cli(str(tmp_path / "ref"), "-i", str(tmp_path / "system"), "-b",
                                                  "-w", "2"))
    assert "tok:13a" in result["signature"]


SIGNATURES = {"bleu_signature": "nrefs:1|tok:none", "chrf_signature": "nrefs:1|nc:6",
              "bleu_detok_signature": "nrefs:1|tok:13a"}


def run_file(folder: Path, dataset: str, arch: str, trial: int, detok_bleu: float | None = 0.0) -> dict:
    """A run file's fields with distinct numbers per metric (bleu, chrf, bleu_detok)."""
    base = {"baseline": 20.0, "kd": 24.0}[dataset] + trial + (10 if arch == "LARGE" else 0)
    run = {**model_fields(layout.student_model(design.Student(arch, dataset, True, 2, trial))), "bleu": base,
           "chrf": base + 30.5, "bleu_detok": None if detok_bleu is None else base - 1.25, "ppl_train": 3.0 + trial,
           **SIGNATURES}
    if detok_bleu is None:
        run["bleu_detok_signature"] = None
    path = folder / f"{arch}.{dataset}.{trial}.json"
    path.write_text(json.dumps(run))
    return run


def test_tables_show_the_configured_metric_and_columns_as_the_run_files_say(tmp_path: Path) -> None:
    runs = {(d, a, "dropout"): {t: run_file(tmp_path, d, a, t) for t in (1, 2)}
            for d in ("baseline", "kd") for a in ("SMALL", "LARGE")}
    columns = [("SMALL", "dropout"), ("LARGE", "dropout")]
    tests = {("kd", a, "dropout"): {1: 0.001, 2: 0.01} for a in ("SMALL", "LARGE")}
    tables.table3(runs, ["baseline", "kd"], columns, tmp_path / "t3", tests, 0.05, "chrf", ["bleu_detok"])
    rows = list(csv.DictReader(open(tmp_path / "t3.csv")))
    assert list(rows[0])[:len(tables.TABLE3_HEADER)] == tables.TABLE3_HEADER  # the paper's columns come first
    for row in rows:
        cell = runs[(row["dataset"], row["architecture"], "dropout")]
        assert row["metric"] == "chrf"
        assert float(row["bleu_mean"]) == (cell[1]["bleu"] + cell[2]["bleu"]) / 2
        assert float(row["chrf_mean"]) == (cell[1]["chrf"] + cell[2]["chrf"]) / 2
        assert row["chrf_per_trial"] == f"{cell[1]['chrf']:.2f};{cell[2]['chrf']:.2f}" and row["chrf_sd"] == "0.71"
        assert row["bleu_detok_per_trial"] == f"{cell[1]['bleu_detok']:.2f};{cell[2]['bleu_detok']:.2f}"
        assert float(row["bleu_detok_mean"]) == (cell[1]["bleu_detok"] + cell[2]["bleu_detok"]) / 2
        assert row["bleu_detok_signature"] == "nrefs:1|tok:13a" and row["chrf_signature"] == "nrefs:1|nc:6"
    md = (tmp_path / "t3.md").read_text()
    assert ("| Dataset | SMALL w/ dropout chrF | SMALL w/ dropout BLEU (detok.) | SMALL w/ dropout PPL_train |"
            " LARGE w/ dropout chrF |") in md
    # kd SMALL: chrF 55.5 and 56.5, marked (p < 0.05 in both trials); detok BLEU 23.75 and 24.75
    assert "| kd | 56.00 ± 0.71† | 24.25 ± 0.71 | 4.50 ± 0.71 | 66.00 ± 0.71† | 34.25 ± 0.71 | 4.50 ± 0.71 |" in md
    assert "Table 3: test chrF (beam 5), beside it detokenized BLEU, and BPE train perplexity" in md
    assert "†: chrF differs from the baseline" in md
    assert "chrF: nrefs:1|nc:6. BLEU (detok.): nrefs:1|tok:13a." in md
    assert "BLEU (detok.)" in (tmp_path / "t3.tex").read_text()

    tables.table1(runs, ["baseline", "kd"], ("SMALL", "dropout"), tmp_path / "t1", tests, 0.05, "bleu_detok",
                  ["bleu", "chrf"])
    rows = list(csv.DictReader(open(tmp_path / "t1.csv")))
    for row in rows:
        cell = runs[(row["dataset"], "SMALL", "dropout")]
        assert (float(row["trial_1"]), float(row["trial_2"])) == (cell[1]["bleu_detok"], cell[2]["bleu_detok"])
        assert (float(row["bleu_trial_1"]), float(row["chrf_trial_2"])) == (cell[1]["bleu"], cell[2]["chrf"])
        assert row["metric"] == "bleu_detok" and row["bleu_detok_signature"] == "nrefs:1|tok:13a"
    md = (tmp_path / "t1.md").read_text()
    assert "| Dataset | Trial 1 | Trial 2 | Avg ± sd | BLEU avg ± sd | chrF avg ± sd |" in md
    assert "| kd | 23.75† | 24.75† | 24.25 ± 0.71 | 25.50 ± 0.71 | 56.00 ± 0.71 |" in md
    assert "Table 1: test BLEU (detok.) of SMALL students" in md
    assert "BLEU (detok.): nrefs:1|tok:13a. BLEU: nrefs:1|tok:none. chrF: nrefs:1|nc:6." in md


def test_the_default_tables_are_the_papers(tmp_path: Path) -> None:
    """evaluation.metric bleu without columns: the columns and captions of before (test_stages.py pins the
    values); detokenized BLEU absent from the run files is not needed."""
    runs = {(d, "SMALL", "dropout"): {t: run_file(tmp_path, d, "SMALL", t, detok_bleu=None) for t in (1, 2)}
            for d in ("baseline", "kd")}
    tables.table3(runs, ["baseline", "kd"], [("SMALL", "dropout")], tmp_path / "t3")
    assert (tmp_path / "t3.csv").read_text().splitlines()[0] == ",".join(tables.TABLE3_HEADER)
    assert (tmp_path / "t3.md").read_text().endswith(
        "Table 3: tokenized test BLEU (beam 5) and BPE train perplexity at the best checkpoint, mean ± sd over"
        " trials. BLEU: nrefs:1|tok:none.\n")
    tables.table1(runs, ["baseline", "kd"], ("SMALL", "dropout"), tmp_path / "t1")
    assert (tmp_path / "t1.csv").read_text().splitlines()[0] == (
        "dataset,trial_1,trial_2,avg,sd,p_trial_1,p_trial_2,bleu_signature")
    with pytest.raises(tables.ResultFileError, match="has no bleu_detok"):
        tables.table3(runs, ["baseline", "kd"], [("SMALL", "dropout")], tmp_path / "t3", metric_columns=["bleu_detok"])


def test_a_table_refuses_a_bootstrap_of_another_metric(tmp_path: Path) -> None:
    test = tmp_path / "p.json"
    test.write_text(json.dumps({**model_fields(layout.student_model(design.Student("SMALL", "kd", True, 2, 1))),
                                "metric": "bleu", "p_value": 0.01}))
    assert tables.load_significance([test], "bleu") == {("kd", "SMALL", "dropout"): {1: 0.01}}
    with pytest.raises(tables.ResultFileError, match="compares bleu, not chrf"):
        tables.load_significance([test], "chrf")


@pytest.mark.parametrize("name", ["chrf", "bleu_detok"])
def test_claims_state_their_metric(name: str, tmp_path: Path) -> None:
    """The claims read the metric's translations (detokenized ones for bleu_detok) and its run files' scores."""
    ref = tmp_path / "test.en"
    ref.write_text("".join(f"{line}\n" for line in references()))
    files, hyps, tests, scores = [], [], [], {}
    for dataset in ("baseline", "kd"):
        for dropout in ("dropout", "nodropout"):
            student = design.Student("SMALL", dataset, dropout == "dropout", 2, 1)
            wrong = {"baseline": range(0, 3), "kd": range(0, 6)}[dataset]  # kd garbles twice as many sentences
            run, hyp, scores[dataset, dropout] = write_student(tmp_path, student, translations(references(), wrong, 1),
                                                               ref, name, bleu=99.0, **SIGNATURES)
            files.append(run)
            hyps.append(hyp)
            if dataset == "kd":
                test = tmp_path / f"p.{dropout}.json"
                baseline = design.Student("SMALL", "baseline", dropout == "dropout", 2, 1)
                test.write_text(json.dumps({**model_fields(layout.student_model(student)), "metric": name,
                                            "baseline_model": layout.student_model(baseline), "p_value": 0.02}))
                tests.append(str(test))
    assert hyps[0].endswith("/baseline/dropout/ckpt2/trial1/test.detok" if name == design.DETOK else
                            "/baseline/dropout/ckpt2/trial1/test.bpe")
    stats = tmp_path / "stats.tsv"
    stats.write_text("corpus\tlang\tlines\ttokens\ttypes\nbaseline\ten\t1\t9\t8\nkd\ten\t1\t9\t7\n")
    spec = {"architecture": "SMALL", "baseline": "baseline", "kd": "kd", "combined": "base+kd", "augmented": [],
            "alpha": 0.05, "lang": "en", "metric": name}
    assert claims.main(["--run", *files, "--hyp", *hyps, "--ref", str(ref), "--significance", *tests, "--stats",
                        str(stats), "--spec", json.dumps(spec), "--prefix", str(tmp_path / "claims")]) == 0
    line = next(csv.DictReader(open(tmp_path / "claims.csv")))
    kd, baseline = scores["kd", "dropout"], scores["baseline", "dropout"]
    assert (line["claim"], line["metric"], line["value"], line["reference"], line["verdict"], line["p_values"]) == (
        "kd>baseline", name, str(kd), str(baseline), "contradicted", "0.0200")
    assert float(line["effect"]) == pytest.approx(kd - baseline, abs=0.01) and float(line["ci_high"]) < 0
    md = (tmp_path / "claims.md").read_text()
    label, description = results.LABEL[name], results.DESCRIPTION[name]
    assert f"{label} kd {kd:.2f} vs baseline {baseline:.2f}" in md
    assert f"Scores and p-values: {description} ({SIGNATURES[f'{name}_signature']})." in md
    with pytest.raises(claims.ResultFileError, match=f"compares {name}, not bleu"):
        claims.load(files, tests, "bleu")


@pytest.mark.parametrize(("evaluation", "line"), [
    ({"metric": "bleu_tok"}, "evaluation.metric: 'bleu_tok' is not one of ['bleu', 'bleu_detok', 'chrf']"),
    ({"columns": ["chrf", "ter"]}, "evaluation.columns[1]: 'ter' is not one of ['bleu', 'bleu_detok', 'chrf']"),
    ({"columns": "chrf"}, "evaluation.columns: 'chrf' is not of type 'array'"),
])
def test_the_schema_names_a_wrong_metric_key(evaluation: dict, line: str) -> None:
    config = settings.merge_config(load_config(), {"evaluation": evaluation})
    assert settings.schema_error(config, SCHEMA) == line


@pytest.mark.parametrize(("evaluation", "message"), [
    ({"metric": "chrf", "columns": ["bleu", "chrf"]},
     "evaluation.columns[1]: 'chrf' is the tables' metric already (evaluation.metric)"),
    ({"columns": ["chrf", "bleu_detok", "chrf"]}, "evaluation.columns[2]: 'chrf' is shown twice"),
    ({"metric": "ter"}, "evaluation.metric: unknown metric 'ter' (known: bleu, bleu_detok, chrf)"),
])
def test_config_checks_name_the_metric_key(evaluation: dict, message: str) -> None:
    config = settings.merge_config(load_config(), {"evaluation": evaluation})
    with pytest.raises(settings.ConfigError) as err:
        checks.check_config(config)
    assert str(err.value) == message


def test_detokenized_bleu_is_scored_only_when_a_table_shows_it() -> None:
    config = load_config()
    shown = (design.table_metric(config), design.metric_columns(config), design.detok_used(config))
    assert shown == ("bleu", [], False)
    checks.check_config(config)
    for evaluation in ({"columns": ["bleu_detok"]}, {"metric": "bleu_detok", "columns": ["chrf"]}):
        assert design.detok_used(settings.merge_config(copy.deepcopy(config), {"evaluation": evaluation}))
    assert not design.detok_used(settings.merge_config(copy.deepcopy(config), {"evaluation": {"metric": "chrf"}}))
