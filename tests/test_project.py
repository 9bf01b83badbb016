"""The project itself: pins agree, set-up is idempotent, code is ruff-clean and `snakemake --lint` says nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SNAKEMAKE


def requirement_pins(name: str) -> list[str]:
    lines = (REPO / "envs" / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.unit
@pytest.mark.parametrize(("env", "requirements"), [("workflow.yaml", "requirements-workflow.txt"),
                                                   ("sockeye.yaml", "requirements-sockeye.txt"),
                                                   ("sockeye3.yaml", "requirements-sockeye3.txt")])
def test_conda_envs_pin_what_make_setup_installs(env: str, requirements: str) -> None:
    spec = yaml.safe_load((REPO / "envs" / env).read_text())
    pip = next(d["pip"] for d in spec["dependencies"] if isinstance(d, dict))
    assert pip == requirement_pins(requirements)


@pytest.mark.unit
def test_sockeye_pins() -> None:
    pins = requirement_pins("requirements-sockeye.txt")
    assert {"mxnet==1.9.1", "numpy==1.23.5", "sacrebleu==1.3.6"} <= set(pins)
    assert "sockeye==1.18.106" in (REPO / "Makefile").read_text()
    assert "--no-deps sockeye==1.18.106" in (REPO / "envs/sockeye.post-deploy.sh").read_text()
    assert "--no-deps sockeye==3.1.34" in (REPO / "envs/sockeye3.post-deploy.sh").read_text()
    assert "--no-deps sockeye==3.1.34" in (REPO / "Makefile").read_text()


@pytest.mark.unit
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_setup_is_idempotent() -> None:
    if not (REPO / ".venv/.installed").exists():
        pytest.skip("the environments were not built by `make setup` (run the tests through `make test`)")
    # `make -q` exits 0 only when nothing would be rebuilt: a second `make test` does not reinstall
    proc = subprocess.run(["make", "-q", "setup"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.unit
def test_ruff_clean() -> None:
    ruff = Path(sys.executable).parent / "ruff"
    proc = subprocess.run([str(ruff), "check", "scripts", "tests", "bench", "tools"], cwd=REPO, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.plan
@pytest.mark.parametrize("configfile", [None, "config/demo.yaml"])
def test_snakemake_lint_is_clean(configfile: str | None, tmp_path: Path) -> None:
    cmd = [str(SNAKEMAKE), "--lint", "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path)]
    if configfile:
        cmd += ["--configfile", str(REPO / configfile)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
