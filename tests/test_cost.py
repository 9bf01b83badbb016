"""`snakemake cost` (scripts/cost.py): the jobs it costs are the dry run's, the hours follow from budgets and
throughputs by hand, measured runs replace assumptions, and the rule writes one CSV row per job without
training anything."""

from __future__ import annotations

import copy
import csv
import json
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import GPU_RULES, REPO, TINY, load_config, planned_jobs, run_workflow
from slkd import design, formats, training_flags
from slkd.cost import estimate as cost_estimate
from slkd.cost import plan as cost_plan
from slkd.cost import rates as cost_rates
from slkd.cost import report as cost_report
from slkd.cost import sharing as cost_sharing
from slkd.cost import sizes as cost_sizes

TARGETS = ("table1", "table2", "table3", "figures", "grid")


def enumerated(config: dict[str, Any], root: Path) -> dict[str, int]:
    return cost_plan.rule_counts(cost_plan.jobs(config, cost_plan.corpus_sizes(config, root)))


@pytest.mark.plan
@pytest.mark.parametrize("configfiles", [(), (TINY,), (TINY, REPO / "config/test-tiny-transformer.yaml")],
                         ids=["paper", "tiny", "tiny-transformer"])
def test_costed_jobs_are_the_dry_runs(configfiles: tuple[Path, ...], tmp_path: Path) -> None:
    planned = planned_jobs(run_workflow(tmp_path, "-n", *TARGETS, configfiles=configfiles))
    config = load_config(*configfiles)
    assert enumerated(config, tmp_path) == {rule: planned[rule] for rule in cost_plan.RULES if rule in planned}
    if not configfiles:  # the paper's: 2 teachers, 54 table students and 435 grid students, 8 shards each
        assert planned["train_student"] == 54 + 435 and planned["distill"] == 16


@pytest.mark.unit
def test_gpu_rules_come_from_the_slurm_profile(tmp_path: Path) -> None:
    profile = REPO / "profiles/slurm/config.yaml"
    assert cost_estimate.gpu_rules_of(profile) == GPU_RULES
    # with GPU sharing (the profile's one line `gpu: 1` replaced by a shard of one) the same rules are on a GPU
    shared = tmp_path / "config.yaml"
    shared.write_text(profile.read_text().replace("gpu: 1 ", 'gres: "shard:1" ', 1))
    assert 'gres: "shard:1"' in shared.read_text() and cost_estimate.gpu_rules_of(shared) == GPU_RULES


@pytest.mark.unit
@pytest.mark.parametrize(("arch", "total"), [
    # Sockeye 1.18's own "Total # of parameters" of these models (a 64-unit SMALL at BPE 100, the paper's LARGE, SMALL)
    ({"num-words": 100, "num-embed": 64, "num-layers": 1, "rnn-cell-type": "lstm", "rnn-num-hidden": 64}, 111_400),
    ({"num-words": 10000, "num-embed": 256, "num-layers": 1, "rnn-cell-type": "lstm", "rnn-num-hidden": 256},
     9_139_732),
    ({"num-words": 500, "num-embed": 256, "num-layers": 1, "rnn-cell-type": "lstm", "rnn-num-hidden": 256},
     1_834_232),
])
def test_model_size_matches_sockeye(arch: dict[str, Any], total: int) -> None:
    assert cost_rates.parameters(arch) == total
    # weights per token: the same matrices less embeddings, biases and the decoder's initial state
    assert cost_rates.weights_per_token(arch) < total


@pytest.mark.unit
def test_scaling() -> None:
    large = {"num-words": 10000, "num-embed": 256, "num-layers": 1, "rnn-cell-type": "lstm", "rnn-num-hidden": 256}
    small = {**large, "num-words": 500}
    # only the output layer differs
    assert cost_rates.weights_per_token(large) - cost_rates.weights_per_token(small) == 9500 * 256
    ratio = cost_rates.weights_per_token(small) / cost_rates.weights_per_token(large)
    assert cost_rates.scale(small, large, 0.0) == pytest.approx(ratio)
    assert cost_rates.scale(small, large, 1.0) == 1.0
    assert cost_rates.scale(small, large, 0.5) == pytest.approx(0.5 + 0.5 * ratio)
    assert cost_rates.scale(large, large, 0.3) == pytest.approx(1.0)


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


def by_rule(rows: list[cost_estimate.Row]) -> dict[str, cost_estimate.Row]:
    return {row.job.rule: row for row in rows}


@pytest.mark.unit
def test_one_student_by_hand(tmp_path: Path) -> None:
    rows, _, _ = cost_estimate.estimate(one_student(), GPU_RULES, root=tmp_path)
    assert Counter(r.job.rule for r in rows) == {"train_student": 1, "translate_test": 1, "evaluate": 1}
    rows_of = by_rule(rows)
    # 36 checkpoints x 100 updates of 1000 tokens at 1000 tokens/s: exactly one GPU-hour, no CPU
    train = rows_of["train_student"]
    assert (train.device, train.work, train.gpu, train.cpu, train.wait) == ("gpu", 3600, 3600.0, 0.0, 0.0)
    # 100 test sentences at 10 sentences/s after 5 s of start-up
    assert rows_of["translate_test"].gpu == 15.0
    assert (rows_of["evaluate"].device, rows_of["evaluate"].cpu) == ("cpu", 36.0)
    # on CPUs only: 4 times slower, 2 threads each (core-hours)
    cpu_rows = by_rule(cost_estimate.estimate(one_student(), GPU_RULES, root=tmp_path, device="cpu")[0])
    assert cpu_rows["train_student"].gpu == 0.0 and cpu_rows["train_student"].cpu == 4 * 3600 * 2
    assert cpu_rows["translate_test"].cpu == (1 + 100 / 0.25) * 2


@pytest.mark.unit
def test_shared_gpu_hours_by_hand(tmp_path: Path) -> None:
    """cost.sharing: 4 GPU jobs a GPU, each 2.5 x slower than alone -> each GPU job 2.5 / 4 of its GPU-hours."""
    config = one_student()
    config["cost"]["sharing"] = {"processes": 4, "slowdown": 2.5}
    rows, corpus, rates = cost_estimate.estimate(config, GPU_RULES, root=tmp_path)
    rows_of = by_rule(rows)
    train, decode, evaluate = rows_of["train_student"], rows_of["translate_test"], rows_of["evaluate"]
    assert (train.gpu_shared, train.wall_shared) == (3600.0 * 2.5 / 4, 3600.0 * 2.5)
    assert (decode.gpu_shared, decode.wall_shared) == (15.0 * 2.5 / 4, 15.0 * 2.5)
    assert (evaluate.gpu_shared, evaluate.wall_shared) == (0.0, 36.0)  # a CPU job: its own wall, no GPU
    summary = "\n".join(cost_report.group_table(rows, 4) + cost_report.sharing_lines(rows, cost_sharing.sharing(
        config, rates)))
    assert "| gpu | 1.0 | 0.00 | 1.0 | 24 | 0.62 | 2.5 |" in summary  # the table students: 2,250 GPU-seconds
    assert "With GPU sharing (`gres: \"shard:1\"`, cost.sharing.processes 4 jobs a GPU): **0.63** GPU-hours" in summary
    assert "Sockeye 1.18 RNNs: each shared job 2.50x slower than alone (assumed: config cost.sharing.slowdown)" \
        in summary
    # the CSV's columns hold the same numbers
    cost_report.write_csv(rows, tmp_path / "cost.csv")
    table = {row["rule"]: row for row in csv.DictReader(open(tmp_path / "cost.csv"))}
    assert float(table["train_student"]["shared_gpu_hours"]) == pytest.approx(2.5 / 4)
    assert float(table["train_student"]["shared_wall_hours"]) == pytest.approx(2.5)
    # a job that outlasts its time limit only when shared is named
    config["compute"]["runtime"]["train_student"] = 120
    rows, corpus, rates = cost_estimate.estimate(config, GPU_RULES, root=tmp_path)
    summary = "\n".join(cost_report.group_table(rows, 4) + cost_report.sharing_lines(rows, cost_sharing.sharing(
        config, rates)))
    assert "**1 GPU jobs would outlast their time limit when shared** (the longest, train_student" in summary
    assert "| 2.5 (over its time limit) |" in summary


@pytest.mark.unit
def test_the_gpu_checks_concurrent_trainings_give_the_transformers_sharing_slowdown(tmp_path: Path) -> None:
    results = tmp_path / "gpu-results.json"
    measured = copy.deepcopy(GPU_RESULTS)
    # the teacher alone (1 training at a time), the student with 9 others: T-SMALL is the smaller model, so its
    # rate scaled to the reference is below its raw 9,000 tokens/s
    measured["models"][1]["concurrent_trainings"] = 1.0
    measured["models"][0]["concurrent_trainings"] = 10.0
    results.write_text(json.dumps(measured))
    config = tiny_transformer()
    config["cost"]["sockeye3"]["gpu_measured"] = str(results)
    config["cost"]["sharing"] = {"processes": 4, "slowdown": 2.0}
    rows, corpus, rates = cost_estimate.estimate(config, GPU_RULES, root=tmp_path)
    s3 = config["cost"]["sockeye3"]
    f, reference = s3["gpu"]["fixed_share"], {**s3["reference"], "backend": "sockeye3"}
    large, small = (design.architecture(config, name) for name in ("T-LARGE", "T-SMALL"))
    at_ten = (12000.0 * cost_rates.scale(large, reference, f)) / (9000.0 * cost_rates.scale(small, reference, f))
    expected = 1 + (at_ten - 1) * (4 - 1) / (10 - 1)  # linear in the processes, from 1 to 10
    shared = cost_sharing.sharing(config, rates)
    assert shared.slowdown("sockeye3").factor == pytest.approx(expected) and shared.slowdown("sockeye3").measured
    assert shared.slowdown("sockeye1").factor == 2.0 and not shared.slowdown("sockeye1").measured
    by_job = rows_by_job(rows)
    teacher = by_job[("train_teacher", "de-en")]
    lstm = by_job[("train_student", "student/SMALL/kd/dropout/ckpt3/trial1")]
    assert teacher.gpu_shared == pytest.approx(teacher.gpu * expected / 4)
    assert lstm.gpu_shared == pytest.approx(lstm.gpu * 2.0 / 4)
    summary = cost_report.markdown(config, rows, corpus, rates, rows)
    assert (f"Sockeye 3 Transformers: each shared job {expected:.2f}x slower than alone (measured: GPU check"
            " gpu-results.json (2026-12-02, NVIDIA H200): 1 trainings at 10.0 at once ran") in summary
    assert "Sockeye 1.18 RNNs: each shared job 2.00x slower than alone (assumed" in summary
    # trainings all at one concurrency measure no slowdown: the assumption stays
    measured["models"][1]["concurrent_trainings"] = 10.0
    results.write_text(json.dumps(measured))
    assert not cost_sharing.sharing(config, cost_rates.Rates(config, None)).slowdown("sockeye3").measured


@pytest.mark.unit
def test_checkpoint_decoding_waits_only_when_slower(tmp_path: Path) -> None:
    # 50 dev sentences at 0.25/s on the CPU: 200 s against the checkpoint's 100 s of GPU updates -> 100 s waited
    rows = by_rule(cost_estimate.estimate(one_student(2, decode_and_evaluate=-1), GPU_RULES, root=tmp_path)[0])
    train = rows["train_student"]
    assert train.wait == 2 * 100.0 and train.gpu == 200 + 200.0
    assert train.cpu == 2 * 200 * 2  # the decoding's CPU time, 2 threads
    # 10 dev sentences: 40 s, hidden behind the updates
    rows = by_rule(cost_estimate.estimate(one_student(2, decode_and_evaluate=10), GPU_RULES, root=tmp_path)[0])
    assert rows["train_student"].wait == 0.0 and rows["train_student"].gpu == 200.0
    # on the CPU the decoding shares the job's cores: its time adds up
    rows = by_rule(cost_estimate.estimate(one_student(2, decode_and_evaluate=-1), GPU_RULES, root=tmp_path,
                                          device="cpu")[0])
    assert rows["train_student"].wall == 200 * 4 + 2 * 200


@pytest.mark.unit
def test_teacher_budget_from_the_corpus(tmp_path: Path) -> None:
    config = load_config()
    flags = training_flags.teacher_flags(config)
    assumed = cost_plan.corpus_sizes(config, tmp_path)
    tokens = round(2_940_000 * 1.1)
    assert assumed.teacher_tokens == {"de-en": tokens, "en-de": tokens}
    assert cost_plan.teacher_updates(config, flags, tokens) == 100 * -(-tokens // 4096)
    assert cost_plan.teacher_updates(config, {**flags, "max-updates": 5000}, tokens) == 5000
    # files under outdir replace the assumptions: word counts from the statistics, then the BPE text itself
    (tmp_path / "results/stats").mkdir(parents=True)
    (tmp_path / "results/stats/base.tsv").write_text("corpus\tlang\tlines\ttokens\ttypes\n"
                                                     "base\tde\t3\t1000\t9\nbase\ten\t3\t2000\t9\n")
    counted = cost_plan.corpus_sizes(config, tmp_path)
    assert counted.teacher_tokens == {"de-en": 2200, "en-de": 1100}
    bpe = tmp_path / "data/bpe/10000/base/train.en"
    bpe.parent.mkdir(parents=True)
    bpe.write_text("a b@@ c\nd e\n")
    text = tmp_path / "data/text/base/dev.de"
    text.parent.mkdir(parents=True)
    text.write_text("x\ny\n")
    counted = cost_plan.corpus_sizes(config, tmp_path)
    assert counted.teacher_tokens["de-en"] == 5 and counted.dev_sentences == 2
    assert counted.sources["dev"].startswith("counted")


SOCKEYE_LOG = "\n".join([
    "[2026-11-25:00:22:19:INFO:sockeye.utils:log_basic_info] Command: sockeye.train --source x --batch-size 1000"
    " --batch-type word --num-words {words} --num-embed {embed} --num-layers 1 --rnn-cell-type lstm"
    " --rnn-num-hidden 32 --max-updates 300 --use-cpu",
    *(f"[2026-11-25:00:22:28:INFO:sockeye.training:fit] Checkpoint [{i}]\tUpdates={100 * i} Epoch=0 Samples=9"
      f" Time-cost=50 Updates/sec={rate}" for i, rate in ((1, "0.100"), (2, "2.000"), (3, "2.000"))),
]) + "\n"


@pytest.mark.unit
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
    assert set(cost_rates.measurement_files(config, tmp_path)) == {model / "log", bench}
    rows = by_rule(cost_estimate.estimate(config, GPU_RULES, root=tmp_path, device="cpu")[0])
    train = rows["train_student"]
    # the median of the checkpoints' 2.0 updates/s, the first left out: 2000 tokens/s, measured
    assert (train.rate, train.source) == (2000.0, "measured (1 run)")
    assert train.wall == 3600 / 2.0
    decode = rows["translate_test"]
    assert (decode.rate, decode.source) == (5.0, "measured (1 run)")
    # another architecture (twice the hidden size) is scaled from the measured one
    other = {**ARCH, "rnn-num-hidden": 64}
    rates = cost_rates.Rates(config, cost_rates.measure(config, {"sockeye1": {"gpu": 5, "cpu": 1}}, tmp_path))
    tokens, source = rates.train("cpu", other)
    assert source.startswith("measured on other architectures")
    assert tokens == pytest.approx(2000 / cost_rates.scale(other, ARCH, 0.5))
    # without `measured`, the configuration's rates
    config["cost"]["measured"] = False
    assert by_rule(cost_estimate.estimate(config, GPU_RULES, root=tmp_path, device="cpu")[0])[
        "train_student"].source.startswith("config cost.cpu")


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.workflow
def test_cost_rule_on_the_tiny_config(tmp_path: Path) -> None:
    proc = run_workflow(tmp_path, "cost", configfiles=(TINY,))
    assert "1 of 1 steps (100%) done" in proc.stdout + proc.stderr  # nothing else ran
    results = tmp_path / "tiny/results"
    rows = read_csv(results / "cost.csv")
    assert list(rows[0]) == cost_report.CSV_COLUMNS
    # tiny: 2 teachers, 15 table students and 6 grid students, 2 of them Table 3's (19 trainings), 2 x 2 shards
    assert Counter(r["rule"] for r in rows) == {"train_teacher": 2, "train_student": 19, "distill": 4,
                                                 "translate_test": 21, "translate_dev": 2, "evaluate": 19}
    assert Counter(r["group"] for r in rows if r["rule"] == "train_student") == {"table students": 15,
                                                                                 "grid students": 4}
    assert {r["device"] for r in rows if r["rule"] in GPU_RULES} == {"gpu"}
    assert {r["device"] for r in rows if r["rule"] == "evaluate"} == {"cpu"}
    student = next(r for r in rows if r["job"] == "student/SMALL/kd/dropout/ckpt2/trial1")
    assert int(student["work"]) == 2 * 20 and student["source"].startswith("config cost.gpu")
    total = sum(float(r["gpu_hours"]) for r in rows)
    summary = (results / "cost.md").read_text()
    assert f"GPU-hours: **{cost_report.hours(total * 3600)}**" in summary and "## Assumptions" in summary
    # a finished training appears: the same command estimates again, with its measured rate
    model = tmp_path / "tiny/models/student/SMALL/kd/dropout/ckpt2/trial1"
    model.mkdir(parents=True)
    (model / "log").write_text(SOCKEYE_LOG.format(words=60, embed=16).replace("--use-cpu", "--device-ids 0"))
    proc = run_workflow(tmp_path, "cost", configfiles=(TINY,))
    assert "1 of 1 steps (100%) done" in proc.stdout + proc.stderr
    student = next(r for r in read_csv(results / "cost.csv") if r["job"] == "student/SMALL/kd/dropout/ckpt2/trial1")
    # on the GPU (--device-ids 0): 2.0 updates/s of 1000 tokens
    assert student["source"] == "measured (1 run)" and float(student["rate"]) == 2000.0


# ---- Sockeye 3 Transformers (backend sockeye3) ----------------------------------------------------------------
TINY_TRANSFORMER = REPO / "config/test-tiny-transformer.yaml"
# Trimmed copies (version, command, size and checkpoint lines; vocabularies, one decoding job each) of a real run
# of config/test-tiny-transformer.yaml on 2 CPU cores, 2026-12-02
FIXTURES = REPO / "tests/fixtures/tiny-transformer"
TEACHER_LOG = FIXTURES / "models/teacher/de-en/log"
STUDENT_LOG = FIXTURES / "models/student/T-SMALL/kd/dropout/ckpt3/trial1/log"


def tiny_transformer() -> dict[str, Any]:
    return load_config(TINY, TINY_TRANSFORMER)


def logged_parameters(log: Path) -> int:
    """Sockeye 3's `# of parameters: N | trainable: ...` (N: every parameter, the fixed ones too)."""
    line = next(line for line in log.read_text().splitlines() if "# of parameters:" in line)
    return int(line.split("# of parameters:")[1].split("|")[0])


def logged_vocabularies(log: Path) -> list[int]:
    """[source, target] vocabulary sizes from Sockeye 3's `Vocabulary: types: a/b/c/N (...+special)` lines (one
    line: a shared vocabulary)."""
    sizes = [int(line.split("Vocabulary: types: ")[1].split()[0].split("/")[-1])
             for line in log.read_text().splitlines() if "Vocabulary: types: " in line]
    return sizes * 2 if len(sizes) == 1 else sizes


def logged_rates(log: Path) -> list[float]:
    return [float(line.rsplit("Updates/sec=", 1)[1]) for line in log.read_text().splitlines()
            if "Updates/sec=" in line]


@pytest.mark.unit
@pytest.mark.parametrize(("name", "log", "total"), [("T-LARGE", TEACHER_LOG, 35_056), ("T-SMALL", STUDENT_LOG, 27_136)])
def test_transformer_size_matches_sockeye3(name: str, log: Path, total: int) -> None:
    config = tiny_transformer()
    assert logged_parameters(log) == total
    flags = training_flags.model_flags(config, name, True)  # architecture + sockeye3_train (max-seq-len: positions)
    assert cost_rates.parameters(flags) == total
    # the vocabularies: BPE size + 4 specials, padded to a multiple of 8, one shared by both sides (tied weights)
    words = design.architecture(config, name)["num-words"]
    for side in ("src", "trg"):
        vocab = json.loads((log.parent / f"vocab.{side}.0.json").read_text())
        assert len(vocab) == cost_sizes.padded_vocabulary(words, 8) == -(-(words + 4) // 8) * 8
    assert cost_rates.weights_per_token(flags) < total


# Sockeye 3.1.34's logs (trimmed: version, command, sizes) of other shapes, each trained on CPU on 2026-12-02:
# config.yaml's TRANSFORMER-LARGE and TRANSFORMER-SMALL (bench/cost_sockeye3.py), and two tiny models (one update
# on 40 lines of the tiny run's BPE text): A with GLU, 2:1 layers, 24:40 feed-forward units, learned positions,
# no weight tying (two vocabularies), pad-vocab-to-multiple-of 16, a post-process layer norm in the decoder; B with
# the SSRU decoder, 1:2 layers, src_trg tying (a separate output layer), LHUC everywhere.
SHAPES = REPO / "tests/fixtures/sockeye3-shapes"


@pytest.mark.unit
@pytest.mark.parametrize("shape", ["TRANSFORMER-LARGE", "TRANSFORMER-SMALL", "A", "B"])
def test_other_transformer_shapes_match_sockeye3(shape: str) -> None:
    log = SHAPES / shape / "log"
    command = formats.command(log)
    assert formats.log_backend(log) == "sockeye3" and command
    arch = cost_rates.command_arch(command, "sockeye3")
    vocabs = logged_vocabularies(log)
    assert cost_rates.parameters(arch, *vocabs) == logged_parameters(log)
    if shape.startswith("TRANSFORMER"):  # config.yaml's: the workflow's flags, the vocabularies from the BPE size
        config = load_config()
        assert cost_rates.parameters(training_flags.model_flags(config, shape, True)) == logged_parameters(log)
        assert vocabs == [cost_sizes.padded_vocabulary(config["architectures"][shape]["num-words"], 8)] * 2


@pytest.mark.unit
def test_transformer_scaling_and_names() -> None:
    config = tiny_transformer()
    large, small = (design.architecture(config, name) for name in ("T-LARGE", "T-SMALL"))
    # they differ only in the output layer: 304 against 64 padded types of 32 units
    assert cost_rates.weights_per_token(large) - cost_rates.weights_per_token(small) == (304 - 64) * 32
    assert cost_rates.arch_key(large) == "s3-bpe300-l1-m32-a2-ff64"
    # the same shape from a Sockeye 3 command line (strings, "E:D" pairs) has the same key
    command = TEACHER_LOG.read_text().split("Command: ", 1)[1].splitlines()[0].split()
    assert cost_rates.arch_key(cost_rates.command_arch(command, "sockeye3")) == cost_rates.arch_key(large)
    assert cost_rates.arch_key({**large, "transformer-feed-forward-use-glu": True, "num-layers": "2:1"}) == \
        "s3-bpe300-l2:1-m32-a2-ff64-feed-forward-use-glu=true"
    # the paper's RNN names are unchanged
    assert cost_rates.arch_key(load_config()["architectures"]["SMALL"]) == "bpe500-e256-l1-lstm-h256"


def rows_by_job(rows: list[cost_estimate.Row]) -> dict[tuple[str, str], cost_estimate.Row]:
    return {(row.job.rule, row.job.name): row for row in rows}


@pytest.mark.unit
def test_transformers_have_their_own_rates_and_the_rnns_keep_theirs(tmp_path: Path) -> None:
    config = tiny_transformer()
    config["cost"]["sockeye3"]["gpu_measured"] = ""
    rows = rows_by_job(cost_estimate.estimate(config, GPU_RULES, root=tmp_path)[0])
    s3 = config["cost"]["sockeye3"]
    reference = {**s3["reference"], "backend": "sockeye3"}
    student = rows[("train_student", "student/T-SMALL/kd/dropout/ckpt3/trial1")]
    arch = design.architecture(config, "T-SMALL")
    expected = s3["gpu"]["train_tokens_per_second"] / cost_rates.scale(arch, reference, s3["gpu"]["fixed_share"])
    assert (student.rate, student.source) == (pytest.approx(expected), "config cost.sockeye3.gpu, scaled")
    assert student.work == 3 * 20 and student.job.batch == 256  # sockeye3_train's checkpoint-interval, batch-size
    teacher = rows[("translate_test", "teacher/de-en")]  # the T-LARGE teacher decodes at Sockeye 3's GPU rate
    rate = s3["gpu"]["decode_sentences_per_second"] / cost_rates.scale(
        design.architecture(config, "T-LARGE"), reference, s3["gpu"]["fixed_share"])
    assert teacher.work == config["cost"]["corpus"]["test_sentences"]
    assert teacher.rate == pytest.approx(rate)
    assert teacher.wall == pytest.approx(s3["gpu"]["startup_seconds"] + teacher.work / rate)
    # on CPUs: cost.sockeye3.cpu
    cpu = rows_by_job(cost_estimate.estimate(config, GPU_RULES, root=tmp_path, device="cpu")[0])
    student = cpu[("train_student", "student/T-SMALL/kd/dropout/ckpt3/trial1")]
    assert student.rate == pytest.approx(
        s3["cpu"]["train_tokens_per_second"] / cost_rates.scale(arch, reference, s3["cpu"]["fixed_share"]))
    # the LSTM students of the same run are costed exactly as in config/test-tiny.yaml, which has no Transformer
    lstm = {(row.job.rule, cost_rates.arch_key(row.job.arch)): row
            for row in cost_estimate.estimate(load_config(TINY), GPU_RULES, root=tmp_path)[0]}
    students = [row for key, row in rows.items() if key[0] == "train_student" and "/T-SMALL/" not in key[1]]
    assert {row.job.arch["rnn-num-hidden"] for row in students} == {32, 16}  # Table 3's SMALL and the grid's
    for row in students:
        twin = lstm[("train_student", cost_rates.arch_key(row.job.arch))]
        assert (row.rate, row.source, row.job.batch) == (twin.rate, twin.source, twin.job.batch)


GPU_RESULTS = {"date": "2026-12-02", "gpu": "NVIDIA H200", "compute_capability": "9.0", "driver": "570.00",
               "torch": "2.11.0", "cuda": "13.0", "dtype": "float32",
               "models": [{"model": "student/T-SMALL/baseline/dropout/ckpt3/trial1", "backend": "sockeye3",
                           "architecture": {"num-words": 60, "num-embed": "32:32", "num-layers": "1:1",
                                            "transformer-model-size": 32, "transformer-attention-heads": 2,
                                            "transformer-feed-forward-num-hidden": 64},
                           "parameters": 27136, "train_tokens_per_second": 9000.0,
                           "decode_sentences_per_second": 90.0, "flops_per_token": 1.0, "peak_share": 0.001},
                          {"model": "teacher/de-en", "backend": "sockeye3",
                           "architecture": {"num-words": 300, "num-embed": "32:32", "num-layers": "1:1",
                                            "transformer-model-size": 32, "transformer-attention-heads": 2,
                                            "transformer-feed-forward-num-hidden": 64, "max-seq-len": "60:60"},
                           "parameters": 35056, "train_tokens_per_second": 12000.0,
                           "decode_sentences_per_second": 120.0, "flops_per_token": 1.0, "peak_share": 0.001}],
               "mxnet_refusal": "MXNet 1.9.1 has no kernels for compute capability 9.0"}


@pytest.mark.unit
def test_gpu_check_results_replace_the_assumed_transformer_gpu_rates(tmp_path: Path) -> None:
    results = tmp_path / "gpu-results.json"
    results.write_text(json.dumps(GPU_RESULTS))
    config = tiny_transformer()
    config["cost"]["sockeye3"]["gpu_measured"] = str(results)
    rows, corpus, rates = cost_estimate.estimate(config, GPU_RULES, root=tmp_path)
    by_job = rows_by_job(rows)
    # the teacher/de-en entry is the reference: T-LARGE, the tiny teacher's own architecture -> its rates as they are
    teacher = by_job[("train_teacher", "de-en")]
    label = "GPU check gpu-results.json (2026-12-02, NVIDIA H200, sm 9.0, torch 2.11.0, CUDA 13.0, float32)"
    assert (teacher.rate, teacher.source) == (pytest.approx(12000.0), label)
    assert by_job[("translate_test", "teacher/de-en")].rate == pytest.approx(120.0)
    # T-SMALL: scaled from T-LARGE's by weights per token, at cost.sockeye3.gpu's fixed share (relative to the
    # reference, cost.sockeye3.reference, as every scaled rate)
    s3 = config["cost"]["sockeye3"]
    f, reference = s3["gpu"]["fixed_share"], {**s3["reference"], "backend": "sockeye3"}
    large, small = (design.architecture(config, name) for name in ("T-LARGE", "T-SMALL"))
    student = by_job[("train_student", "student/T-SMALL/kd/dropout/ckpt3/trial1")]
    scaled = 12000.0 * cost_rates.scale(large, reference, f) / cost_rates.scale(small, reference, f)
    assert (student.rate, student.source) == (pytest.approx(scaled), label + ", scaled")
    assert rates.devices == cost_rates.Rates(tiny_transformer(), None).devices  # the RNNs' cost.gpu and cost.cpu
    reference_rate = rates.specs["sockeye3"]["gpu"].train_tokens_per_second
    assert reference_rate == pytest.approx(12000.0 * cost_rates.scale(large, reference, f))
    # the CPU rates and the RNNs' rates stay the configuration's
    lstm = by_job[("train_student", "student/SMALL/kd/dropout/ckpt3/trial1")]
    assert lstm.source == "config cost.gpu, scaled"
    assert by_job[("distill", "de-en.0")].source == label
    cpu_only = cost_estimate.estimate(config, GPU_RULES, tmp_path, "cpu")[0]
    summary = cost_report.markdown(config, rows, corpus, rates, cpu_only)
    assert "### Sockeye 3 Transformers (config cost.sockeye3)" in summary
    assert f"**measured** by the GPU check ({results}: 2026-12-02, NVIDIA H200" in summary
    assert "f and the start-up are still assumed" in summary
    assert "assumed: Sockeye 1.18 RNNs" in summary  # the RNNs' GPU row: still assumed
    # a teacher trained on the CPU (Sockeye 3's fallback without CUDA) is no GPU measurement: the first entry on
    # CUDA is then the reference; a rate it did not measure (None) stays assumed
    fallback = copy.deepcopy(GPU_RESULTS)
    fallback["models"][1]["device"] = "cpu"
    fallback["models"][0].update(device="cuda:0", decode_sentences_per_second=None, concurrent_trainings=10.0)
    results.write_text(json.dumps(fallback))
    rows, corpus, rates = cost_estimate.estimate(config, GPU_RULES, root=tmp_path)
    by_job = rows_by_job(rows)
    student = by_job[("train_student", "student/T-SMALL/kd/dropout/ckpt3/trial1")]
    assert (student.rate, student.source) == (pytest.approx(9000.0), label)
    assert by_job[("translate_test", "student/T-SMALL/kd/dropout/ckpt3/trial1")].source == \
        "config cost.sockeye3.gpu, scaled"
    summary = cost_report.markdown(config, rows, corpus, rates, rows)
    assert "GPU: training rates **measured** by the GPU check" in summary
    assert "model student/T-SMALL/baseline/dropout/ckpt3/trial1; 10.0 trainings shared the GPU on average" in summary
    assert "decoding, f and the start-up are still assumed" in summary
    # without the file: the assumed rates, and cost.md says so
    results.unlink()
    rows, corpus, rates = cost_estimate.estimate(config, GPU_RULES, root=tmp_path)
    assert rows_by_job(rows)[("train_teacher", "de-en")].source.startswith("config cost.sockeye3.gpu")
    assert "GPU: **assumed** (no GPU check results" in cost_report.markdown(config, rows, corpus, rates, rows)


def copy_fixtures(outdir: Path) -> None:
    for path in FIXTURES.rglob("*"):
        if path.is_file():
            target = outdir / path.relative_to(FIXTURES)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())


@pytest.mark.unit
def test_measured_sockeye3_runs_replace_assumptions(tmp_path: Path) -> None:
    config = tiny_transformer()
    config["cost"]["sockeye3"]["cpu"]["startup_seconds"] = 1.0  # the tiny decodings take 3-4 s
    copy_fixtures(tmp_path / "tiny-transformer")
    measured = cost_rates.measure(config, {"sockeye1": {"gpu": 30, "cpu": 6}, "sockeye3": {"gpu": 20, "cpu": 1.0}},
                            tmp_path)
    large, small = (cost_rates.arch_key(design.architecture(config, name)) for name in ("T-LARGE", "T-SMALL"))
    # training: batch-size (256 words) x the median Updates/sec of the checkpoints after the first (--use-cpu)
    assert measured.train == {("cpu", large): [256 * statistics.median(logged_rates(TEACHER_LOG)[1:])],
                              ("cpu", small): [256 * statistics.median(logged_rates(STUDENT_LOG)[1:])]}
    assert len(logged_rates(TEACHER_LOG)) == 29 and logged_rates(STUDENT_LOG) == [143.133, 135.098, 117.545]
    # decoding: the test set's 100 lines over the benchmark's seconds less 1 s of start-up
    seconds = {name: float((FIXTURES / "benchmarks/translate_test" / f"{name}.tsv").read_text().splitlines()[1]
                           .split("\t")[0]) for name in ("teacher/de-en", "student/T-SMALL/kd/dropout/ckpt3/trial1")}
    assert seconds == {"teacher/de-en": 3.02, "student/T-SMALL/kd/dropout/ckpt3/trial1": 4.76}
    assert measured.decode == {("cpu", large): [pytest.approx(100 / 2.02)], ("cpu", small): [pytest.approx(100 / 3.76)]}
    rows = rows_by_job(cost_estimate.estimate(config, GPU_RULES, root=tmp_path, device="cpu")[0])
    for model in ("kd", "baseline"):  # one T-SMALL log measured: every T-SMALL student (same architecture) uses it
        student = rows[("train_student", f"student/T-SMALL/{model}/dropout/ckpt3/trial1")]
        assert (student.rate, student.source) == (256 * statistics.median([135.098, 117.545]), "measured (1 run)")
    assert rows[("translate_test", "teacher/de-en")].source == "measured (1 run)"
    # on the GPU nothing was measured: Sockeye 3's GPU rates; the RNNs on the CPU stay the configuration's
    gpu = rows_by_job(cost_estimate.estimate(config, GPU_RULES, root=tmp_path)[0])
    assert gpu[("train_teacher", "de-en")].source.startswith(("config cost.sockeye3.gpu", "GPU check"))
    assert rows[("train_student", "student/SMALL/kd/dropout/ckpt3/trial1")].source == "config cost.cpu, scaled"
    # Sockeye 3 measurements never stand in for an RNN (nor the other way round)
    rates = cost_rates.Rates(config, measured)
    assert rates.train("cpu", design.architecture(config, "SMALL"))[1] == "config cost.cpu, scaled"
    tokens, source = rates.train("cpu", design.architecture(load_config(), "TRANSFORMER-SMALL"))
    assert source.startswith("measured on other architectures (2 runs)")
