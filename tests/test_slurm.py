"""The SLURM profile, for real: config/test-tiny.yaml's Table 3 through `profiles/slurm` on a one-node cluster
(.ci/slurm-cluster.sh, which CI brings up before `make test`), with a job made to fail once and a training
cancelled with scancel mid-way; both are retried, the training resumes from its last checkpoint. Each model's
training and decodings are one SLURM job (its group: rules/common/trainers.smk). Then the profile's GPU sharing
(`gres: "shard:1"` in place of `gpu: 1`, as its comment says) trains four of its students again in a copy of the
run: the four at once on one stand-in GPU's four shards, with results equal to the unshared run's.

Where no cluster answers, the test skips with the reason (a user's machine), except in CI, where it fails."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import yaml
from conftest import GPU_RULES, REPO, SNAKEMAKE, SOCKEYE_PYTHON, TINY
from slkd import layout
from slkd.cost import usage as cost_usage

pytestmark = pytest.mark.slurm

CLUSTER = REPO / ".ci/slurm-cluster.sh"
TEACHER = "tiny/models/teacher/de-en"
TEACHER_GROUP = layout.job_group("teacher/de-en")  # its group's SLURM job: training, dev and test decoding


def cluster_answers() -> bool:
    if shutil.which("sbatch") is None:
        return False
    return subprocess.run(["bash", str(CLUSTER), "status"], capture_output=True, timeout=60).returncode == 0


@pytest.fixture(scope="module")
def cluster() -> None:
    if not cluster_answers():
        message = f"no SLURM cluster answers (bring one up with: sudo bash {CLUSTER.relative_to(REPO)} up)"
        if os.environ.get("CI"):
            pytest.fail(message + "; .ci/run starts it before `make test`")
        pytest.skip(message)
    if not SOCKEYE_PYTHON.exists():
        pytest.skip(f"no Sockeye environment at {SOCKEYE_PYTHON}")


SHARDS = 4  # the shards of each stand-in GPU (.ci/slurm-cluster.sh): students that share one GPU at once


def ci_profile(folder: Path, shared: bool = False) -> Path:
    """profiles/slurm with the test cluster's names and CI's speed-ups: a profile of its own, as a site would
    write (`--set-resources` on the command line would replace the profile's whole entry of a rule). `shared`:
    with the GPU sharing that the profile's comment describes, its one line `gpu: 1` replaced."""
    text = (REPO / "profiles/slurm/config.yaml").read_text()
    if shared:
        text, replaced = re.subn(r"^( +)gpu: 1\b.*$", r'\1gres: "shard:1"', text, flags=re.M)
        assert replaced == 1, "profiles/slurm has no one `gpu: 1` line to replace for GPU sharing"
    profile = yaml.safe_load(text)
    profile.pop("config")  # the GPU environment: the test names its own (CPU) interpreter
    profile.update({"jobs": 4, "latency-wait": 5, "slurm-init-seconds-before-status-checks": 2,
                    "slurm-logdir": str(folder / "slurm-logs"), "keep-going": False})
    profile["default-resources"].update(slurm_account="ci", slurm_partition="gpu", mem_mb=500)
    for resources in profile["set-resources"].values():
        resources.update(slurm_account="ci", slurm_partition="gpu", mem_mb=1500)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return folder


def snakemake_through_slurm(workdir: Path, profile: Path, python: Path) -> subprocess.CompletedProcess:
    """config/test-tiny.yaml's Table 3 in `workdir` through `profile`, Sockeye through `python`, on the CPU (the
    cluster's GPUs are /dev/null: jobs hold one, or a shard of one, but MXNet's CPU build runs the step)."""
    overrides = profile / "ci-config.yaml"
    overrides.write_text(yaml.safe_dump({"compute": {"threads": 1, "device": "cpu"}}))
    cmd = ["timeout", "-k", "30", "1500", str(SNAKEMAKE), "table3", "--profile", str(profile),
           "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(TINY), str(overrides), "--config", f"sockeye_python={python}"]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, env={**os.environ, "PATH":
                          f"{SNAKEMAKE.parent}{os.pathsep}{os.environ['PATH']}"})


def fail_once_python(folder: Path) -> Path:
    """A Sockeye interpreter whose first decoding of a student's test set (of the whole run) fails, as a flaky
    node would."""
    wrapper = folder / "python"
    wrapper.write_text(
        "#!/bin/sh\n"
        'case "$2 $*" in "translate "*translations/student/*)\n'
        f'  if mkdir "{folder}/failed-once" 2>/dev/null; then\n'
        '    echo "made to fail by tests/test_slurm.py" >&2; exit 3\n'
        "  fi;;\n"
        "esac\n"
        f'exec "{SOCKEYE_PYTHON}" "$@"\n'
    )
    wrapper.chmod(0o755)
    return wrapper


def scancel_teacher_midway(workdir: Path, stop: threading.Event, cancelled: list[str]) -> None:
    """Cancel the de-en teacher's SLURM job once it has written its third checkpoint."""
    model = workdir / TEACHER
    metrics = model / "metrics"
    while not stop.is_set():
        if (model / "training_state").is_dir() and metrics.exists() and len(metrics.read_text().splitlines()) >= 3:
            queue = subprocess.run(["squeue", "-h", "-o", "%i %k"], capture_output=True, text=True, timeout=30)
            for line in queue.stdout.splitlines():
                job_id, _, comment = line.partition(" ")
                if group_of({"comment": comment}) == TEACHER_GROUP:
                    subprocess.run(["scancel", job_id], check=True, timeout=30)
                    cancelled.append(job_id)
                    return
        time.sleep(0.2)


def accounting(since: str) -> list[dict[str, str]]:
    """sacct's records of the jobs (not steps) submitted since `since`."""
    out = subprocess.run(["sacct", "-X", "-n", "-P", "-S", since, "-o", "JobID,State,Comment%200,AllocTRES%200"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    keys = ("id", "state", "comment", "tres")
    return [dict(zip(keys, line.split("|"), strict=True)) for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def slurm_run(cluster: None, tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("slurm")
    workdir = folder / "work"
    workdir.mkdir()
    profile = ci_profile(folder / "profile")
    python = fail_once_python(folder)
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 2))
    stop, cancelled = threading.Event(), []
    watcher = threading.Thread(target=scancel_teacher_midway, args=(workdir, stop, cancelled), daemon=True)
    watcher.start()
    try:
        proc = snakemake_through_slurm(workdir, profile, python)
    finally:
        stop.set()
        watcher.join()
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"snakemake through SLURM failed ({proc.returncode}):\n{out[-12000:]}"
    return {"out": workdir / "tiny", "log": out, "jobs": accounting(since), "cancelled": cancelled,
            "failed_once": (folder / "failed-once").is_dir()}


def group_of(job: dict[str, str]) -> str | None:
    """The model group of a group job (its comment: rule_<group>_<its rules>), else None."""
    return cost_usage.group_job(job["comment"].removeprefix("rule_"))


def rule_of(job: dict[str, str]) -> str:
    """The rule of a job, or `model` for a model's group job."""
    return "model" if group_of(job) else job["comment"].removeprefix("rule_").partition("_wildcards_")[0]


def test_every_step_went_through_slurm_with_a_gpu_where_the_profile_asks(slurm_run: dict) -> None:
    jobs = [j for j in slurm_run["jobs"] if j["comment"].startswith("rule_")]
    done = [j for j in jobs if j["state"] == "COMPLETED"]
    by_rule: dict[str, int] = {}
    for job in done:
        by_rule[rule_of(job)] = by_rule.get(rule_of(job), 0) + 1
    # the matrix of config/test-tiny.yaml's Table 3: 2 teachers and 15 students, each model's training and
    # decodings one job (its group); each student evaluated, each teacher's distillation in 2 shards
    assert by_rule["model"] == 2 + 15 and by_rule["evaluate"] == 15 and by_rule["distill"] == 2 * 2
    assert not {"train_teacher", "train_student", "translate_test", "translate_dev"} & set(by_rule)
    students = [group_of(j) for j in done if str(group_of(j)).startswith(layout.job_group("student/"))]
    assert len(students) == len(set(students)) == 15  # one job per student, training and decoding
    # bookkeeping rules run where Snakemake runs (localrules), never as jobs
    assert not {"table3", "concat_dataset", "score_teacher", "paired_bootstrap"} & set(by_rule)
    for job in done:  # a group job holds one GPU, its jobs in turn
        gpus = "gres/gpu=1" in job["tres"]
        assert gpus == (rule_of(job) in GPU_RULES | {"model"}) and "gres/gpu=2" not in job["tres"], job


def test_a_job_that_failed_once_was_retried(slurm_run: dict) -> None:
    assert slurm_run["failed_once"]
    failed = [j for j in slurm_run["jobs"] if j["state"] == "FAILED"]
    assert len(failed) == 1 and str(group_of(failed[0])).startswith(layout.job_group("student/"))  # its decoding
    again = [j for j in slurm_run["jobs"] if group_of(j) == group_of(failed[0]) and j["state"] == "COMPLETED"]
    assert len(again) == 1 and int(again[0]["id"]) > int(failed[0]["id"])


def test_a_cancelled_training_was_resubmitted_and_resumed(slurm_run: dict) -> None:
    assert len(slurm_run["cancelled"]) == 1, "the teacher's job was never seen running"
    teacher_jobs = [j for j in slurm_run["jobs"] if group_of(j) == TEACHER_GROUP]
    assert [j["state"].split()[0] for j in teacher_jobs] == ["CANCELLED", "COMPLETED"]
    assert teacher_jobs[0]["id"] == slurm_run["cancelled"][0]
    teacher = slurm_run["out"] / "models/teacher/de-en"
    record = json.loads(Path(f"{teacher}.done.json").read_text())
    # Sockeye saves its training state after the checkpoint's metrics row: it may be one checkpoint behind
    assert record["state_before"] == "resumable" and record["checkpoints_before"] >= 2
    rows = [int(r.split("\t")[0]) for r in (teacher / "metrics").read_text().splitlines()]
    assert rows == list(range(1, record["checkpoints"] + 1))
    assert "Resuming from saved state" in (teacher / "log").read_text()


def test_results_have_the_structure_of_a_local_run(slurm_run: dict, tiny_run: Path) -> None:
    def table(out: Path) -> tuple[list[str], list[tuple[str, str, str]]]:
        rows = list(csv.DictReader(open(out / "results/table3.csv")))
        return list(rows[0]), [(r["dataset"], r["architecture"], r["dropout"]) for r in rows]

    assert table(slurm_run["out"]) == table(tiny_run)
    runs = lambda out: sorted(p.relative_to(out) for p in (out / "results/runs").rglob("*.json"))  # noqa: E731
    # the local run may hold more (the end-to-end tests add the grid's and a seqinterp student)
    assert len(runs(slurm_run["out"])) == 15 and set(runs(slurm_run["out"])) <= set(runs(tiny_run))
    significance = slurm_run["out"] / "results/significance/baseline"
    assert len(list(significance.rglob("*.json"))) == 4 * 3  # Table 3's 4 other datasets x 3 columns
    for row in csv.DictReader(open(slurm_run["out"] / "results/table3.csv")):
        assert 0 <= float(row["bleu_mean"]) <= 100 and "tok:none" in row["bleu_signature"]


def test_the_plugin_wrote_its_efficiency_report_and_cost_reads_it(slurm_run: dict) -> None:
    """profiles/slurm asks snakemake-executor-plugin-slurm for its efficiency report (sacct, at the end of the
    run), in logs/slurm/efficiency/ of the folder Snakemake ran in; `snakemake cost` reads it."""
    workdir = slurm_run["out"].parent
    reports = cost_usage.efficiency_reports(REPO / "profiles/slurm/config.yaml", workdir)
    assert len(reports) == 1, slurm_run["log"][-4000:]
    steps = cost_usage.read_efficiency_report(reports[0])
    # the job steps it lists (SLURM's records of the commands) belong to the rules that ran as jobs
    assert {step.rule for step in steps} <= {rule_of(job) for job in slurm_run["jobs"]}, steps


# ---- GPU sharing -------------------------------------------------------------------------------------------------
def tracing_python(folder: Path) -> Path:
    """A Sockeye interpreter that notes, for every training, its SLURM job, the GPU and shards SLURM gave it, and
    when it started and ended (seconds)."""
    wrapper = folder / "python"
    trace = folder / "trainings.tsv"
    wrapper.write_text(
        "#!/bin/sh\n"
        'if [ "$2" != train ]; then exec "' + str(SOCKEYE_PYTHON) + '" "$@"; fi\n'
        "start=$(date +%s.%N)\n"
        '"' + str(SOCKEYE_PYTHON) + '" "$@"\n'
        "status=$?\n"
        'printf "%s\\t%s\\t%s\\t%s\\t%s\\n" "$SLURM_JOB_ID" "${CUDA_VISIBLE_DEVICES:-}"'
        ' "${SLURM_SHARDS_ON_NODE:-}" "$start" "$(date +%s.%N)" >> "' + str(trace) + '"\n'
        "exit $status\n"
    )
    wrapper.chmod(0o755)
    return wrapper


def student_outputs(out: Path, model: str) -> dict[str, str]:
    """What a student's training and evaluation produced: its best parameters (their sha256), its checkpoints'
    metrics less their times, its test translations, its run file (numbers and names, no time)."""
    paths = layout.paths(str(out))
    model_dir = Path(layout.fill(paths.model_dir, model=model))
    metrics = (model_dir / "metrics").read_text().splitlines()
    return {"params": hashlib.sha256((model_dir / "params.best").read_bytes()).hexdigest(),
            "metrics": "\n".join("\t".join(f for f in line.split("\t") if not f.startswith("time-elapsed="))
                                 for line in metrics),
            "translations": Path(layout.fill(paths.test_hyp, model=model)).read_text(),
            "run": Path(layout.fill(paths.run, **layout.parse_model(model))).read_text()}


@pytest.fixture(scope="module")
def shared_run(slurm_run: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The unshared run copied, SHARDS of its students removed (model folder, its record of a finished training,
    translations, run file) with Table 3, and Table 3 run again through the profile with GPU sharing."""
    folder = tmp_path_factory.mktemp("slurm-shared")
    workdir = folder / "work"
    shutil.copytree(slurm_run["out"].parent, workdir, symlinks=True)
    out = workdir / "tiny"
    models_dir = out / "models"
    done = sorted(models_dir.glob(layout.pattern_glob(layout.STUDENT) + ".done.json"))
    models = [str(path.relative_to(models_dir)).removesuffix(".done.json") for path in done[:SHARDS]]
    before = {model: student_outputs(out, model) for model in models}
    paths = layout.paths(str(out))
    for model in models:  # its model and what was made of it
        model_dir = Path(layout.fill(paths.model_dir, model=model))
        shutil.rmtree(model_dir)
        Path(layout.fill(paths.model_done, model=model)).unlink()
        shutil.rmtree(Path(layout.fill(paths.test_hyp, model=model)).parent)
        Path(layout.fill(paths.run, **layout.parse_model(model))).unlink()
    for table in out.glob("results/table3.*"):  # Snakemake remakes a missing file only where a target needs it
        table.unlink()
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 2))
    proc = snakemake_through_slurm(workdir, ci_profile(folder / "profile", shared=True), tracing_python(folder))
    out_log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"snakemake through SLURM, GPU shared, failed ({proc.returncode}):\n{out_log[-12000:]}"
    trace = [line.split("\t") for line in (folder / "trainings.tsv").read_text().splitlines()]
    return {"models": models, "before": before, "after": {model: student_outputs(out, model) for model in models},
            "jobs": accounting(since), "trainings": trace, "log": out_log}


def test_students_shared_one_gpu_at_once(shared_run: dict) -> None:
    jobs = [j for j in shared_run["jobs"] if j["comment"].startswith("rule_") and j["state"] == "COMPLETED"]
    groups = {group_of(j) for j in jobs if group_of(j)}
    assert groups == {layout.job_group(model) for model in shared_run["models"]}  # only they were trained again
    for job in jobs:  # each student's job held a shard of a GPU, no whole GPU
        assert ("gres/shard=1" in job["tres"]) == (rule_of(job) == "model") and "gres/gpu" not in job["tres"], job
    # each training, in its own SLURM job, saw one shard and its GPU; all on the same GPU, all running at once
    trainings = shared_run["trainings"]
    assert len(trainings) == SHARDS and len({job for job, *_ in trainings}) == SHARDS
    assert {(gpu, shards) for _, gpu, shards, _, _ in trainings} == {("0", "1")}
    latest_start = max(float(start) for *_, start, _ in trainings)
    assert all(float(end) > latest_start for *_, end in trainings), trainings


def test_shared_students_have_the_results_of_unshared_ones(shared_run: dict) -> None:
    for model in shared_run["models"]:
        assert shared_run["after"][model] == shared_run["before"][model], model
