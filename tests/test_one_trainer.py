"""One trainer per model folder: the folder's lock, trainers that die with the job (and the local Snakemake)
that started them, and the recovery recipe (README, docs/methods.md) after a `kill -9` of Snakemake alone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, SNAKEMAKE, SOCKEYE3_PYTHON, SOCKEYE_PYTHON, TINY, run_workflow
from slkd import model_lock, supervise


@pytest.mark.unit
def test_a_second_trainer_waits_then_fails_naming_the_holder(tmp_path: Path) -> None:
    with model_lock.hold(tmp_path / "model", "sockeye.train --output model") as fd:
        assert fd >= 0
        started = time.monotonic()
        with pytest.raises(model_lock.LockHeld) as err, model_lock.hold(tmp_path / "model", "the second", wait=1.0):
            pass
        assert time.monotonic() - started >= 1.0
        message = str(err.value)
        assert message.startswith(f"{tmp_path / 'model'} is being trained by another trainer (host ")
        assert f", pid {os.getpid()}, since " in message and ": sockeye.train --output model); waited 1 s." in message
    with model_lock.hold(tmp_path / "model", "the third", wait=0):  # released: taken at once
        pass
    events = model_lock.history(tmp_path / "model")
    assert [(e["event"], e["detail"]) for e in events] == [
        ("start", "sockeye.train --output model"), ("end", "ok"), ("start", "the third"), ("end", "ok")]


@pytest.mark.unit
def test_the_lock_lives_as_long_as_the_trainer_that_inherited_it(tmp_path: Path) -> None:
    """The trainer (here `sleep`) keeps the folder locked after the script that took the lock has gone."""
    code = (f"import sys; sys.path.insert(0, {str(REPO / 'scripts')!r})\n"
            "import subprocess\nfrom slkd import model_lock\n"
            f"with model_lock.hold({str(tmp_path / 'model')!r}, 'x') as fd:\n"
            "    quiet = subprocess.DEVNULL\n"
            "    p = subprocess.Popen(['sleep', '4'], pass_fds=[fd], stdout=quiet, stderr=quiet)\n"
            "    print(p.pid, flush=True)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    child = int(proc.stdout)
    assert supervise.process_start(child) is not None  # still running after its parent ended
    with pytest.raises(model_lock.LockHeld):
        with model_lock.hold(tmp_path / "model", "y", wait=0.5):
            pass
    with model_lock.hold(tmp_path / "model", "z", wait=10):  # taken once the trainer has ended
        assert supervise.process_start(child) is None


@pytest.mark.unit
def test_the_child_stops_when_the_watched_snakemake_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_snakemake = subprocess.Popen(["sleep", "2"])
    monkeypatch.setenv(supervise.WATCH_ENV, supervise.watch_value(fake_snakemake.pid))
    started = time.monotonic()
    with pytest.raises(supervise.Stopped, match=f"the Snakemake process {fake_snakemake.pid} that started"):
        supervise.run(["sleep", "60"], interval=0.2, grace=5)
    assert time.monotonic() - started < 10
    fake_snakemake.wait()


@pytest.mark.unit
def test_the_child_dies_with_the_script_that_runs_it(tmp_path: Path) -> None:
    """kill -9 of the supervising script: the kernel's parent-death signal ends its child."""
    code = (f"import sys; sys.path.insert(0, {str(REPO / 'scripts')!r}); from slkd import supervise\n"
            "supervise.run(['sh', '-c', 'echo $$ > child.pid; exec sleep 60'])\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path)
    pid_file = tmp_path / "child.pid"
    deadline = time.time() + 30
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.time() < deadline
        time.sleep(0.1)
    child = int(pid_file.read_text())
    assert supervise.process_start(child) is not None
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 10
    while supervise.process_start(child) is not None:
        assert time.time() < deadline, "the child outlived its supervisor"
        time.sleep(0.1)


@pytest.mark.unit
def test_the_check_callback_stops_the_child() -> None:
    calls = []

    def check() -> str | None:
        calls.append(1)
        return "enough" if len(calls) >= 2 else None

    with pytest.raises(supervise.Stopped, match="enough"):
        supervise.run(["sleep", "60"], check=check, interval=0.1, grace=5)


CASES = {  # a model that needs nothing but the base corpus (the student) and a teacher
    "teacher": "tiny/models/teacher/de-en",
    "student": "tiny/models/student/SMALL/baseline/dropout/ckpt8/trial1",
}


def trainers_of(workdir: Path, model: str) -> list[int]:
    """PIDs of the processes in workdir that train the model folder: the job's bash, train_model, Sockeye."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                args = (proc / "cmdline").read_bytes().decode().split("\0")
                cwd = (proc / "cwd").resolve()
            except OSError:
                continue
            line = " ".join(args)
            if cwd == workdir.resolve() and (f"--model-dir {model} " in line or f"--output {model} " in line):
                found.append(int(proc.name))
    return found


@pytest.mark.workflow
@pytest.mark.skipif(not SOCKEYE_PYTHON.exists(), reason=f"no Sockeye environment at {SOCKEYE_PYTHON}")
@pytest.mark.parametrize("kind", list(CASES))
def test_kill_9_of_snakemake_then_the_recovery_recipe_gives_one_trainer_at_a_time(tmp_path: Path, kind: str) -> None:
    model = tmp_path / CASES[kind]
    target = f"{CASES[kind]}.done.json"
    cmd = [str(SNAKEMAKE), target, "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path),
           "--cores", "2", "--configfile", str(TINY), "--config", f"sockeye_python={SOCKEYE_PYTHON}",
           f"sockeye3_python={SOCKEYE3_PYTHON}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    try:
        while not (model / "metrics").exists() or len((model / "metrics").read_text().splitlines()) < 2:
            assert proc.poll() is None, "the workflow ended before the training could be killed"
            assert time.time() < deadline, "no second checkpoint within 300 s"
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)  # Snakemake alone: its job's bash, train_model and Sockeye live on
        proc.wait()
        assert trainers_of(tmp_path, CASES[kind]), "the trainer was gone before the rerun: nothing would be tested"
        # the recovery recipe, at once, while the first trainer is still stopping
        run_workflow(tmp_path, "--unlock", configfiles=(TINY,))
        run_workflow(tmp_path, target, configfiles=(TINY,))
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    events = model_lock.history(model)
    assert [e["event"] for e in events] == ["start", "end", "start", "end"]
    first_end, second_start = events[1], events[2]
    assert first_end["detail"] == f"Stopped: the Snakemake process {proc.pid} that started this job has ended"
    assert float(first_end["time"]) <= float(second_start["time"])  # never two trainers on the folder
    assert events[3]["detail"] == "ok" and events[0]["pid"] != events[2]["pid"]
    checkpoints = [int(row.split("\t")[0]) for row in (model / "metrics").read_text().splitlines()]
    assert checkpoints == list(range(1, len(checkpoints) + 1)) and len(checkpoints) >= 3  # each once, in order
    record = json.loads(Path(f"{model}.done.json").read_text())
    assert record["state_before"] == "resumable" and record["checkpoints_before"] >= 2
    assert not trainers_of(tmp_path, CASES[kind])  # nothing left running
