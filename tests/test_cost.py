"""`snakemake cost` (scripts/cost.py): the jobs it costs are the dry run's, the hours follow from budgets and
throughputs by hand, measured runs replace assumptions, and the rule writes one CSV row per job without
training anything."""

from __future__ import annotations

import copy
import csv
from collections import Counter
from pathlib import Path
from typing import Any

import cost
import pytest
import slkd_config as sc
from conftest import GPU_RULES, REPO, TINY, load_config, planned_jobs, run_workflow

TARGETS = ("table1", "table2", "table3", "figures", "grid")


def enumerated(config: dict[str, Any], root: Path) -> dict[str, int]:
    return cost.rule_counts(cost.jobs(config, cost.corpus_sizes(config, root)))


@pytest.mark.parametrize("configfiles", [(), (TINY,)], ids=["paper", "tiny"])
def test_costed_jobs_are_the_dry_runs(configfiles: tuple[Path, ...], tmp_path: Path) -> None:
    planned = planned_jobs(run_workflow(tmp_path, "-n", *TARGETS, configfiles=configfiles))
    config = load_config(*configfiles)
    assert enumerated(config, tmp_path) == {rule: planned[rule] for rule in cost.RULES}
    if not configfiles:  # the paper's: 2 teachers, 54 table students and 435 grid students, 8 shards each
        assert planned["train_student"] == 54 + 435 and planned["distill"] == 16


def test_gpu_rules_come_from_the_slurm_profile() -> None:
    assert cost.gpu_rules_of(REPO / "profiles/slurm/config.yaml") == GPU_RULES


@pytest.mark.parametrize(("arch", "total"), [
    # Sockeye 1.18's own "Total # of parameters" for these models (the demo's SMALL, the paper's LARGE and SMALL)
    ({"num-words": 100, "num-embed": 64, "num-layers": 1, "rnn-cell-type": "lstm", "rnn-num-hidden": 64}, 111_400),
    ({"num-words": 10000, "num-embed": 256, "num-layers": 1, "rnn-cell-type": "lstm", "rnn-num-hidden": 256},
     9_139_732),
    ({"num-words": 500, "num-embed": 256, "num-layers": 1, "rnn-cell-type": "lstm", "rnn-num-hidden": 256},
     1_834_232),
])
def test_model_size_matches_sockeye(arch: dict[str, Any], total: int) -> None:
    assert cost.parameters(arch) == total
    # weights per token: the same matrices less embeddings, biases and the decoder's initial state
    assert cost.weights_per_token(arch) < total


def test_scaling() -> None:
    large = {"num-words": 10000, "num-embed": 256, "num-layers": 1, "rnn-cell-type": "lstm", "rnn-num-hidden": 256}
    small = {**large, "num-words": 500}
    assert cost.weights_per_token(large) - cost.weights_per_token(small) == 9500 * 256  # only the output layer
    ratio = cost.weights_per_token(small) / cost.weights_per_token(large)
    assert cost.scale(small, large, 0.0) == pytest.approx(ratio)
    assert cost.scale(small, large, 1.0) == 1.0
    assert cost.scale(small, large, 0.5) == pytest.approx(0.5 + 0.5 * ratio)
    assert cost.scale(large, large, 0.3) == pytest.approx(1.0)


ARCH = {"num-words": 100, "num-embed": 32, "num-layers": 1, "rnn-cell-type": "lstm", "rnn-num-hidden": 32}


def one_student(checkpoints: int = 36, decode_and_evaluate: int = 0) -> dict[str, Any]:
    """The paper's config cut to one SMALL student on baseline (no teacher), with round throughputs."""
    config = copy.deepcopy(load_config())
    config.update(trials=1, grid={}, architectures={"SMALL": ARCH})
    config["tables"] = {"table1": {"checkpoints": checkpoints, "datasets": ["baseline"],
                                   "columns": [{"architecture": "SMALL", "dropout": True}]}}
    config["sockeye_train"].update({"batch-size": 1000, "checkpoint-frequency": 100,
                                    "decode-and-evaluate": decode_and_evaluate, "decode-and-evaluate-use-cpu": True})
    config["compute"].update(threads=2, device="auto")
    config["cost"].update(reference=ARCH, evaluate_seconds=36, measured=True)
    config["cost"]["gpu"].update(train_tokens_per_second=1000, decode_sentences_per_second=10, fixed_share=0.5,
                                 startup_seconds=5)
    config["cost"]["cpu"].update(train_tokens_per_second=250, decode_sentences_per_second=0.25, fixed_share=0.5,
                                 startup_seconds=1)
    config["cost"]["corpus"].update(dev_sentences=50, test_sentences=100)
    return config


def by_rule(rows: list[cost.Row]) -> dict[str, cost.Row]:
    return {row.job.rule: row for row in rows}


def test_one_student_by_hand(tmp_path: Path) -> None:
    rows, _, _ = cost.estimate(one_student(), GPU_RULES, root=tmp_path)
    assert Counter(r.job.rule for r in rows) == {"train_student": 1, "translate_test": 1, "evaluate": 1}
    rows_of = by_rule(rows)
    # 36 checkpoints x 100 updates of 1000 tokens at 1000 tokens/s: exactly one GPU-hour, no CPU
    train = rows_of["train_student"]
    assert (train.device, train.work, train.gpu, train.cpu, train.wait) == ("gpu", 3600, 3600.0, 0.0, 0.0)
    # 100 test sentences at 10 sentences/s after 5 s of start-up
    assert rows_of["translate_test"].gpu == 15.0
    assert (rows_of["evaluate"].device, rows_of["evaluate"].cpu) == ("cpu", 36.0)
    # on CPUs only: 4 times slower, 2 threads each (core-hours)
    cpu_rows = by_rule(cost.estimate(one_student(), GPU_RULES, root=tmp_path, device="cpu")[0])
    assert cpu_rows["train_student"].gpu == 0.0 and cpu_rows["train_student"].cpu == 4 * 3600 * 2
    assert cpu_rows["translate_test"].cpu == (1 + 100 / 0.25) * 2


def test_checkpoint_decoding_waits_only_when_slower(tmp_path: Path) -> None:
    # 50 dev sentences at 0.25/s on the CPU: 200 s against the checkpoint's 100 s of GPU updates -> 100 s waited
    rows = by_rule(cost.estimate(one_student(2, decode_and_evaluate=-1), GPU_RULES, root=tmp_path)[0])
    train = rows["train_student"]
    assert train.wait == 2 * 100.0 and train.gpu == 200 + 200.0
    assert train.cpu == 2 * 200 * 2  # the decoding's CPU time, 2 threads
    # 10 dev sentences: 40 s, hidden behind the updates
    rows = by_rule(cost.estimate(one_student(2, decode_and_evaluate=10), GPU_RULES, root=tmp_path)[0])
    assert rows["train_student"].wait == 0.0 and rows["train_student"].gpu == 200.0
    # on the CPU the decoding shares the job's cores: its time adds up
    rows = by_rule(cost.estimate(one_student(2, decode_and_evaluate=-1), GPU_RULES, root=tmp_path, device="cpu")[0])
    assert rows["train_student"].wall == 200 * 4 + 2 * 200


def test_teacher_budget_from_the_corpus(tmp_path: Path) -> None:
    config = load_config()
    flags = sc.teacher_flags(config)
    assumed = cost.corpus_sizes(config, tmp_path)
    tokens = round(2_940_000 * 1.1)
    assert assumed.teacher_tokens == {"de-en": tokens, "en-de": tokens}
    assert cost.teacher_updates(config, flags, tokens) == 100 * -(-tokens // 4096)
    assert cost.teacher_updates(config, {**flags, "max-updates": 5000}, tokens) == 5000
    # files under outdir replace the assumptions: word counts from the statistics, then the BPE text itself
    (tmp_path / "results/stats").mkdir(parents=True)
    (tmp_path / "results/stats/base.tsv").write_text("corpus\tlang\tlines\ttokens\ttypes\n"
                                                     "base\tde\t3\t1000\t9\nbase\ten\t3\t2000\t9\n")
    counted = cost.corpus_sizes(config, tmp_path)
    assert counted.teacher_tokens == {"de-en": 2200, "en-de": 1100}
    bpe = tmp_path / "data/bpe/10000/base/train.en"
    bpe.parent.mkdir(parents=True)
    bpe.write_text("a b@@ c\nd e\n")
    text = tmp_path / "data/text/base/dev.de"
    text.parent.mkdir(parents=True)
    text.write_text("x\ny\n")
    counted = cost.corpus_sizes(config, tmp_path)
    assert counted.teacher_tokens["de-en"] == 5 and counted.dev_sentences == 2
    assert counted.sources["dev"].startswith("counted")


SOCKEYE_LOG = "\n".join([
    "[2026-11-25:00:22:19:INFO:sockeye.utils:log_basic_info] Command: sockeye.train --source x --batch-size 1000"
    " --batch-type word --num-words {words} --num-embed {embed} --num-layers 1 --rnn-cell-type lstm"
    " --rnn-num-hidden 32 --max-updates 300 --use-cpu",
    *(f"[2026-11-25:00:22:28:INFO:sockeye.training:fit] Checkpoint [{i}]\tUpdates={100 * i} Epoch=0 Samples=9"
      f" Time-cost=50 Updates/sec={rate}" for i, rate in ((1, "0.100"), (2, "2.000"), (3, "2.000"))),
]) + "\n"


def test_measured_runs_replace_assumptions(tmp_path: Path) -> None:
    config = one_student()
    model = tmp_path / "models/student/SMALL/baseline/dropout/ckpt36/trial1"
    model.mkdir(parents=True)
    (model / "log").write_text(SOCKEYE_LOG.format(words=100, embed=32))
    # a decoding job: 100 test lines in 21 s of which 1 s start-up (cpu) -> 5 sentences/s
    test = tmp_path / "data/bpe/100/base/test.de"
    test.parent.mkdir(parents=True)
    test.write_text("w\n" * 100)
    bench = tmp_path / "benchmarks/translate_test/student/SMALL/baseline/dropout/ckpt36/trial1.tsv"
    bench.parent.mkdir(parents=True)
    bench.write_text("s\th:m:s\n21.0\t0:00:21\n")
    log = tmp_path / "logs/translate_test/student/SMALL/baseline/dropout/ckpt36/trial1.log"
    log.parent.mkdir(parents=True)
    log.write_text(f"python entry.py translate --models {model.relative_to(tmp_path)} --input "
                   f"{test.relative_to(tmp_path)} --output y --use-cpu\n")
    assert set(cost.measurement_files(config, tmp_path)) == {model / "log", bench}
    rows = by_rule(cost.estimate(config, GPU_RULES, root=tmp_path, device="cpu")[0])
    train = rows["train_student"]
    # the median of the checkpoints' 2.0 updates/s, the first left out: 2000 tokens/s, measured
    assert (train.rate, train.source) == (2000.0, "measured (1 run)")
    assert train.wall == 3600 / 2.0
    decode = rows["translate_test"]
    assert (decode.rate, decode.source) == (5.0, "measured (1 run)")
    # another architecture (twice the hidden size) is scaled from the measured one
    other = {**ARCH, "rnn-num-hidden": 64}
    rates = cost.Rates(config, cost.measure(config, {"gpu": 5, "cpu": 1}, tmp_path))
    tokens, source = rates.train("cpu", other)
    assert source.startswith("measured on other architectures")
    assert tokens == pytest.approx(2000 / cost.scale(other, ARCH, 0.5))
    # without `measured`, the configuration's rates
    config["cost"]["measured"] = False
    assert by_rule(cost.estimate(config, GPU_RULES, root=tmp_path, device="cpu")[0])[
        "train_student"].source.startswith("config cost.cpu")


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_cost_rule_on_the_tiny_config(tmp_path: Path) -> None:
    proc = run_workflow(tmp_path, "cost", configfiles=(TINY,))
    assert "1 of 1 steps (100%) done" in proc.stdout + proc.stderr  # nothing else ran
    results = tmp_path / "tiny/results"
    rows = read_csv(results / "cost.csv")
    assert list(rows[0]) == cost.CSV_COLUMNS
    # tiny: 2 teachers, 15 table students and 6 grid students, 2 of them Table 3's (19 trainings), 2 x 2 shards
    assert Counter(r["rule"] for r in rows) == {"train_teacher": 2, "train_student": 19, "distill": 4,
                                                 "translate_test": 21, "evaluate": 19}
    assert Counter(r["group"] for r in rows if r["rule"] == "train_student") == {"table students": 15,
                                                                                 "grid students": 4}
    assert {r["device"] for r in rows if r["rule"] in GPU_RULES} == {"gpu"}
    assert {r["device"] for r in rows if r["rule"] == "evaluate"} == {"cpu"}
    student = next(r for r in rows if r["job"] == "student/SMALL/kd/dropout/ckpt2/trial1")
    assert int(student["work"]) == 2 * 20 and student["source"].startswith("config cost.gpu")
    total = sum(float(r["gpu_hours"]) for r in rows)
    summary = (results / "cost.md").read_text()
    assert f"GPU-hours: **{cost.hours(total * 3600)}**" in summary and "## Assumptions" in summary
    # a finished training appears: the same command estimates again, with its measured rate
    model = tmp_path / "tiny/models/student/SMALL/kd/dropout/ckpt2/trial1"
    model.mkdir(parents=True)
    (model / "log").write_text(SOCKEYE_LOG.format(words=60, embed=16).replace("--use-cpu", "--device-ids 0"))
    proc = run_workflow(tmp_path, "cost", configfiles=(TINY,))
    assert "1 of 1 steps (100%) done" in proc.stdout + proc.stderr
    student = next(r for r in read_csv(results / "cost.csv") if r["job"] == "student/SMALL/kd/dropout/ckpt2/trial1")
    # on the GPU (--device-ids 0): 2.0 updates/s of 1000 tokens
    assert student["source"] == "measured (1 run)" and float(student["rate"]) == 2000.0
