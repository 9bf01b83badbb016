"""The project itself: pins agree, set-up is idempotent, code is ruff-clean and `snakemake --lint` says nothing."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SNAKEMAKE
from slkd import backends


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
    # each backend's module pins its Sockeye (the Makefile installs it from there: tests/test_backends.py), and its
    # conda environment's post-deploy script installs the same
    assert [backends.get(name).PACKAGE for name in ("sockeye1", "sockeye3")] == ["sockeye==1.18.106", "sockeye==3.1.34"]
    for module in backends.BACKENDS.values():
        post_deploy = REPO / module.ENV_FILE.replace(".yaml", ".post-deploy.sh")
        assert f"--no-deps {module.PACKAGE}" in post_deploy.read_text()


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


@pytest.mark.unit
def test_modules_stay_small() -> None:
    """One concern per module: no library module or script over 500 lines (the synthetic corpus generator, one
    concern, excepted), and rules/common.smk, which includes rules/common/, under 250."""
    sizes = {str(p.relative_to(REPO)): len(p.read_text(encoding="utf-8").splitlines())
             for folder in ("scripts", "tools") for p in sorted((REPO / folder).rglob("*.py"))}
    large = {path: n for path, n in sizes.items() if n > 500 and path != "scripts/synth.py"}
    assert not large and len(sizes) > 40
    common = REPO / "rules" / "common.smk"
    assert len(common.read_text(encoding="utf-8").splitlines()) < 250
    included = re.findall(r'^include: "(common/[\w.]+)"', common.read_text(encoding="utf-8"), re.M)
    assert included == ["common/trainers.smk", "common/inputs.smk", "common/targets.smk"]
    assert all(len((REPO / "rules" / name).read_text(encoding="utf-8").splitlines()) < 250 for name in included)


@pytest.mark.unit
def test_imports_point_one_way() -> None:
    """The library (scripts/slkd/) never imports a script of scripts/ or a tool, and no script imports another
    (the two trainer entry points aside: the second reuses the first's dispatch)."""
    scripts = {p.stem for p in (REPO / "scripts").glob("*.py")}
    tools = {p.stem for p in (REPO / "tools").glob("*.py")}

    def imported(path: Path) -> set[str]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
        return names | {node.module.split(".")[0] for node in ast.walk(tree)
                        if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    for path in (REPO / "scripts" / "slkd").rglob("*.py"):
        assert not imported(path) & (scripts | tools), path
    for path in (REPO / "scripts").glob("*.py"):
        allowed = {"sockeye_entry"} if path.stem == "sockeye3_entry" else set()
        assert not (imported(path) & (scripts | tools)) - allowed, path
