"""The GPU monitor (scripts/slkd/gpu_monitor.py) and what `snakemake cost` makes of a run's records: a trainer job on a
GPU samples nvidia-smi into the file beside its log (here a stand-in `nvidia-smi` first on PATH prints known
lines), a job on the CPU samples nothing, a failing nvidia-smi fails no job; cost reads the sample files and the
SLURM efficiency reports (written here by snakemake-executor-plugin-slurm's own code from known sacct lines) to
the exact figure, and without either its report is what it was."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import cost
import pytest
import yaml
from conftest import GPU_RULES, REPO, TINY, load_config, run_workflow
from slkd import gpu_monitor
from slkd.cost import estimate as cost_estimate  # noqa: E402
from slkd.cost import rates as cost_rates  # noqa: E402
from slkd.cost import report as cost_report  # noqa: E402
from slkd.cost import usage as cost_usage  # noqa: E402

UUIDS = ("GPU-0a0a0a0a-0000-4000-8000-000000000000", "GPU-1b1b1b1b-1111-4111-8111-111111111111")


def smi_line(call: int, index: int) -> str:
    """What the stand-in prints for GPU `index` at its `call`-th call (the query's six fields, as nvidia-smi)."""
    utilization, memory = (10 * call, 1000 * call) if index == 0 else (100 - call, 20000 + call)
    return f"2026/12/10 10:00:{5 * call:02d}.250, {index}, {UUIDS[index]}, {utilization}, {memory}, 81559"


class StandIn:
    """An `nvidia-smi` that prints both GPUs' lines for calls 1..`good` and fails after that (exit 9, its message
    on stdout as nvidia-smi's); with `hang`, a failing call first sleeps. It counts its calls and keeps their
    arguments."""

    def __init__(self, folder: Path, good: int, hang: bool = False) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        for call in range(1, good + 1):
            (folder / f"out.{call}").write_text("".join(smi_line(call, i) + "\n" for i in (0, 1)))
        script = folder / "nvidia-smi"
        script.write_text(
            "#!/bin/sh\n"
            f'd="{folder}"\n'
            'n=$(( $(cat "$d/calls" 2>/dev/null || echo 0) + 1 ))\n'
            'echo "$n" > "$d/calls"\n'
            'echo "$*" > "$d/args.$n"\n'
            'if [ -f "$d/out.$n" ]; then cat "$d/out.$n"; exit 0; fi\n'
            + ("sleep 30\n" if hang else "")
            + "echo \"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\"\n"
            "exit 9\n")
        script.chmod(0o755)

    @property
    def calls(self) -> int:
        path = self.folder / "calls"
        return int(path.read_text()) if path.exists() else 0

    def args(self, call: int) -> str:
        return (self.folder / f"args.{call}").read_text().strip()


def expected(calls: range, indices: tuple[int, ...]) -> str:
    return gpu_monitor.HEADER + "\n" + "".join(smi_line(c, i) + "\n" for c in calls for i in indices)


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StandIn:
    smi = StandIn(tmp_path / "bin", good=3)
    monkeypatch.setenv("PATH", f"{smi.folder}{os.pathsep}{os.environ['PATH']}")
    return smi


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def run_for(sampler: gpu_monitor.Sampler, clock: Clock, seconds: int) -> None:
    """Poll once a second for `seconds` seconds, as scripts/slkd/supervise.py does while the trainer runs."""
    with sampler:
        for _ in range(seconds + 1):
            sampler.poll()
            clock.now += 1


# ---- The sampler --------------------------------------------------------------------------------------------
@pytest.mark.unit
def test_the_path_comes_from_the_log_in_one_place() -> None:
    assert gpu_monitor.samples_path("tiny/logs/train_student/SMALL.kd.dropout.2.1.log") == Path(
        "tiny/logs/train_student/SMALL.kd.dropout.2.1.gpu.csv")
    assert gpu_monitor.samples_path("logs/translate_test/student/S/kd/dropout/ckpt2/trial1.log") == Path(
        "logs/translate_test/student/S/kd/dropout/ckpt2/trial1.gpu.csv")


@pytest.mark.unit
@pytest.mark.parametrize(("visible", "gpus", "indices"), [
    ("1", 1, (1,)),                           # SLURM's CUDA_VISIBLE_DEVICES: the job's GPU
    (None, 1, (0,)),                          # unset: the first GPU, where Sockeye's device 0 is
    (f"{UUIDS[1]},{UUIDS[0]}", 2, (1, 0)),    # UUIDs, in CUDA's order
    ("GPU-1b1b", 1, (1,)),                    # a UUID prefix, as CUDA takes it
    ("0,1", 1, (0,)),                         # one GPU held: Sockeye runs on the first visible
])
def test_samples_are_what_nvidia_smi_printed_for_the_jobs_gpus(
    standin: StandIn, tmp_path: Path, visible: str | None, gpus: int, indices: tuple[int, ...]
) -> None:
    clock, path = Clock(), tmp_path / "logs/distill/de-en.0.gpu.csv"
    sampler = gpu_monitor.Sampler(path, gpus, interval=5, cuda_visible_devices=visible, clock=clock, log=io.StringIO())
    run_for(sampler, clock, 12)  # sampled at 0, 5 and 10 s
    assert standin.calls == 3 and standin.args(1) == " ".join(gpu_monitor.QUERY)
    assert path.read_text() == expected(range(1, 4), indices)
    assert sampler.samples == 3 and not sampler.active


@pytest.mark.unit
def test_a_node_that_shows_only_the_jobs_gpu_numbers_it_its_own_way() -> None:
    text = smi_line(1, 0) + "\n"
    assert gpu_monitor.job_rows(text, "3", 1) == [smi_line(1, 0)]  # cgroups: one GPU shown, index 0
    two = text + smi_line(1, 1) + "\n"
    assert gpu_monitor.job_rows(two, "3", 1) == []  # two shown, none of them the job's: nothing to say
    assert gpu_monitor.job_rows("No devices were found\n" + two, None, 1) == [smi_line(1, 0)]


@pytest.mark.unit
def test_a_failing_nvidia_smi_is_noted_and_sampling_stops(standin: StandIn, tmp_path: Path) -> None:
    clock, path, log = Clock(), tmp_path / "job.gpu.csv", io.StringIO()
    sampler = gpu_monitor.Sampler(path, 1, interval=1, cuda_visible_devices="0", clock=clock, log=log)
    run_for(sampler, clock, 10)  # calls 1-3 answer, 4-6 fail, then no more calls
    assert standin.calls == 6
    assert path.read_text() == expected(range(1, 4), (0,))  # what was sampled stays
    notes = log.getvalue().splitlines()
    assert notes == ["gpu_monitor: nvidia-smi failed (exit status 9: NVIDIA-SMI has failed because it couldn't"
                     " communicate with the NVIDIA driver.)"] * 2 + [
                     "gpu_monitor: nvidia-smi failed (exit status 9: NVIDIA-SMI has failed because it couldn't"
                     " communicate with the NVIDIA driver.); sampling stopped after 3 failures in a row"]


@pytest.mark.unit
def test_a_hanging_nvidia_smi_is_given_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    smi = StandIn(tmp_path / "bin", good=1, hang=True)
    monkeypatch.setenv("PATH", f"{smi.folder}{os.pathsep}{os.environ['PATH']}")
    clock, log = Clock(), io.StringIO()
    sampler = gpu_monitor.Sampler(tmp_path / "job.gpu.csv", 1, 1, None, clock=clock, log=log, timeout=0.3)
    with sampler:
        for _ in range(3):
            sampler.poll()
            clock.now += 1
    assert (tmp_path / "job.gpu.csv").read_text() == expected(range(1, 2), (0,))
    assert "nvidia-smi failed (TimeoutExpired: " in log.getvalue()


@pytest.mark.unit
def test_no_gpu_no_samples(standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "logs/train_student/S.kd.dropout.2.1.log"
    log.parent.mkdir(parents=True)
    log.touch()
    stale = gpu_monitor.samples_path(log)
    stale.write_text("an earlier attempt's samples\n")
    # on the CPU: no file (an earlier attempt's is removed, as the shell's `2> {log}` empties the log), no call
    with gpu_monitor.for_job("cpu", 0, log, env={gpu_monitor.INTERVAL_ENV: "1"}) as sampler:
        sampler.poll()
    assert not stale.exists() and standin.calls == 0 and not sampler.active
    # on the GPU with interval 0: the same
    with gpu_monitor.for_job("gpu", 1, log, env={gpu_monitor.INTERVAL_ENV: "0"}) as sampler:
        sampler.poll()
    assert not stale.exists() and standin.calls == 0 and not sampler.active
    # on the GPU with no nvidia-smi on PATH: a note in the log, no file
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    sampler = gpu_monitor.for_job("gpu", 1, log, env={gpu_monitor.INTERVAL_ENV: "1"})
    sampler.log = io.StringIO()
    with sampler:
        sampler.poll()
    assert not stale.exists() and standin.calls == 0
    assert sampler.log.getvalue() == "gpu_monitor: no nvidia-smi on PATH: this GPU job records no GPU samples\n"


@pytest.mark.unit
def test_the_log_is_the_file_stderr_goes_to(tmp_path: Path) -> None:
    code = (f"import sys; sys.path.insert(0, {str(REPO / 'scripts')!r}); from slkd import gpu_monitor;"
            " print(gpu_monitor.job_log())")
    for name, shown in (("job.log", str(tmp_path / "job.log")), ("job.txt", "None")):
        with open(tmp_path / name, "w") as stderr:
            out = subprocess.run([sys.executable, "-c", code], stderr=stderr, stdout=subprocess.PIPE, text=True,
                                 check=True).stdout
        assert out.strip() == shown
    piped = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert piped.strip() == "None"  # a script run by hand: no log, so no samples


@pytest.mark.unit
def test_the_interval_setting() -> None:
    assert gpu_monitor.interval_setting({}) == gpu_monitor.DEFAULT_INTERVAL == 5.0
    assert gpu_monitor.interval_setting({gpu_monitor.INTERVAL_ENV: "0.5"}) == 0.5
    assert gpu_monitor.interval_setting({gpu_monitor.INTERVAL_ENV: "x"}) == 5.0
    assert load_config()["compute"]["gpu_monitor_interval"] == 5


# ---- Trainer jobs ------------------------------------------------------------------------------------------
FAKE_SOCKEYE = """#!/bin/sh
# Sockeye 3's interpreter, faked: `PY ENTRY translate|train ARGS`: 2.5 s of work, then its output
verb=$2; shift 2
while [ $# -gt 0 ]; do
  case $1 in --input) input=$2 ;; --output) output=$2 ;; esac
  shift
done
sleep 2.5
if [ "$verb" = translate ]; then cp "$input" "$output"; else mkdir -p "$output"; echo x > "$output/params.best"; fi
"""


def trainer_job(tmp_path: Path, smi: StandIn, script: str, device: str, log: Path) -> subprocess.CompletedProcess:
    fake = tmp_path / "fake-sockeye3-python"
    fake.write_text(FAKE_SOCKEYE)
    fake.chmod(0o755)
    (tmp_path / "in.bpe").write_text("a b\nc d\n")
    args = {"translate": ["--model-dir", "model", "--input", "in.bpe", "--output", "out/hyp.bpe"],
            "train_model": ["--model-dir", "model", "--done", "model.done.json", "--source", "in.bpe", "--target",
                            "in.bpe", "--validation-source", "in.bpe", "--validation-target", "in.bpe",
                            "--flags", "{}"]}[script]
    env = {k: v for k, v in os.environ.items() if k != "SLKD_SNAKEMAKE"}
    env.update(PATH=f"{smi.folder}{os.pathsep}{env['PATH']}", PYTHONPATH=str(REPO / "scripts"),
               SLKD_GPU_MONITOR="1", CUDA_VISIBLE_DEVICES="1", SLKD_SOCKEYE3_PYTHON=str(fake))
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as stderr:  # the rules' `2> {log}`
        return subprocess.run([sys.executable, "-m", script, "--backend", "sockeye3", "--device", device,
                               "--gpus", "1", *args], cwd=tmp_path, env=env, stderr=stderr, timeout=120)


@pytest.mark.unit
@pytest.mark.parametrize("script", ["translate", "train_model"])
def test_a_trainer_job_on_a_gpu_samples_into_the_file_beside_its_log(tmp_path: Path, script: str) -> None:
    smi = StandIn(tmp_path / "bin", good=20)
    log = tmp_path / "logs/translate_test/teacher/de-en.log"
    assert trainer_job(tmp_path, smi, script, "auto", log).returncode == 0, log.read_text()
    calls = smi.calls  # once when Sockeye starts, then every second while it runs
    assert calls >= 2
    assert (tmp_path / "logs/translate_test/teacher/de-en.gpu.csv").read_text() == expected(range(1, calls + 1), (1,))
    if script == "translate":  # the log still starts with Sockeye's command (cost reads it there)
        assert log.read_text().splitlines()[0].split()[2:4] == ["translate", "--models"]


@pytest.mark.unit
def test_a_trainer_job_on_the_cpu_samples_nothing(tmp_path: Path) -> None:
    smi = StandIn(tmp_path / "bin", good=20)
    log = tmp_path / "logs/train_student/S.kd.dropout.2.1.log"
    assert trainer_job(tmp_path, smi, "train_model", "cpu", log).returncode == 0, log.read_text()
    assert smi.calls == 0 and sorted(p.name for p in log.parent.iterdir()) == [log.name]


@pytest.mark.unit
def test_a_failing_nvidia_smi_fails_no_job(tmp_path: Path) -> None:
    smi = StandIn(tmp_path / "bin", good=0)
    log = tmp_path / "logs/distill/de-en.0.log"
    assert trainer_job(tmp_path, smi, "translate", "auto", log).returncode == 0, log.read_text()
    assert (tmp_path / "out/hyp.bpe").read_text() == "a b\nc d\n"
    assert smi.calls >= 2 and not gpu_monitor.samples_path(log).exists()
    assert "gpu_monitor: nvidia-smi failed (exit status 9: NVIDIA-SMI has failed" in log.read_text()


@pytest.mark.plan
def test_every_trainer_command_writes_its_stderr_to_its_log(tmp_path: Path) -> None:
    """The sample file's path comes from the log that the job's stderr goes to: every job that runs
    train_model or translate ends `2> {log}` (logs/<rule>/...)."""
    proc = run_workflow(tmp_path, "-n", "-p", "--forceall", "table3", configfiles=(TINY,))
    commands = [line.strip() for line in proc.stdout.splitlines() if re.search(r"-m (train_model|translate) ", line)]
    assert len(commands) > 20
    for command in commands:
        assert re.search(r" 2> tiny/logs/(train_teacher|train_student|distill|translate_test|translate_dev)/\S+\.log$",
                         command), command


# ---- What cost makes of the records -------------------------------------------------------------------------
SAMPLES = {  # two jobs' sample files: (lines after the header)
    "train_teacher/de-en": ["2026/12/10 10:00:00.000, 1, GPU-b, 50, 1000, 81559",
                            "2026/12/10 10:00:05.000, 1, GPU-b, 70, 3000, 81559",
                            "2026/12/10 10:00:10.500, 1, GPU-b, 90, 2000, 81559",
                            "2026/12/10 10:00:15.500, 1, GPU-b, [N/A], 2000, 81559"],
    "translate_test/teacher/de-en": ["2026/12/10 11:00:00.000, 0, GPU-a, 20, 500, 40960",
                                     "2026/12/10 11:01:00.000, 0, GPU-a, 40, 700, 40960"],
}
# sacct --parsable2 --noheader --format=JobID,JobName,Comment,Elapsed,TotalCPU,NNodes,NCPUS,MaxRSS,ReqMem, as the
# plugin asks for it (its job, the batch and extern steps it leaves out, and the step that ran the command)
SACCT = [
    "101|uuid|rule_train_teacher_wildcards_de-en|00:10:00|00:15:00|1|2||8000M",
    "101.batch|batch||00:10:00|00:00:01|1|2|1200K|",
    "101.extern|extern||00:10:00|00:00:00|1|2|0|",
    "101.0|python3.11||00:10:00|00:15:00|1|2|2048M|",
    "102|uuid|rule_translate_test_wildcards_teacher_de-en|00:01:40|00:01:00|1|2||4096M",
    "102.0|python3.11||00:01:40|01:00.500|1|2|1G|",
    "103|uuid|rule_evaluate_wildcards_S_kd_dropout_2_1|00:00:20|00:00:10|1|1||500M",
    "103.0|python3.11||00:00:20|00:10.000|1|1|100M|",
]


def write_records(root: Path, outdir: str) -> Path:
    """The sample files under outdir's logs/ and one efficiency report, written by the plugin's own code from
    SACCT where the profile (returned: profiles/slurm with another report folder) puts it."""
    efficiency = pytest.importorskip("snakemake_executor_plugin_slurm.efficiency_report")
    for job, lines in SAMPLES.items():
        path = root / outdir / "logs" / f"{job}{gpu_monitor.SUFFIX}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([gpu_monitor.HEADER, *lines]) + "\n")
    profile = root / "profile/config.yaml"
    profile.parent.mkdir()
    spec = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())  # the site's, writing its reports to eff/
    profile.write_text(yaml.safe_dump({**spec, "slurm-efficiency-report-path": "eff"}))
    frame = efficiency.parse_sacct_data(SACCT, 0.8, "uuid", __import__("logging").getLogger("test"))
    (root / "eff").mkdir()
    frame.to_csv(root / "eff/efficiency_report_uuid.csv")  # as create_efficiency_report writes it
    return profile


@pytest.mark.unit
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.rename")  # the plugin, under pandas 3
def test_cost_reads_the_samples_and_the_efficiency_report_exactly(tmp_path: Path) -> None:
    config = load_config(TINY)
    profile = write_records(tmp_path, config["outdir"])
    use = cost_usage.used(config, profile, tmp_path)
    assert use.gpu == [
        gpu_monitor.JobUsage("train_teacher", "de-en", 3, 3, 10.5, 70.0, 90.0, 3000.0, 81559.0),
        gpu_monitor.JobUsage("translate_test", "teacher/de-en", 2, 2, 60.0, 30.0, 40.0, 700.0, 40960.0)]
    RuleGpu, SlurmStep, RuleSlurm = cost_usage.RuleGpu, cost_usage.SlurmStep, cost_usage.RuleSlurm
    assert cost_usage.gpu_by_rule(use.gpu) == {"train_teacher": RuleGpu(1, 3, 10.5, 70.0, 90.0, 3000.0, 81559.0),
                                               "translate_test": RuleGpu(1, 2, 60.0, 30.0, 40.0, 700.0, 40960.0)}
    assert use.reports == [tmp_path / "eff/efficiency_report_uuid.csv"]
    assert use.slurm == [SlurmStep("train_teacher", "de-en", "101.0", 600.0, 900.0, 2, 2048.0, 8000.0),
                         SlurmStep("translate_test", "teacher_de-en", "102.0", 100.0, 60.5, 2, 1024.0, 4096.0),
                         SlurmStep("evaluate", "S_kd_dropout_2_1", "103.0", 20.0, 10.0, 1, 100.0, 500.0)]
    assert cost_usage.slurm_by_rule(use.slurm) == {"evaluate": RuleSlurm(1, 20.0, 10.0, 50.0, 100.0, 20.0),
                                                   "train_teacher": RuleSlurm(1, 600.0, 900.0, 75.0, 2048.0, 25.6),
                                                   "translate_test": RuleSlurm(1, 100.0, 60.5, 30.25, 1024.0, 25.0)}
    # results/cost.md: each rule against its estimate
    rows, corpus, rates = cost_estimate.estimate(config, GPU_RULES, root=tmp_path)
    cpu_only = cost_estimate.estimate(config, GPU_RULES, root=tmp_path, device="cpu")[0]
    md = cost_report.markdown(config, rows, corpus, rates, cpu_only, use)
    teachers = [r for r in rows if r.job.rule == "train_teacher"]
    per_teacher = cost_report.hours(sum(r.wall for r in teachers) / len(teachers))
    assert f"| train_teacher | 1 | 0.17 | 0.17 | 2 | {per_teacher} | 75.0 | 2,048 | 25.6 |" in md
    assert f"| train_teacher | 1 | 0.00 | 0.00 | 2 | {per_teacher} | 70.0 | 90 | 3,000 | 81,559 |" in md
    assert "| translate_test | teacher/de-en | 2 | 0.02 | 30.0 | 40 | 700 |" in md
    used_gpu = cost_report.hours(600 + 100)  # the GPU rules' steps; evaluate runs on the CPU
    assert f"GPU-hours used (the elapsed time of the GPU rules' steps, one GPU each): **{used_gpu}**" in md
    # without records, the report is what it was
    empty = cost_usage.used(config, profile, tmp_path / "nothing")
    assert cost_report.markdown(config, rows, corpus, rates, cpu_only, empty) == cost_report.markdown(
        config, rows, corpus, rates, cpu_only) and "What the run used" not in cost_report.markdown(
        config, rows, corpus, rates, cpu_only)


@pytest.mark.unit
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.rename")  # the plugin, under pandas 3
def test_the_cost_script_reports_the_records_and_keeps_its_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(TINY)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    args = ["--config-json", json.dumps(config), "--csv", str(out / "cost.csv"), "--md", str(out / "cost.md")]
    assert cost.main(args) == 0
    before_csv, before_md = (out / "cost.csv").read_text(), (out / "cost.md").read_text()
    assert "What the run used" not in before_md
    stamp = cost_rates.measurement_stamp(config, tmp_path)
    profile = write_records(tmp_path, config["outdir"])
    assert cost_rates.measurement_stamp(config, tmp_path) != stamp  # `snakemake cost` estimates again
    assert cost.main([*args, "--gpu-profile", str(profile)]) == 0
    assert (out / "cost.csv").read_text() == before_csv
    md = (out / "cost.md").read_text()
    assert md.startswith(before_md) and "## What the run used" in md
    assert "### SLURM (1 efficiency reports of snakemake-executor-plugin-slurm, from sacct: 3 job steps)" in md


@pytest.mark.unit
def test_the_slurm_profile_asks_the_plugin_for_its_efficiency_report() -> None:
    slurm = pytest.importorskip("snakemake_executor_plugin_slurm")
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    assert profile["slurm-efficiency-report"] is True
    assert profile["slurm-efficiency-report-path"] == "logs/slurm/efficiency"
    fields = slurm.ExecutorSettings.__dataclass_fields__  # the options exist in the installed plugin
    assert {"efficiency_report", "efficiency_report_path"} <= set(fields)
    assert cost_usage.efficiency_folder(REPO / "profiles/slurm/config.yaml", Path("/run")) == Path(
        "/run/logs/slurm/efficiency")


@pytest.mark.unit
def test_a_models_group_job_is_reported_under_one_rule(tmp_path: Path) -> None:
    """A model's group job (its training and decodings in one SLURM job: comment rule_model_<model>_<its rules>) is
    read as rule `model` with the model for wildcards, and counts among the GPU rules of what the run used."""
    assert cost_usage.group_job("model_teacher_de-en.m2_train_teacher_translate_dev_translate_test") == \
        "model_teacher_de-en.m2"
    assert cost_usage.group_job("model_student_S_kd_dropout_ckpt2_trial1_translate_test") == \
        "model_student_S_kd_dropout_ckpt2_trial1"
    assert cost_usage.group_job("train_student") is None
    report = tmp_path / "efficiency_report_x.csv"
    report.write_text(
        ",JobID,JobName,RuleName,Elapsed_sec,TotalCPU_sec,NCPUS,MaxRSS_MB,RequestedMem_MB\n"
        "0,7.0,python3.11,rule_model_student_SMALL_kd_dropout_ckpt2_trial1_train_student_translate_test,600,500,2,"
        "100,1500\n"
        "1,8.0,python3.11,rule_evaluate_wildcards_SMALL_kd_dropout_2_1,20,10,1,50,500\n")
    steps = cost_usage.read_efficiency_report(report)
    assert [(s.rule, s.wildcards, s.elapsed) for s in steps] == [
        ("model", "student_SMALL_kd_dropout_ckpt2_trial1", 600.0), ("evaluate", "SMALL_kd_dropout_2_1", 20.0)]
    use = cost_usage.Used(tmp_path, [], [report], steps)
    rows, _corpus, _rates = cost_estimate.estimate(load_config(TINY), GPU_RULES, root=tmp_path)
    assert "GPU-hours used (the elapsed time of the GPU rules' steps, one GPU each): **0.17**" in "\n".join(
        cost_report.usage_lines(rows, use))
