"""Units of the model stages: distillation gathering, evaluation, tables, training commands."""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

import pytest
from conftest import REPO, load_config
from distill import gather, split
from evaluate import evaluate
from significance import paired_bootstrap
from slkd import backends, design, training_flags
from slkd.corpus_check import CorpusError
from slkd.formats import best_checkpoint, read_metrics
from slkd.sockeye_jobs import Job
from tables import table1, table2, table3
from train_model import build_argv, model_state

pytestmark = pytest.mark.unit

METRICS = (
    "1\tepoch=0\tperplexity-train=40.5\tperplexity-val=30.25\n"
    "2\tepoch=1\tperplexity-train=12.0\tperplexity-val=9.5\tbleu-val=0.2\n"
    "3\tconverged=False\tepoch=2\tperplexity-train=8.0\tperplexity-val=9.75\n"
)


def test_split_keeps_every_line_in_order(tmp_path: Path) -> None:
    infile = tmp_path / "train.bpe"
    infile.write_text("".join(f"s{i}\n" for i in range(7)))
    shards = split(infile, 3, tmp_path / "shards")
    assert [p.read_text().splitlines() for p in shards] == [["s0", "s1", "s2"], ["s3", "s4"], ["s5", "s6"]]
    assert split(infile, 9, tmp_path / "many")[-1].read_text() == ""


def nbest_line(i: int, hyps: list[str]) -> str:
    obj = {"sentence_id": i, "translation": hyps[0] if hyps else "", "score": 0.5}
    if len(hyps) > 1:
        obj["translations"] = hyps
    return json.dumps(obj) + "\n"


def test_gather_pairs_ranks_and_reports_empty_hypotheses(tmp_path: Path) -> None:
    (tmp_path / "0.in").write_text("a\nb\n")
    (tmp_path / "1.in").write_text("c\n")
    (tmp_path / "0.json").write_text(nbest_line(1, ["x@@ y z", "x y"]) + nbest_line(2, ["", "q"]))
    (tmp_path / "1.json").write_text(nbest_line(1, ["only"]))
    shards = [(tmp_path / "0.in", tmp_path / "0.json"), (tmp_path / "1.in", tmp_path / "1.json")]
    report = gather(shards, ["A .", "B .", "C ."], {"kd": 1, "best2": 2}, "de", "en", tmp_path / "out")
    out = tmp_path / "out"
    assert (out / "kd/train.de").read_text() == "A .\nC .\n"
    assert (out / "kd/train.en").read_text() == "xy z\nonly\n"
    assert (out / "best2/train.de").read_text() == "A .\nB .\n"
    assert (out / "best2/train.en").read_text() == "x y\nq\n"
    assert report["parts"]["kd"] == {"rank": 1, "pairs": 2, "empty": 1, "missing": 0, "hyp_types": 3}
    assert report["parts"]["best2"]["missing"] == 1


def test_gather_counts_an_invisible_hypothesis_as_empty(tmp_path: Path) -> None:
    # concat and prepare_corpus refuse a line of only invisible characters: gather leaves such pairs out
    (tmp_path / "0.in").write_text("a\nb\n")
    (tmp_path / "0.json").write_text(nbest_line(1, ["\u200b"]) + nbest_line(2, ["y\u200b"]))
    report = gather([(tmp_path / "0.in", tmp_path / "0.json")], ["A .", "B ."], {"kd": 1}, "de", "en", tmp_path)
    assert (tmp_path / "kd/train.en").read_text() == "y\u200b\n"
    assert report["parts"]["kd"] == {"rank": 1, "pairs": 1, "empty": 1, "missing": 0, "hyp_types": 1}


def test_seqinterp_keeps_the_hypothesis_closest_to_the_reference(tmp_path: Path) -> None:
    (tmp_path / "0.in").write_text("a\nb\nc\nd\n")
    (tmp_path / "0.json").write_text(
        nbest_line(1, ["the cat sat", "the cat sat on the mat"])  # 2nd is the reference: rank 2
        + nbest_line(2, ["a dog barks loudly", "a dog"])  # 1st is closer
        + nbest_line(3, ["", "he runs"])  # the empty best is skipped
        + nbest_line(4, ["same words", "same words"])  # a tie keeps the better-ranked
    )
    refs = ["the cat sat on the mat", "a dog barks loudly today", "she runs", "same words"]
    shards = [(tmp_path / "0.in", tmp_path / "0.json")]
    report = gather(shards, ["A", "B", "C", "D"], {"seqinterp": "oracle", "kd": 1}, "de", "en", tmp_path / "o", refs)
    assert (tmp_path / "o/seqinterp/train.en").read_text().splitlines() == [
        "the cat sat on the mat", "a dog barks loudly", "he runs", "same words"]
    assert (tmp_path / "o/seqinterp/train.de").read_text().splitlines() == ["A", "B", "C", "D"]
    assert report["parts"]["seqinterp"]["ranks_chosen"] == {"1": 2, "2": 2}
    assert report["parts"]["kd"]["empty"] == 1
    with pytest.raises(CorpusError, match="needs --reference with 4 lines"):
        gather(shards, ["A", "B", "C", "D"], {"seqinterp": "oracle"}, "de", "en", tmp_path / "p", refs[:3])


def test_gather_refuses_a_short_shard(tmp_path: Path) -> None:
    (tmp_path / "0.in").write_text("a\nb\n")
    (tmp_path / "0.json").write_text(nbest_line(1, ["x"]))
    with pytest.raises(CorpusError, match=r"0\.json has 1 lines but its input has 2"):
        gather([(tmp_path / "0.in", tmp_path / "0.json")], ["A", "B"], {"kd": 1}, "de", "en", tmp_path / "o")


def test_metrics_and_best_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "metrics").write_text(METRICS)
    rows = read_metrics(tmp_path)
    assert [r["checkpoint"] for r in rows] == [1, 2, 3]
    assert best_checkpoint(rows)["checkpoint"] == 2
    (tmp_path / "hyp").write_text("the c@@ at sleeps .\na dog .\n")
    (tmp_path / "ref").write_text("the cat sleeps .\nthe dog .\n")
    result = evaluate(tmp_path / "hyp", tmp_path / "ref", tmp_path, "none")
    assert result["ppl_train"] == 12.0 and result["best_checkpoint"] == 2 and result["checkpoints"] == 3
    assert "tok:none" in result["bleu_signature"] and "nrefs:1" in result["bleu_signature"]
    assert 0 < result["bleu"] < 100 and result["chrf"] > result["bleu"] - 100
    assert [c["ppl_val"] for c in result["curve"]] == [30.25, 9.5, 9.75]


def run_json(path: Path, bleu: float, ppl: float) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"bleu": bleu, "ppl_train": ppl, "chrf": 50.0, "bleu_signature": "nrefs:1|tok:none",
                                "chrf_signature": "chrF2"}))
    return str(path)


def test_table3_means_sds_and_per_trial_values(tmp_path: Path) -> None:
    runs = {}
    for dataset, base in (("baseline", 20.0), ("kd", 22.0)):
        for arch in ("SMALL", "LARGE"):
            runs[(dataset, arch, "dropout")] = {
                t: json.loads(Path(run_json(tmp_path / f"{dataset}{arch}{t}", base + t, 3.0 + t)).read_text())
                for t in (1, 2, 3)
            }
    table3(runs, ["baseline", "kd"], [("SMALL", "dropout"), ("LARGE", "dropout")], tmp_path / "t3")
    rows = list(csv.DictReader(open(tmp_path / "t3.csv")))
    assert len(rows) == 4
    first = rows[0]
    assert (first["dataset"], first["architecture"], first["bleu_mean"], first["bleu_sd"]) == ("baseline", "SMALL",
                                                                                              "22.0", "1.0")
    assert first["bleu_per_trial"] == "21.00;22.00;23.00" and first["ppl_train_mean"] == "5.0"
    md = (tmp_path / "t3.md").read_text()
    assert "| kd | 24.00 ± 1.00 | 5.00 ± 1.00 | 24.00 ± 1.00 | 5.00 ± 1.00 |" in md
    assert r"\pm" in (tmp_path / "t3.tex").read_text()


def test_table1_and_table2(tmp_path: Path) -> None:
    runs = {("kd", "SMALL", "dropout"): {t: {"bleu": 20.0 + t, "bleu_signature": "sig"} for t in (1, 2)}}
    table1(runs, ["kd"], ("SMALL", "dropout"), tmp_path / "t1")
    assert (tmp_path / "t1.csv").read_text().splitlines()[1] == "kd,21.0,22.0,21.5,0.71,,,sig"
    assert "| kd | 21.00 | 22.00 | 21.50 ± 0.71 |" in (tmp_path / "t1.md").read_text()
    stats = tmp_path / "kd.tsv"
    stats.write_text("corpus\tlang\tlines\ttokens\ttypes\nkd\tde\t2\t9\t7\nkd\ten\t2\t8\t5\n")
    table2({"kd": stats}, "en", tmp_path / "t2")
    assert (tmp_path / "t2.csv").read_text().splitlines()[1] == "kd,en,2,8,5"


def test_student_flags_follow_the_paper() -> None:
    config = load_config()
    small_nodrop = design.Student("SMALL", "kd", False, 100, 2)
    flags = training_flags.student_flags(config, small_nodrop)
    assert flags["num-words"] == 500 and flags["rnn-num-hidden"] == 256 and flags["seed"] == 2
    assert flags["rnn-dropout-inputs"] == "0:0" and flags["rnn-dropout-states"] == "0:0"
    assert flags["max-updates"] == 100 * 4000 and "max-checkpoints" not in flags
    large = design.Student("LARGE", "kd", True, 30, 1)
    assert training_flags.student_flags(config, large)["rnn-dropout-inputs"] == ".1:.1"
    teacher = training_flags.teacher_flags(config)
    assert teacher["num-words"] == 10000 and teacher["max-num-epochs"] == 100
    data = {"source": "s", "target": "t", "validation_source": "vs", "validation_target": "vt"}
    argv = build_argv(Job(backends.get("sockeye1"), "py", "cpu", 1), "m", data, teacher)
    assert argv[:3] == ["py", str(REPO / "scripts/sockeye_entry.py"), "train"]
    assert argv[-1] == "--use-cpu" and "--learning-rate-decay-param-reset" in argv
    assert build_argv(Job(backends.get("sockeye1"), "py", "gpu", 1), "m", data, teacher)[-2:] == ["--device-ids", "0"]
    # Sockeye 3 (PyTorch): its own entry point and device flag
    argv = build_argv(Job(backends.get("sockeye3"), "py3", "gpu", 1), "m", data, teacher)
    assert argv[:3] == ["py3", str(REPO / "scripts/sockeye3_entry.py"), "train"]
    assert argv[-2:] == ["--device-id", "0"]
    assert build_argv(Job(backends.get("sockeye3"), "py3", "cpu", 1), "m", data, teacher)[-1] == "--use-cpu"


def test_model_state(tmp_path: Path) -> None:
    assert model_state(tmp_path / "none") == "new"
    (tmp_path / "params.best").write_text("")
    assert model_state(tmp_path) == "converged"
    (tmp_path / "training_state").mkdir()
    assert model_state(tmp_path) == "resumable"


def test_tables_mark_cells_that_differ_from_the_baseline_in_every_trial(tmp_path: Path) -> None:
    runs = {(d, a, "dropout"): {t: json.loads(Path(run_json(tmp_path / f"{d}{a}{t}", 20.0 + t, 3.0)).read_text())
                                for t in (1, 2)}
            for d in ("baseline", "kd") for a in ("SMALL", "LARGE")}
    tests = {("kd", "SMALL", "dropout"): {1: 0.001, 2: 0.02}, ("kd", "LARGE", "dropout"): {1: 0.001, 2: 0.3}}
    table3(runs, ["baseline", "kd"], [("SMALL", "dropout"), ("LARGE", "dropout")], tmp_path / "t3", tests, 0.05)
    rows = {(r["dataset"], r["architecture"]): r for r in csv.DictReader(open(tmp_path / "t3.csv"))}
    assert rows[("kd", "SMALL")]["p_per_trial"] == "0.0010;0.0200"
    assert rows[("kd", "SMALL")]["significant_trials"] == "2"
    assert rows[("kd", "LARGE")]["significant_trials"] == "1"
    assert rows[("baseline", "SMALL")]["p_per_trial"] == rows[("baseline", "SMALL")]["significant_trials"] == ""
    md = (tmp_path / "t3.md").read_text()
    assert "| kd | 21.50 ± 0.71† | 3.00 ± 0.00 | 21.50 ± 0.71 | 3.00 ± 0.00 |" in md
    assert "| baseline | 21.50 ± 0.71 |" in md and "p < 0.05 in every trial" in md
    assert "†" in (tmp_path / "t3.tex").read_text()
    table1(runs, ["baseline", "kd"], ("LARGE", "dropout"), tmp_path / "t1", tests, 0.05)
    lines = (tmp_path / "t1.csv").read_text().splitlines()
    assert lines[0].startswith("dataset,trial_1,trial_2,avg,sd,p_trial_1,p_trial_2,")
    assert lines[2].startswith("kd,21.0,22.0,21.5,0.71,0.001,0.3,")
    assert "| kd | 21.00† | 22.00 | 21.50 ± 0.71 |" in (tmp_path / "t1.md").read_text()


def test_paired_bootstrap_is_sacrebleus_and_seeded() -> None:
    rng = random.Random(0)
    refs = [" ".join(rng.choice("abcdefghij") for _ in range(10)) for _ in range(200)]
    worse = [" ".join(r.split()[:6]) for r in refs]  # every sentence loses its last 4 words
    # one sentence in 40 loses a 6th word, another gains a 7th: no consistent difference
    mixed = [" ".join(r.split()[:5]) if i % 40 == 0 else " ".join(r.split()[:7]) if i % 40 == 20 else w
             for i, (r, w) in enumerate(zip(refs, worse, strict=True))]
    nearly = [r if i % 40 else " ".join(r.split()[:5]) for i, r in enumerate(worse)]  # only the losses
    clear = paired_bootstrap(refs, worse, refs, samples=200)
    assert clear["metric"] == "bleu" and clear["score"] == 100.0
    assert clear["difference"] == clear["score"] - clear["baseline_score"] > 30
    assert clear["p_value"] < 0.01 and "bs:200" in clear["signature"] and "tok:none" in clear["signature"]
    close = paired_bootstrap(mixed, worse, refs, samples=200)
    assert close["p_value"] > 0.3 and abs(close["difference"]) < 0.5
    small = paired_bootstrap(nearly, worse, refs, samples=200)  # paired: a small but consistent loss counts
    assert small["p_value"] < 0.05 and -1 < small["difference"] < 0
    assert small == paired_bootstrap(nearly, worse, refs, samples=200)  # same seed, same p
    assert paired_bootstrap(worse, worse, refs, samples=50)["p_value"] == 1.0
    with pytest.raises(ValueError, match="system 199, baseline 200, references 200"):
        paired_bootstrap(refs[1:], worse, refs)


def test_the_not_learning_guard() -> None:
    from train_model import not_learning, parse_guard

    stuck = [{"checkpoint": i, "perplexity-val": v} for i, v in enumerate([341.7, 340.2, 339.9, 338.2, 340.0], 1)]
    learning = [{"checkpoint": i, "perplexity-val": v} for i, v in enumerate([341.7, 250.0, 120.0, 60.0, 30.0], 1)]
    assert parse_guard("5:0.9") == (5, 0.9) and parse_guard("0:1") == (0, 1.0)
    assert not_learning(stuck, 5, 0.9) == (
        "not learning: its best validation perplexity after 5 checkpoints is 338.20, 99% of the first checkpoint's"
        " 341.70 (not_learning: below 90% within 5 checkpoints). Try another seed (teacher.seed; a student's"
        " trial) or a lower initial-learning-rate, and remove the model folder to train it afresh")
    assert not_learning(learning, 5, 0.9) is None
    assert not_learning(stuck[:4], 5, 0.9) is None  # too early to tell
    assert not_learning(stuck + [{"checkpoint": 6}], 6, 0.9) is None  # a row being written does not count
    assert not_learning(stuck, 0, 0.9) is None  # off


def test_result_formats_are_numbered() -> None:
    """A run or significance file's fields change only with its FORMAT (a rule parameter: the rules then write
    every such file again). Changing the fields means bumping FORMAT and this pin together."""

    import evaluate
    import significance

    assert (evaluate.FORMAT, evaluate.RUN_FIELDS) == (3, (
        "format", "model", "student", "bleu", "bleu_signature", "chrf", "chrf_signature", "bleu_detok",
        "bleu_detok_signature", "sentences", "empty_hypotheses", "best_checkpoint", "checkpoints", "ppl_train",
        "ppl_val", "parameters", "curve"))
    assert (significance.FORMAT, significance.SIGNIFICANCE_FIELDS) == (3, (
        "format", "model", "student", "baseline_model", "system", "baseline", "metric", "score", "baseline_score",
        "difference", "p_value", "ci95", "samples", "signature"))


def test_the_student_layout_is_spelled_once() -> None:
    """`student/{architecture}/.../trial{trial}` is written in slkd/layout.py only: rules, scripts and bench
    derive it (paths(), STUDENT, model_regex, pattern_glob)."""
    spelled = re.compile(r"ckpt\{|/ckpt\*|\*/\*/\*/\*/\*|trial\{trial\}")
    found = [str(path.relative_to(REPO)) for folder in ("rules", "scripts", "bench") for path in
             sorted((REPO / folder).rglob("*")) if path.is_file() and path.suffix in (".py", ".smk", "")
             and spelled.search(path.read_text(encoding="utf-8", errors="replace"))]
    found += ["Snakefile"] if spelled.search((REPO / "Snakefile").read_text(encoding="utf-8")) else []
    assert found == ["scripts/slkd/layout.py"]
