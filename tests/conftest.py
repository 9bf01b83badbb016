"""Shared test helpers: the repository, the real corpora beside it, and a way to run the workflow."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "tools"))  # the tools that the workflow never runs (tools/)
from slkd import backends, settings  # noqa: E402

SHARED_CORPORA = Path(os.environ.get("SLKD_SHARED", REPO.parent / "shared")) / "corpora"
TATOEBA = SHARED_CORPORA / "tatoeba-de-en"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
SOCKEYE_PYTHON = Path(os.environ.get("SLKD_SOCKEYE_PYTHON", REPO / ".venv-sockeye" / "bin" / "python"))
SOCKEYE3_PYTHON = Path(os.environ.get("SLKD_SOCKEYE3_PYTHON", REPO / ".venv-sockeye3" / "bin" / "python"))


def load_config(*overrides: str | Path) -> dict[str, Any]:
    """config.yaml merged with override files, as Snakemake merges --configfile."""
    return settings.load_config(REPO, *overrides)


def run_workflow(
    workdir: Path,
    *args: str,
    config: dict[str, Any] | None = None,
    configfiles: tuple[str | Path, ...] = (),
    check: bool = True,
    timeout: int = 1200,
    sockeye_python: str | Path = SOCKEYE_PYTHON,
    sockeye3_python: str | Path = SOCKEYE3_PYTHON,
    snakefile: Path = REPO / "Snakefile",
) -> subprocess.CompletedProcess[str]:
    """Run snakemake on the repository's Snakefile (or another clone's) in workdir; `config` is written to a file
    and merged last; the interpreters are given with --config (which outranks every config file)."""
    workdir.mkdir(parents=True, exist_ok=True)
    files = [str(Path(f).resolve()) for f in configfiles]
    if config is not None:
        extra = workdir / "test-config.yaml"
        extra.write_text(yaml.safe_dump(config, sort_keys=False))
        files.append(str(extra))
    cmd = [str(SNAKEMAKE), *args, "--snakefile", str(snakefile), "--directory", str(workdir), "--cores", "2",
           "--show-failed-logs", "--config", f"sockeye_python={sockeye_python}", f"sockeye3_python={sockeye3_python}"]
    if files:
        cmd += ["--configfile", *files]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=workdir)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return proc


def ungrouped(plan: str) -> str:
    """A dry run's job listing with each group job's members (a model's training and decodings: a dry run lists
    them indented under `Group job ...`) written as the jobs of no group are."""
    lines = []
    for line in plan.splitlines():
        if re.match(r"\[[^\]]*\d{4}\] Group job ", line):
            continue
        if re.match(r" {4}(\[[^\]]*\d{4}\]|(local)?rule \w+:)$", line) or line.startswith(" " * 8):
            line = line[4:]
        lines.append(line)
    return "\n".join(lines)


def planned_jobs(proc: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """The `Job stats` table of a dry run as {rule: count}."""
    counts: dict[str, int] = {}
    lines = (proc.stdout + proc.stderr).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Job stats:"))
    for line in lines[start + 3:]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        counts[parts[0]] = int(parts[1])
    return counts


TINY = REPO / "config/test-tiny.yaml"
TINY_TRANSFORMER = (TINY, REPO / "config/test-tiny-transformer.yaml")  # Transformer teachers and a column
GPU_RULES = set(backends.TRAINER_RULES)  # one GPU each in profiles/slurm


# Folder names as users have them (synced drives, macOS home folders, non-English names): a space and non-ASCII
# letters in the clone's path and in the working directory (so in every path of outdir)
ODD_NAME = "my dätä ünd spaces"


def copy_clone(dest: Path) -> Path:
    """A copy of this clone's working tree (tracked files and untracked ones that git does not ignore, links kept
    as links) at dest; the environments stay where they are (the interpreters are passed with --config)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source, target = REPO / name, dest / name
        if not source.exists() and not source.is_symlink():  # deleted in the working tree
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    return dest


@pytest.fixture(scope="session")
def odd_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This clone, copied to a folder whose name holds spaces and non-ASCII letters."""
    return copy_clone(tmp_path_factory.mktemp("clone") / ODD_NAME / "slkd workflow")


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory, odd_clone: Path) -> Path:
    """Tables 1-3 and the claims of config/test-tiny.yaml, run locally through real Sockeye (~3 min); its outdir.
    Run from a clone and in a working directory whose names hold spaces and non-ASCII letters: every path of
    every command does."""
    if not SOCKEYE_PYTHON.exists():
        pytest.skip(f"no Sockeye environment at {SOCKEYE_PYTHON}")
    workdir = tmp_path_factory.mktemp("e2e") / ODD_NAME
    run_workflow(workdir, "table1", "table2", "table3", "claims", configfiles=(TINY,), timeout=1500,
                 snakefile=odd_clone / "Snakefile")
    return workdir / "tiny"


@pytest.fixture
def tatoeba() -> Path:
    """The real Tatoeba text in ../shared/corpora (CI has it; a user's clone may not)."""
    if not (TATOEBA / "train.de").is_file():
        pytest.skip(f"real corpus not found at {TATOEBA} (it lives in ../shared/corpora beside the clone in CI)")
    return TATOEBA


@pytest.fixture(scope="session")
def tiny_transformer_run(tmp_path_factory: pytest.TempPathFactory, odd_clone: Path) -> Path:
    """Table 3 of config/test-tiny-transformer.yaml (Transformer teachers; LSTM and Transformer students), run
    locally through real Sockeye 1.18 and Sockeye 3 (~2 min), from the clone and in a working directory with
    spaces and non-ASCII letters (as tiny_run); its outdir."""
    for python in (SOCKEYE_PYTHON, SOCKEYE3_PYTHON):
        if not python.exists():
            pytest.skip(f"no Sockeye environment at {python}")
    workdir = tmp_path_factory.mktemp("e2e-transformer") / ODD_NAME
    run_workflow(workdir, "table3", configfiles=TINY_TRANSFORMER, timeout=1500, snakefile=odd_clone / "Snakefile")
    return workdir / "tiny-transformer"
