"""The conda route (`snakemake --sdm conda`): every rule is planned with its environment file (the trainer rules
with their model's backend's, every other rule with the workflow's), the trainers are the environments' own
`python`, and a real run trains and decodes a student of each backend in those environments. conda itself is
on no registry these machines reach: tests/conda_standin.py answers for it and links the environments that
`make setup` built from the same pins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import conda_standin
import pytest
import yaml
from conftest import (
    REPO,
    SNAKEMAKE,
    SOCKEYE3_PYTHON,
    SOCKEYE_PYTHON,
    TINY,
    TINY_TRANSFORMER,
    load_config,
    run_workflow,
)

ENV_FILES = {"sockeye1": "envs/sockeye.yaml", "sockeye3": "envs/sockeye3.yaml"}  # by backend
WORKFLOW_ENV = "envs/workflow.yaml"
TRAINER_RULES = {"train_teacher", "train_student", "distill", "translate_test", "translate_dev"}
VENVS = {"slkd-workflow": REPO / ".venv", "slkd-sockeye": REPO / ".venv-sockeye",
         "slkd-sockeye3": REPO / ".venv-sockeye3"}


@pytest.fixture
def conda(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The stand-in conda first on PATH; its root (calls.log lists what it was asked)."""
    root = tmp_path / "conda"
    monkeypatch.setenv("PATH", f"{conda_standin.install(root, VENVS)}{os.pathsep}{os.environ['PATH']}")
    return root


def expected_env(config: dict, rule: str, wildcards: dict[str, str]) -> str:
    """The environment a job must run in, from the configuration alone: a trainer rule runs its model's backend
    (the teacher's, or the student's architecture's), every other rule the workflow's scripts."""
    if rule not in TRAINER_RULES:
        return WORKFLOW_ENV
    if "architecture" in wildcards:
        arch = wildcards["architecture"]
    elif wildcards.get("model", "teacher/").startswith("student/"):
        arch = wildcards["model"].split("/")[1]
    else:
        arch = config["teacher"]["architecture"]
    return ENV_FILES[config["architectures"][arch].get("backend", "sockeye1")]


def plan(workdir: Path, targets: list[str], configfiles: tuple[Path, ...], sdm: tuple[str, ...]) -> dict:
    cmd = [sys.executable, str(REPO / "tests/snakemake_plan.py"), "--workdir", str(workdir)]
    for path in configfiles:
        cmd += ["--configfile", str(path)]
    for method in sdm:
        cmd += ["--sdm", method]
    proc = subprocess.run([*cmd, *targets], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.mark.plan
@pytest.mark.parametrize("configfiles", [(TINY,), TINY_TRANSFORMER], ids=["tiny", "tiny-transformer"])
def test_every_rule_is_planned_with_its_environment_file(configfiles: tuple[Path, ...], conda: Path,
                                                         tmp_path: Path) -> None:
    config = load_config(*configfiles)
    planned = plan(tmp_path / "work", ["table1", "table3"], configfiles, ("conda",))
    seen = {}
    for job in planned["jobs"]:
        env = job["conda"]
        assert env is not None and Path(env).is_file(), job
        assert Path(env).resolve() == (REPO / expected_env(config, job["rule"], job["wildcards"])).resolve(), job
        seen[job["rule"], Path(env).name] = True
    assert {rule for rule, _env in seen} >= TRAINER_RULES | {"evaluate", "apply_bpe", "table3"}
    if configfiles == TINY_TRANSFORMER:  # both backends: LSTM students in one, Transformers in the other
        assert ("train_student", "sockeye.yaml") in seen and ("train_student", "sockeye3.yaml") in seen
        assert ("train_teacher", "sockeye3.yaml") in seen
    # the trainers are the environments' own python (found on each job's PATH), not the venvs' keys
    assert planned["env"] == {"SLKD_SOCKEYE_PYTHON": "python", "SLKD_SOCKEYE3_PYTHON": "python"}


@pytest.mark.plan
def test_without_conda_the_trainers_are_the_configured_interpreters(tmp_path: Path) -> None:
    planned = plan(tmp_path / "work", ["table3"], (TINY,), ())
    assert planned["env"] == {"SLKD_SOCKEYE_PYTHON": str(REPO / ".venv-sockeye/bin/python"),
                              "SLKD_SOCKEYE3_PYTHON": str(REPO / ".venv-sockeye3/bin/python")}


@pytest.mark.plan
def test_a_dry_run_under_conda_creates_the_three_environments(conda: Path, tmp_path: Path) -> None:
    proc = subprocess.run([str(SNAKEMAKE), "-n", "--sdm", "conda", "--snakefile", str(REPO / "Snakefile"),
                           "--directory", str(tmp_path), "table3", "--configfile", *map(str, TINY_TRANSFORMER)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    created = {line.split()[2] for line in (proc.stdout + proc.stderr).splitlines()
               if line.startswith("Conda environment ") and line.endswith(" will be created.")}
    assert {Path(path).resolve() for path in created} == {
        (REPO / env).resolve() for env in (WORKFLOW_ENV, *ENV_FILES.values())}


@pytest.mark.workflow
@pytest.mark.skipif(not (SOCKEYE_PYTHON.exists() and SOCKEYE3_PYTHON.exists()), reason="no Sockeye environments")
def test_students_of_both_backends_train_and_decode_in_their_conda_environments(conda: Path, tmp_path: Path) -> None:
    lstm = "tiny-transformer/models/student/SMALL/baseline/dropout/ckpt3/trial1"
    transformer = "tiny-transformer/models/student/T-SMALL/baseline/dropout/ckpt3/trial1"
    targets = [f"{lstm}.done.json", f"{transformer}.done.json",
               "tiny-transformer/data/translations/student/SMALL/baseline/dropout/ckpt3/trial1/test.bpe",
               "tiny-transformer/data/translations/student/T-SMALL/baseline/dropout/ckpt3/trial1/test.bpe"]
    prefix = tmp_path / "conda-envs"
    # interpreter keys that name nothing: under conda they are not read
    run_workflow(tmp_path, "--sdm", "conda", "--conda-prefix", str(prefix), *targets, configfiles=TINY_TRANSFORMER,
                 sockeye_python="/nonexistent/python", sockeye3_python="/nonexistent/python3", timeout=900)
    created = [line.split() for line in (conda / "calls.log").read_text().splitlines() if line.startswith("env create")]
    names = {yaml.safe_load(Path(call[call.index("--file") + 1]).read_text())["name"] for call in created}
    assert names == set(VENVS)
    envs = {link.resolve(): link for link in prefix.iterdir() if link.is_symlink()}
    for model, venv in ((lstm, VENVS["slkd-sockeye"]), (transformer, VENVS["slkd-sockeye3"])):
        # Sockeye ran as the python of the environment that Snakemake created for the job, not the venv's path
        python = Path((tmp_path / model / "command.sh").read_text().splitlines()[1].split()[0])
        assert python.parent.parent == envs[venv.resolve()], python
        hyp = tmp_path / model.replace("models/", "data/translations/") / "test.bpe"
        assert len(hyp.read_text().splitlines()) == len((tmp_path / "tiny-transformer/data/text/base/test.de")
                                                        .read_text().splitlines())
