"""The profiles. The default one (profiles/default, read on every run): the card's bare commands get this
machine's cores (a cluster run gets none, so its jobs' threads are not capped) and print a failed job's own
message. Planned: `snakemake -n --profile slurm table3` from the repository root (the card's words) and
`--profile profiles/slurm` plan the paper's matrix, with one GPU on each training and decoding job, Sockeye on
that GPU, and the site's account and partitions. No cluster is needed for a dry run (tests/test_slurm.py runs
one)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import GPU_RULES, REPO, SNAKEMAKE, planned_jobs, ungrouped
from snakemake.utils import available_cpu_count


def dry_run(*args: str) -> str:
    """A dry run from the repository root, planning every job of the targets whatever exists already."""
    cmd = [str(SNAKEMAKE), "-n", "--forceall", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def jobs_of(plan: str) -> dict[str, list[str]]:
    """Each planned job's text block (resources, shell command), by rule."""
    blocks: dict[str, list[str]] = {}
    for block in re.split(r"\n(?=\[[^\]]+\]\n(?:local)?rule )", ungrouped(plan)):
        match = re.search(r"^(?:local)?rule (\w+):", block, re.M)
        if match:
            blocks.setdefault(match.group(1), []).append(block)
    return blocks


# Table 3 and a filtered part (config.yaml's kd-filtered, in no table): every trainer rule has a job
FILTERED = "data/distill/de-en/kd-filtered/report.json"


@pytest.fixture(scope="module")
def slurm_plan() -> str:
    return dry_run("--profile", "slurm", "table3", FILTERED)


@pytest.mark.unit
def test_profile_by_name_from_the_root_is_profiles_slurm() -> None:
    assert (REPO / "slurm").is_symlink() and (REPO / "slurm").resolve() == (REPO / "profiles/slurm").resolve()


@pytest.mark.plan
def test_slurm_dry_run_plans_the_paper_matrix(slurm_plan: str) -> None:
    jobs = planned_jobs(subprocess.CompletedProcess([], 0, slurm_plan, ""))
    assert jobs["train_teacher"] == 2 and jobs["train_student"] == 45 and jobs["evaluate"] == 45
    assert jobs["distill"] == 16 and jobs["translate_test"] == 47
    assert jobs["score_part"] == jobs["filter_part"] == 1 and jobs["bpe_part"] == 2
    by_path = dry_run("--profile", "profiles/slurm", "table3", FILTERED)
    assert planned_jobs(subprocess.CompletedProcess([], 0, by_path, "")) == jobs


@pytest.mark.plan
def test_gpu_rules_hold_a_gpu_and_sockeye_uses_it(slurm_plan: str) -> None:
    blocks = jobs_of(slurm_plan)
    assert GPU_RULES <= set(blocks)
    for rule, texts in blocks.items():
        for text in texts:
            resources = re.search(r"resources: (.*)", text)
            if resources is None:
                continue
            res = resources.group(1)
            assert "slurm_account=my_account" in res, (rule, res)
            if rule in GPU_RULES:
                # the job decides: compute.device auto with one GPU held runs Sockeye with --device-ids 0
                assert "gpu=1" in res and "slurm_partition=gpu" in res, (rule, res)
                assert "--device auto --gpus 1" in text, rule
            else:
                assert "gpu=" not in res and "slurm_partition=cpu" in res, (rule, res)
    runtimes = {rule: re.search(r"runtime=(\d+)", blocks[rule][0]).group(1) for rule in GPU_RULES}
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    assert runtimes == {rule: str(minutes) for rule, minutes in config["compute"]["runtime"].items()}


@pytest.mark.unit
def test_slurm_profile_requeues_and_retries() -> None:
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    assert profile["executor"] == "slurm" and profile["slurm-requeue"] is True and profile["retries"] >= 1
    # sacct says "CANCELLED by <uid>" after scancel, which the plugin (2.8) would wait on forever
    assert profile["slurm-status-command"] == "squeue"
    assert set(profile["set-resources"]) == GPU_RULES


@pytest.mark.plan
def test_local_profile_runs_sockeye_on_the_cpu() -> None:
    plan = dry_run("--profile", "profiles/local", "--configfile", "config/demo.yaml", "-p", "table3")
    train = jobs_of(plan)["train_student"][0]
    assert "--device auto --gpus 0" in train and "gpu=0" in train


# The card's bare commands: profiles/default (the workflow profile, read on every run of this Snakefile)
CORES_BY_COMMAND = [
    (["figures"], "all"),                               # the card's words: this machine's cores
    (["-n"], "all"),
    (["--profile", "profiles/local", "table3"], "all"),
    (["--cores", "3", "table3"], 3),                    # the command line outranks every profile
    (["--profile", "slurm", "table3"], None),           # a cluster: no cap on each job's threads
    (["--profile=profiles/slurm", "table3"], None),
    (["--executor", "slurm", "--jobs", "5", "table3"], None),
]


@pytest.mark.plan
@pytest.mark.parametrize(("argv", "cores"), CORES_BY_COMMAND)
def test_the_default_profile_sets_the_cores_of_local_runs_only(argv: list[str], cores: object) -> None:
    # snakemake's own argument parsing, in a process of its own (the profile reads sys.argv), from the root
    code = ("import json, sys; from snakemake.cli import parse_args; sys.argv = ['snakemake', *sys.argv[1:]];"
            " _, a = parse_args(sys.argv[1:]);"
            " print(json.dumps([a.cores, a.show_failed_logs, a.printshellcmds, a.rerun_incomplete]))")
    proc = subprocess.run([str(SNAKEMAKE.parent / "python"), "-c", code, *argv], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "workflow specific profile profiles/default" in proc.stderr
    expected = available_cpu_count() if cores == "all" else cores
    assert json.loads(proc.stdout.splitlines()[-1]) == [expected, True, True, True]


@pytest.mark.workflow
def test_a_bare_snakemake_run_prints_a_failed_jobs_own_message(tmp_path: Path) -> None:
    # no --cores, no --profile: the default profile gives the cores and prints the failed job's log
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for split in ("train", "dev", "test"):
        (corpus / f"{split}.de").write_text("ein hund .\nzwei katzen .\n", encoding="utf-8")
        (corpus / f"{split}.en").write_text("a dog .\ntwo cats .\n", encoding="utf-8")
    (corpus / "dev.en").write_text("a dog .\n\n", encoding="utf-8")
    local = {s: {"src": f"corpus/{s}.de", "trg": f"corpus/{s}.en"} for s in ("train", "dev", "test")}
    config = {"corpus": {"source": "local", "tokenize": False, "local": local}}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    proc = subprocess.run([str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "corpus", "--configfile", "bad.yaml"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "cores have to be specified" not in out
    assert "ERROR: corpus/dev.en:2: empty line\n" in out  # the job's own line, from its log
    assert not (tmp_path / "data/text/base/dev.en").exists()
