"""MXNet 1.9.1 (Sockeye 1.18) on a GPU it has no kernels for: refused before Sockeye starts, in the job and, for a
local run, before any job, with a message that names the GPU and its compute capability. The GPUs come from a
stand-in `nvidia-smi` here (no GPU on this machine); the same code reads the real one on a GPU node."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SNAKEMAKE, SOCKEYE3_PYTHON, SOCKEYE_PYTHON, TINY
from slkd import gpu_check

H200 = "0, GPU-8f2e1c3a-0000-4a4b-9c9d-000000000001, NVIDIA H200, 9.0, 580.82.07, 143771\n"
A100 = "1, GPU-1234abcd-0000-4a4b-9c9d-000000000002, NVIDIA A100-SXM4-80GB, 8.0, 580.82.07, 81920\n"


def stand_in_smi(folder: Path, rows: str) -> Path:
    """A folder with an `nvidia-smi` that answers --query-gpu with these rows, to put first on PATH."""
    folder.mkdir(parents=True, exist_ok=True)
    smi = folder / "nvidia-smi"
    smi.write_text(f"#!/bin/sh\ncat <<'EOF'\n{rows}EOF\n")
    smi.chmod(0o755)
    return folder


@pytest.mark.unit
def test_parse_and_visible_devices() -> None:
    gpus = gpu_check.parse_query(H200 + A100)
    assert [(g.index, g.name, g.capability) for g in gpus] == [(0, "NVIDIA H200", (9, 0)),
                                                             (1, "NVIDIA A100-SXM4-80GB", (8, 0))]
    assert gpu_check.visible(gpus, None) == gpus
    assert gpu_check.visible(gpus, "1") == [gpus[1]]
    assert gpu_check.visible(gpus, "GPU-1234abcd") == [gpus[1]]  # a UUID prefix, as CUDA accepts
    assert gpu_check.visible(gpus, "1,0") == [gpus[1], gpus[0]]
    assert gpu_check.visible(gpus, "") == [] and gpu_check.visible(gpus, "7,0") == []  # CUDA stops at a bad one
    with pytest.raises(ValueError, match="unexpected nvidia-smi line"):
        gpu_check.parse_query("no GPU here\n")


@pytest.mark.unit
def test_mxnet_refuses_compute_capability_above_8_6() -> None:
    h200, a100 = gpu_check.parse_query(H200 + A100)
    assert gpu_check.mxnet_refusal([a100]) is None
    assert gpu_check.mxnet_refusal([]) is None
    ampere_86 = gpu_check.Gpu(0, "GPU-x", "NVIDIA GeForce RTX 3090", "8.6", "1", "24576")
    assert gpu_check.mxnet_refusal([ampere_86]) is None
    message = gpu_check.mxnet_refusal([a100, h200])
    assert message.startswith("GPU 0 NVIDIA H200 (compute capability 9.0): MXNet 1.9.1")
    assert "A100" not in message.split(":")[0]
    assert "backend: sockeye3" in message and "gpu_model" in message and "constraint" in message


@pytest.mark.unit
def test_visible_gpus_reads_nvidia_smi_under_cuda_visible_devices(tmp_path: Path) -> None:
    env = {"PATH": str(stand_in_smi(tmp_path, H200 + A100)), "CUDA_VISIBLE_DEVICES": "1"}
    assert [g.name for g in gpu_check.visible_gpus(env)] == ["NVIDIA A100-SXM4-80GB"]
    assert gpu_check.visible_gpus({"PATH": str(tmp_path / "nowhere")}) is None  # no nvidia-smi: nothing known


def job_env(tmp_path: Path, rows: str) -> dict[str, str]:
    env = {**os.environ, "PATH": f"{stand_in_smi(tmp_path / 'bin', rows)}:{os.environ['PATH']}",
           "PYTHONPATH": str(REPO / "scripts")}
    env.pop("CUDA_VISIBLE_DEVICES", None)
    return env


def marker_python(tmp_path: Path) -> tuple[Path, Path]:
    """An 'interpreter' that only leaves a mark: it shows whether the job started its trainer."""
    marker, python = tmp_path / "started", tmp_path / "python"
    python.write_text(f"#!/bin/sh\ntouch {marker}\nexit 3\n")
    python.chmod(0o755)
    return python, marker


@pytest.mark.unit
@pytest.mark.parametrize("script", ["train_model", "translate"])
def test_an_mxnet_job_on_an_h200_fails_before_sockeye_starts(tmp_path: Path, script: str) -> None:
    python, marker = marker_python(tmp_path)
    (tmp_path / "in.txt").write_text("a b\n")
    args = {"train_model": ["--model-dir", str(tmp_path / "m"), "--done", str(tmp_path / "m.done.json"),
                            "--source", "s", "--target", "t", "--validation-source", "vs",
                            "--validation-target", "vt", "--flags", "{}"],
            "translate": ["--model-dir", str(tmp_path / "m"), "--input", str(tmp_path / "in.txt"),
                          "--output", str(tmp_path / "out.txt")]}[script]
    common = ["--sockeye-python", str(python), "--device", "auto", "--gpus", "1"]
    proc = subprocess.run([sys.executable, "-m", script, "--backend", "sockeye1", *common, *args],
                          capture_output=True, text=True, env=job_env(tmp_path, H200))
    assert proc.returncode == 1
    assert "ERROR: GPU 0 NVIDIA H200 (compute capability 9.0): MXNet 1.9.1" in proc.stderr
    assert not marker.exists()
    # the same job on the CPU, or as a Transformer (Sockeye 3) job on the GPU, does start its trainer
    for extra in (["--backend", "sockeye1", "--sockeye-python", str(python), "--device", "auto", "--gpus", "0"],
                  ["--backend", "sockeye3", *common]):
        proc = subprocess.run([sys.executable, "-m", script, *extra, *args], capture_output=True, text=True,
                              env=job_env(tmp_path, H200))
        assert proc.returncode == 1 and "MXNet" not in proc.stderr and marker.exists(), proc.stderr
        marker.unlink()


def local_run(tmp_path: Path, rows: str, device: str) -> subprocess.CompletedProcess[str]:
    override = tmp_path / "device.yaml"
    override.write_text(yaml.safe_dump({"compute": {"device": device}}))
    cmd = [str(SNAKEMAKE), "corpus", "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path),
           "--cores", "1", "--configfile", str(TINY), str(override), "--config", f"sockeye_python={SOCKEYE_PYTHON}",
           f"sockeye3_python={SOCKEYE3_PYTHON}"]
    return subprocess.run(cmd, capture_output=True, text=True, env=job_env(tmp_path, rows), timeout=300)


@pytest.mark.workflow
@pytest.mark.skipif(not SOCKEYE_PYTHON.exists(), reason=f"no Sockeye environment at {SOCKEYE_PYTHON}")
def test_a_local_mxnet_run_on_an_h200_stops_before_any_job(tmp_path: Path) -> None:
    proc = local_run(tmp_path, H200, "gpu")
    assert proc.returncode != 0
    assert "compute.device/gpu resource: GPU 0 NVIDIA H200 (compute capability 9.0)" in proc.stderr
    assert not (tmp_path / "tiny/data").exists()  # not even the corpus was made
    # on the CPU (auto, and the rules hold no GPU without the SLURM profile) the same machine runs it
    proc = local_run(tmp_path, H200, "auto")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "tiny/data/text/base/train.de").is_file()
