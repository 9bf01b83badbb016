"""The GPU check (bench/gpu, tools/gpu_bench.py, config/gpu-check.yaml): its configuration trains Transformers
only, on the GPU, sharing device 0; its results come from the Sockeye 3 logs, number for number. The fixture is a
real (tiny) Sockeye 3 training and decode on the CPU, laid out as the workflow lays out a teacher."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import gpu_bench
import pytest
import yaml
from conftest import REPO, SNAKEMAKE, load_config
from slkd import backends, checks, design, training_flags

SOCKEYE3_PYTHON = REPO / ".venv-sockeye3" / "bin" / "python"
GPU_CHECK = (REPO / "config/gpu-check.yaml",)
GPU_ARGS = ["--resources", "gpu=10", "--set-resources", *(f"{rule}:gpu=1" for rule in backends.TRAINER_RULES),
            "--scheduler", "greedy"]


@pytest.mark.unit
def test_gpu_check_config_trains_transformers_only():
    config = load_config(*GPU_CHECK)
    checks.check_config(config)
    # no MXNet model: the workflow's MXNet refusal (sm_90) never applies, and table1 adds no training
    assert design.backends_used(config) == ["sockeye3"]
    assert design.grid_students(config) == []
    assert set(design.students(config, ["table1"])) <= set(design.students(config, ["table3"]))
    students = design.students(config)
    assert len(students) == 10 and {s.dataset for s in students} == set(config["tables"]["table3"]["datasets"])
    assert design.teachers_used(config) == ["de-en", "en-de"]
    assert training_flags.teacher_flags(config)["batch-size"] >= 4096
    assert design.architecture(config, "T-LARGE")["transformer-model-size"] == 512
    cpu = load_config(*GPU_CHECK, REPO / "config/gpu-check-cpu.yaml")
    checks.check_config(cpu)
    assert design.backends_used(cpu) == ["sockeye3"] and cpu["outdir"] != config["outdir"]


@pytest.mark.plan
def test_gpu_dry_run_puts_every_trainer_job_on_device_0():
    proc = subprocess.run(
        [str(SNAKEMAKE), "-n", "-p", "--snakefile", str(REPO / "Snakefile"), "--configfile", *map(str, GPU_CHECK),
         "--config", "sockeye_python=/bin/false", "--cores", "16", *GPU_ARGS, "table3"],
        capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    trainer = [line for line in out.splitlines() if re.search(r"python -m (train_model|translate) ", line)]
    assert len(trainer) == 2 + 8 + 2 + 2 + 10 + 10  # teachers, shards, their test and dev decodes, students, theirs
    assert all("--device auto --gpus 1 " in line for line in trainer)
    assert all("--backend sockeye3 " in line for line in trainer)


@pytest.mark.unit
def test_wheels_and_results_are_not_committed():
    paths = ["bench/gpu-wheels/x.whl", "bench/gpu-results.json", "bench/gpu-results.md", "bench/work/gpu/models"]
    ignored = subprocess.run(["git", "check-ignore", *paths], cwd=REPO, capture_output=True, text=True)
    assert ignored.stdout.split() == ["bench/gpu-wheels/x.whl", "bench/gpu-results.json", "bench/gpu-results.md",
                                      "bench/work/gpu/models"]


# ---- the results writer on synthetic log lines -----------------------------------------------------------------
@pytest.mark.unit
def test_updates_per_second_leaves_out_each_starts_first_checkpoint():
    first = [(1, 20, 2.0), (2, 40, 0.5), (3, 60, 0.5)]
    resumed = [(4, 80, 3.0), (5, 100, 1.0)]
    assert gpu_bench.updates_per_second([first]) == (40 / 1.0, 40, 1.0)
    assert gpu_bench.updates_per_second([first, resumed]) == (60 / 2.0, 60, 2.0)
    assert gpu_bench.updates_per_second([[(1, 20, 2.0)]]) == (10.0, 20, 2.0)
    assert gpu_bench.updates_per_second([]) == (None, 0, 0.0)


@pytest.mark.unit
def test_precision_follows_sockeye3_flags():
    assert gpu_bench.precision({"dtype": "float32", "tf32": True}, cuda=True) == "tf32"
    assert gpu_bench.precision({"dtype": "float32", "tf32": True}, cuda=False) == "float32"
    assert gpu_bench.precision({"dtype": "float32", "tf32": False}, cuda=True) == "float32"
    assert gpu_bench.precision({"dtype": "float32", "amp": True}, cuda=True) == "float16"
    assert gpu_bench.PEAK_FLOPS["NVIDIA H200"] == {"float32": 67e12, "tf32": 494.7e12, "bfloat16": 989.4e12,
                                                   "float16": 989.4e12}


@pytest.mark.unit
def test_matrix_groups_and_formula():
    params = [("embedding_source.embedding", (100, 8)), ("encoder.layers.0.ff.ff1", (16, 8)),
              ("encoder.layers.0.ff.ff1", (16,)), ("decoder.layers.0.enc_attention.ff_kv", (16, 8)),
              ("decoder.layers.0.ff.ff2", (8, 16)), ("output_layer", (100, 8)), ("decoder.final.layer_norm", (8,))]
    groups = gpu_bench.matrix_groups(params)
    assert groups == {"enc": 128, "kv": 128, "dec": 128, "out": 800}
    # 10 sentences, 50 source and 40 target tokens: r = 1.25, n_s = 5, n_t = 4
    flops = gpu_bench.flops_per_token(groups, 10, (50, 40), (1, 2), (8, 8))
    assert flops == 6 * (1.25 * 256 + 128 + 800) + 12 * (1.25 * 1 * 5 * 8 + 2 * (4 + 5) * 8)
    with pytest.raises(ValueError, match="no group"):
        gpu_bench.matrix_groups([("length_ratio.layer", (8, 8))])


# ---- the results writer on a real Sockeye 3 run ----------------------------------------------------------------
def _corpus(path: Path, lines: int, seed: int) -> None:
    words = [f"w{i}" for i in range(40)]
    rows = []
    for n in range(lines):
        length = 3 + (n * 7 + seed) % 9
        rows.append(" ".join(words[(n * 13 + k * 5 + seed) % len(words)] for k in range(length)))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def sockeye3_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A teacher/de-en trained by Sockeye 3 (4 checkpoints) and its test and distillation decodes, in a workflow
    outdir's layout; the outdir."""
    if not SOCKEYE3_PYTHON.exists():
        pytest.skip(f"no Sockeye 3 environment at {SOCKEYE3_PYTHON}")
    out = tmp_path_factory.mktemp("gpu-bench")
    data = out / "data"
    data.mkdir()
    for split, lines, seed in (("train", 400, 1), ("dev", 40, 2), ("test", 30, 3)):
        _corpus(data / f"{split}.de", lines, seed)
        _corpus(data / f"{split}.en", lines, seed + 10)
    model = out / "models" / "teacher" / "de-en"
    entry = [str(SOCKEYE3_PYTHON), str(REPO / "scripts/sockeye3_entry.py")]
    subprocess.run(
        [*entry, "train", "--source", str(data / "train.de"), "--target", str(data / "train.en"),
         "--validation-source", str(data / "dev.de"), "--validation-target", str(data / "dev.en"),
         "--output", str(model), "--use-cpu", "--encoder", "transformer", "--decoder", "transformer",
         "--num-layers", "1:2", "--transformer-model-size", "16", "--num-embed", "16:16",
         "--transformer-attention-heads", "2", "--transformer-feed-forward-num-hidden", "32",
         "--batch-size", "128", "--batch-type", "word", "--checkpoint-interval", "5", "--max-updates", "20",
         "--decode-and-evaluate", "0", "--max-seq-len", "20:20", "--seed", "1", "--quiet"],
        check=True, capture_output=True, text=True, timeout=300)
    (out / "models" / "teacher" / "de-en.done.json").write_text("{}\n")
    test_log = out / "logs" / "translate_test" / "teacher" / "de-en.log"
    test_log.parent.mkdir(parents=True)
    with test_log.open("w") as err:
        subprocess.run([*entry, "translate", "--models", str(model), "--input", str(data / "test.de"),
                        "--output", str(out / "test.out"), "--use-cpu", "--beam-size", "2", "--no-logfile"],
                       check=True, stderr=err, timeout=300)
    (out / "logs" / "distill").mkdir(parents=True)  # one distillation shard: the same decode's log
    (out / "logs" / "distill" / "de-en.0.log").write_text(test_log.read_text())
    return out


@pytest.mark.workflow
def test_results_equal_their_sources(sockeye3_run: Path):
    config = load_config(*GPU_CHECK, REPO / "config/gpu-check-cpu.yaml")
    device = {"gpu": "NVIDIA H200", "compute_capability": "9.0", "driver": "x", "torch": "2", "cuda": None}
    doc = gpu_bench.results(config, sockeye3_run, device=device, wall_seconds=12.5, mxnet_refusal="refused")
    [m] = doc["models"]
    log = (sockeye3_run / "models/teacher/de-en/log").read_text()
    assert m["model"] == "teacher/de-en" and m["backend"] == "sockeye3" and m["finished"]
    assert m["architecture"] == {k: v for k, v in config["architectures"]["T-LARGE"].items() if k != "backend"}
    # parameters: the log's own count
    assert m["parameters"] == int(re.search(r"INFO:sockeye.utils:log_parameters\] # of parameters: (\d+)", log)[1])
    # training: 4 checkpoints of 5 updates; the first left out
    checkpoints = re.findall(r"Checkpoint \[\d+\]\s+Updates=(\d+) .*Time-cost=([\d.]+)", log)
    assert [int(u) for u, _ in checkpoints] == [5, 10, 15, 20] and m["checkpoints"] == 4
    seconds = sum(float(t) for _, t in checkpoints[1:])
    assert m["train_measured_updates"] == 15 and m["train_updates_per_second"] == pytest.approx(15 / seconds)
    train = log.split("Creating training data iterator")[1].split("Creating validation data iterator")[0]
    buckets = [(int(b), float(x)) for b, x in re.findall(r"in (\d+) batches of \d+, ~([\d.]+) target tokens", train)]
    per_update = sum(b * x for b, x in buckets) / sum(b for b, _ in buckets)
    assert m["train_tokens_per_update"] == pytest.approx(per_update)
    assert m["train_tokens_per_second"] == pytest.approx(15 / seconds * per_update)
    speeds = [float(s) for s in re.findall(r"tok/sec=([\d.]+)", log)]
    assert m["speedometer_tokens_per_second"] == (pytest.approx(sum(speeds) / len(speeds)) if speeds else None)
    # decoding: sockeye.translate's sent/sec
    test_log = (sockeye3_run / "logs/translate_test/teacher/de-en.log").read_text()
    lines, rate = re.search(r"Processed (\d+) lines\. Total time: [\d.]+, .*sent/sec: ([\d.]+)", test_log).groups()
    assert int(lines) == 30 and m["decode_sentences"] == 30 and m["decode_sentences_per_second"] == float(rate)
    assert m["distill_sentences"] == 30 and m["distill_shards"] == 1
    distill_log = (sockeye3_run / "logs/distill/de-en.0.log").read_text()
    assert m["distill_sentences_per_second"] == pytest.approx(
        30 / float(re.search(r"Total time: ([\d.]+)", distill_log)[1]))
    # FLOPs: the formula on the architecture's weight matrices, counted here from its sizes (d 16, ff 32, 1+2 layers)
    d, ff, vocab = 16, 32, int(re.search(r"vocab_target_size=(\d+)", log)[1])
    m_enc = 1 * (3 * d * d + d * d + 2 * d * ff)  # self-attention in (q, k, v) and out, feed-forward
    m_kv = 2 * (2 * d * d)  # cross-attention keys and values, per decoder layer
    m_dec = 2 * (3 * d * d + d * d + d * d + d * d + 2 * d * ff)  # self-attention, cross q and out, feed-forward
    m_out = d * vocab
    source, target = map(int, re.search(r"Tokens: source (\d+) target (\d+)", train).groups())
    r, n_s, n_t = source / target, source / 400, target / 400
    expected = 6 * (r * (m_enc + m_kv) + m_dec + m_out) + 12 * (r * 1 * n_s * 16 + 2 * (n_t + n_s) * 16)
    assert m["flops_per_token"] == pytest.approx(expected)
    # peak share: none for a training on the CPU, even with a GPU in the node
    assert m["device"] == "cpu" and m["precision"] == "float32" and m["peak_flops"] is None and m["peak_share"] is None
    assert m["concurrent_trainings"] in (None, 1.0)
    assert doc["gpu"] == "NVIDIA H200" and doc["dtype"] == "float32" and doc["wall_seconds"] == 12.5
    assert doc["mxnet_refusal"] == "refused"


@pytest.mark.workflow
def test_peak_share_of_a_cuda_training_is_against_the_tf32_peak(sockeye3_run: Path, tmp_path: Path):
    # the same log as if Sockeye had trained on cuda:0 (what its log says there: the device, then TF32)
    run = tmp_path / "run"
    shutil.copytree(sockeye3_run, run)
    log = run / "models/teacher/de-en/log"
    text = log.read_text()
    assert text.count("Training Device: cpu") == 1
    log.write_text(text.replace("Training Device: cpu", "Training Device: cuda:0\n[2026-01-01:00:00:00:INFO:sockeye"
                                ".utils:init_device] CUDA: allow tf32 (float32 but with 10 bits precision)"))
    config = load_config(*GPU_CHECK, REPO / "config/gpu-check-cpu.yaml")
    [m] = gpu_bench.results(config, run, device={"gpu": "NVIDIA H200"})["models"]
    assert m["device"] == "cuda:0" and m["precision"] == "tf32" and m["peak_flops"] == 494.7e12
    assert m["peak_share"] == pytest.approx(m["train_tokens_per_second"] * m["flops_per_token"] / 494.7e12)
    [other] = gpu_bench.results(config, run, device={"gpu": "NVIDIA A10"})["models"]
    assert other["peak_share"] is None  # no peak known for that GPU


@pytest.mark.workflow
def test_main_writes_json_and_markdown(sockeye3_run: Path, tmp_path: Path):
    refusal = tmp_path / "mxnet.txt"
    refusal.write_text("GPU 0 NVIDIA H200 (compute capability 9.0): MXNet 1.9.1 ...\n")
    timings = tmp_path / "timings.tsv"
    timings.write_text("step\tseconds\nsetup\t1.5\nworkflow\t100.25\n")
    assert gpu_bench.main(["--outdir", str(sockeye3_run), "--config", *map(str, GPU_CHECK),
                           str(REPO / "config/gpu-check-cpu.yaml"), "--out", str(tmp_path), "--wall-seconds", "101",
                           "--snakemake-rc", "0", "--mxnet-refusal", str(refusal), "--timings", str(timings),
                           "--cpu"]) == 0
    doc = json.loads((tmp_path / "gpu-results.json").read_text())
    for key in ("date", "gpu", "compute_capability", "driver", "torch", "cuda", "dtype", "models", "wall_seconds",
                "mxnet_refusal"):
        assert key in doc
    assert doc["gpu"] is None and doc["device"] == "cpu"  # --cpu: no GPU figure
    assert doc["step_seconds"] == {"setup": 1.5, "workflow": 100.25}
    assert doc["mxnet_refusal"].startswith("GPU 0 NVIDIA H200")
    [m] = doc["models"]
    for key in ("model", "backend", "architecture", "parameters", "train_tokens_per_second",
                "decode_sentences_per_second", "flops_per_token", "peak_share"):
        assert key in m
    assert m["peak_share"] is None  # no peak without a GPU
    md = (tmp_path / "gpu-results.md").read_text()
    assert "| teacher/de-en |" in md and f"{m['parameters']:,}" in md and "MXNet" in md
    assert yaml.safe_load(json.dumps(doc))["models"][0]["parameters"] == m["parameters"]
