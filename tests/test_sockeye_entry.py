"""Tests for scripts/sockeye_entry.py, run through the Sockeye interpreter as a subprocess.

The Sockeye interpreter is $SLKD_SOCKEYE_PYTHON, by default <repo>/.venv-sockeye/bin/python;
the tests are skipped when it is missing (the workflow venv itself has no mxnet).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from slkd.backends import sockeye1

REPO = Path(__file__).resolve().parents[1]
ENTRY = REPO / "scripts" / "sockeye_entry.py"
SOCKEYE_PYTHON = Path(os.environ.get("SLKD_SOCKEYE_PYTHON", REPO / ".venv-sockeye" / "bin" / "python"))

pytestmark = pytest.mark.skipif(
    not SOCKEYE_PYTHON.exists(),
    reason=f"Sockeye interpreter {SOCKEYE_PYTHON} not found (set SLKD_SOCKEYE_PYTHON or run `make setup`)",
)

WORDS_DE = ["der", "die", "das", "Hund", "Katze", "Haus", "sieht", "hat", "ein", "rot", "klein", "gross"]
WORDS_EN = ["the", "the", "the", "dog", "cat", "house", "sees", "has", "a", "red", "small", "big"]


def _entry(*args: str) -> list[str]:
    return [str(SOCKEYE_PYTHON), str(ENTRY), *args]


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "MXNET_CPU_WORKER_NTHREADS": "1"}


def _make_corpus(folder: Path, lines: int) -> None:
    """Write a synthetic word-for-word parallel corpus (deterministic)."""
    src, trg = [], []
    for i in range(lines):
        idx = [(i * 7 + k * (i % 5 + 1)) % len(WORDS_DE) for k in range(3 + i % 6)]
        src.append(" ".join(WORDS_DE[j] for j in idx))
        trg.append(" ".join(WORDS_EN[j] for j in idx))
    for name, rows in (("train", slice(None)), ("dev", slice(0, 20))):
        (folder / f"{name}.de").write_text("\n".join(src[rows]) + "\n")
        (folder / f"{name}.en").write_text("\n".join(trg[rows]) + "\n")


def _train_args(folder: Path, model: Path) -> list[str]:
    """The paper's flags (Appendix A) with tiny sizes; --max-updates is an absolute bound."""
    return [
        "train", "--source", str(folder / "train.de"), "--target", str(folder / "train.en"),
        "--validation-source", str(folder / "dev.de"), "--validation-target", str(folder / "dev.en"),
        "--output", str(model), "--use-cpu", "--disable-device-locking", "--seed", "1",
        "--num-words", "100:100", "--num-embed", "8", "--num-layers", "1", "--rnn-cell-type", "lstm",
        "--rnn-num-hidden", "8", "--max-seq-len", "100:100", "--word-min-count", "1:1",
        "--checkpoint-frequency", "5", "--batch-size", "200", "--batch-type", "word",
        "--keep-last-params", "3", "--decode-and-evaluate", "-1", "--decode-and-evaluate-use-cpu",
        "--initial-learning-rate", "0.0003", "--label-smoothing", "0.1", "--optimizer", "adam",
        "--gradient-clipping-threshold", "1.0", "--gradient-clipping-type", "abs",
        "--learning-rate-reduce-factor", "0.7", "--learning-rate-reduce-num-not-improved", "8",
        "--learning-rate-scheduler-type", "plateau-reduce",
        "--learning-rate-decay-optimizer-states-reset", "best", "--learning-rate-decay-param-reset",
        "--loss", "cross-entropy", "--embed-dropout", ".0:.0", "--encoder", "rnn", "--decoder", "rnn",
        "--rnn-attention-type", "dot", "--rnn-dropout-inputs", ".1:.1", "--rnn-dropout-states", ".1:.1",
        "--max-num-checkpoint-not-improved", "-1", "--max-updates", "30",
    ]  # fmt: skip


def _metrics_checkpoints(model: Path) -> list[int]:
    return [int(line.split("\t")[0]) for line in (model / "metrics").read_text().splitlines()]


@pytest.mark.workflow
def test_check_reports_versions() -> None:
    result = subprocess.run(_entry("--check"), capture_output=True, text=True, env=_env(), timeout=120)
    assert result.returncode == 0, result.stderr
    assert "sockeye 1.18.106" in result.stdout
    assert "mxnet 1.9.1" in result.stdout
    assert "numpy 1.23.5" in result.stdout


@pytest.mark.workflow
def test_unknown_command_is_rejected() -> None:
    result = subprocess.run(_entry("average"), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Usage" in result.stderr


@pytest.mark.workflow
def test_killed_training_resumes_and_translates(tmp_path: Path) -> None:
    _make_corpus(tmp_path, 300)
    model = tmp_path / "model"
    args = _train_args(tmp_path, model)
    log = tmp_path / "first.log"

    # 1) Start training; kill -9 once checkpoint 3 exists (so the state of checkpoint 2 is saved).
    with log.open("w") as out:
        proc = subprocess.Popen(_entry(*args), stdout=out, stderr=subprocess.STDOUT, env=_env())
        deadline = time.monotonic() + 60
        while not (model / "params.00003").exists():
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "no third checkpoint within 60 s"
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert (model / "training_state").is_dir()
    before = _metrics_checkpoints(model)
    assert before[:2] == [1, 2]

    # 2) Identical command again: Sockeye must resume (this crashed on numpy 1.23 without the fix).
    resumed = subprocess.run(_entry(*args), capture_output=True, text=True, env=_env(), timeout=120)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert "Resuming from saved state" in resumed.stderr
    assert "Object arrays cannot be loaded" not in resumed.stderr
    assert "Maximum # of updates (30) reached" in resumed.stderr
    # Checkpoints continue: 30 updates / 5 per checkpoint = 6, no restart at 1.
    assert _metrics_checkpoints(model) == [1, 2, 3, 4, 5, 6]
    assert (model / "params.00006").exists()
    assert os.readlink(model / "params.best").startswith("params.0000")
    saved = [line for line in resumed.stderr.splitlines() if "Saved params to" in line]
    assert saved and "params.00001" not in "".join(saved)  # resumed run never wrote checkpoint 1

    # 3) Decoding with an n-best list in JSON.
    translations = tmp_path / "out.json"
    result = subprocess.run(
        _entry("translate", "--models", str(model), "--use-cpu", "--disable-device-locking",
               "--beam-size", "5", "--nbest-size", "2", "--output-type", "json", "--batch-size", "4",
               "--input", str(tmp_path / "dev.de"), "--output", str(translations)),
        capture_output=True, text=True, env=_env(), timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in translations.read_text().splitlines()]
    assert [row["sentence_id"] for row in rows] == list(range(1, 21))
    assert all(len(row["translations"]) == 2 and row["translation"] == row["translations"][0] for row in rows)


@pytest.mark.unit
def test_cpu_engine_is_naive_unless_set_and_not_on_the_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MXNET_ENGINE_TYPE", raising=False)
    assert sockeye1.env(1)["MXNET_ENGINE_TYPE"] == "NaiveEngine"
    assert sockeye1.env(2, "cpu")["OMP_NUM_THREADS"] == "2"
    assert "MXNET_ENGINE_TYPE" not in sockeye1.env(1, "gpu")
    monkeypatch.setenv("MXNET_ENGINE_TYPE", "ThreadedEngine")
    assert sockeye1.env(1)["MXNET_ENGINE_TYPE"] == "ThreadedEngine"


@pytest.mark.workflow
def test_naive_engine_trains_the_same_model_as_the_threaded_one(tmp_path: Path) -> None:
    """The CPU engine the jobs use (trainers/sockeye1.CPU_ENGINE) changes the speed, not the numbers: the same
    training under either engine writes the same perplexities and the same parameters."""
    _make_corpus(tmp_path, 200)
    models = {}
    for engine in ("NaiveEngine", "ThreadedEnginePerDevice"):
        model = tmp_path / engine
        args = [*_train_args(tmp_path, model), "--max-updates", "10"]
        result = subprocess.run(_entry(*args), capture_output=True, text=True, timeout=120,
                                env={**_env(), "MXNET_ENGINE_TYPE": engine})
        assert result.returncode == 0, result.stderr[-3000:]
        models[engine] = model
    naive, threaded = models.values()

    def scores(model: Path) -> list[list[str]]:  # each checkpoint's numbers that do not measure time
        kept = ("perplexity-train=", "perplexity-val=", "gradient-norm=", "bleu-val=")
        return [[f for f in line.split("\t") if f.startswith(kept)]
                for line in (model / "metrics").read_text().splitlines()]

    assert [len(row) for row in scores(naive)] == [4, 4]
    assert scores(naive) == scores(threaded)
    assert (naive / "params.00002").read_bytes() == (threaded / "params.00002").read_bytes()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))


@pytest.mark.workflow
def test_check_reports_a_cpu_build_whose_libraries_all_resolve() -> None:
    result = subprocess.run(_entry("--check"), capture_output=True, text=True, env=_env(), timeout=120)
    assert "mxnet 1.9.1 (CUDA build: no)" in result.stdout
    assert "loader does not find" not in result.stderr


@pytest.mark.unit
def test_missing_libraries_reads_ldd_and_exempts_the_driver() -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    from sockeye_entry import missing_libraries

    ldd = (
        "\tlinux-vdso.so.1 (0x00007ffd)\n"
        "\tlibcudart.so.11.0 => /env/site-packages/nvidia/cuda_runtime/lib/libcudart.so.11.0 (0x7f)\n"
        "\tlibcudnn.so.8 => not found\n"
        "\tlibcuda.so.1 => not found\n"
        "\tlibnccl.so.2 => not found\n"
    )
    assert missing_libraries(ldd) == ["libcudnn.so.8", "libnccl.so.2"]
    assert missing_libraries("\tlibm.so.6 => /lib/libm.so.6 (0x7f)\n") == []


@pytest.mark.unit
def test_gpu_interpreter_puts_every_nvidia_library_folder_on_the_loader_path(tmp_path: Path) -> None:
    """envs/sockeye-gpu-python, as `make setup-gpu` installs it, in a stand-in environment."""
    bin_dir = tmp_path / "env/bin"
    bin_dir.mkdir(parents=True)
    site = tmp_path / "env/lib/python3.11/site-packages/nvidia"
    for package in ("cudnn", "cublas", "nccl"):
        (site / package / "lib").mkdir(parents=True)
    (site / "include-only").mkdir()
    (bin_dir / "python").write_text('#!/bin/sh\necho "$LD_LIBRARY_PATH|$*"\n')
    (bin_dir / "python").chmod(0o755)
    wrapper = bin_dir / "sockeye-python"
    wrapper.write_bytes((REPO / "envs/sockeye-gpu-python").read_bytes())
    wrapper.chmod(0o755)
    out = subprocess.run([str(wrapper), "x.py", "--check"], capture_output=True, text=True, timeout=30,
                         env={**os.environ, "LD_LIBRARY_PATH": "/site/lib"}, check=True).stdout.strip()
    path, _, args = out.partition("|")
    assert args == "x.py --check"
    assert path.split(":") == [str(site.resolve() / p / "lib") for p in ("cublas", "cudnn", "nccl")] + ["/site/lib"]
