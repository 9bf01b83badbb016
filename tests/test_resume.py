"""Resume, never redo: a training killed mid-way (kill -9 of the whole workflow) continues from its last
checkpoint when the workflow runs again, and a finished model is not retrained; for both trainer backends (an
LSTM student on Sockeye 1.18, a Transformer student on Sockeye 3)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SNAKEMAKE, SOCKEYE3_PYTHON, SOCKEYE_PYTHON, TINY_TRANSFORMER, run_workflow
from conftest import TINY as TINY_CONFIG

pytestmark = pytest.mark.workflow

CASES = {  # backend: (config files, model, its interpreter); a Transformer checkpoint of 60 updates takes ~1 s
    "sockeye1": ((TINY_CONFIG,), "tiny/models/student/SMALL/baseline/dropout/ckpt8/trial1", SOCKEYE_PYTHON),
    "sockeye3": (TINY_TRANSFORMER, "tiny-transformer/models/student/T-SMALL/baseline/dropout/ckpt8/trial1",
                 SOCKEYE3_PYTHON),
}


@pytest.mark.parametrize("backend", list(CASES))
def test_killed_training_resumes_from_its_last_checkpoint(tmp_path: Path, backend: str) -> None:
    configs, MODEL, python = CASES[backend]
    if not python.exists():
        pytest.skip(f"no Sockeye environment at {python}")
    slower = tmp_path / "slower.yaml"
    slower.write_text(yaml.safe_dump({"sockeye3_train": {"checkpoint-interval": 60}}))
    TINY = (*configs, slower)
    model = tmp_path / MODEL
    done = Path(f"{model}.done.json")
    cmd = [str(SNAKEMAKE), f"{MODEL}.done.json", "--snakefile", str(REPO / "Snakefile"), "--directory",
           str(tmp_path), "--cores", "2", "--configfile", *map(str, TINY), "--config",
           f"sockeye_python={SOCKEYE_PYTHON}", f"sockeye3_python={SOCKEYE3_PYTHON}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    try:
        while not (model / "training_state").is_dir() or not (model / "params.00003").exists():
            assert proc.poll() is None, "the workflow ended before the training could be killed"
            assert time.time() < deadline, "no third checkpoint within 300 s"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    time.sleep(2)  # Sockeye's forkserver children exit on their own
    assert not done.exists()
    before = (model / "metrics").read_text().splitlines()
    assert len(before) >= 2

    run_workflow(tmp_path, "--unlock", configfiles=TINY)
    run_workflow(tmp_path, f"{MODEL}.done.json", "--rerun-incomplete", configfiles=TINY)

    record = json.loads(done.read_text())
    assert record["state_before"] == "resumable" and record["checkpoints_before"] >= 2
    assert record["checkpoints"] == 8
    rows = (model / "metrics").read_text().splitlines()
    assert [int(r.split("\t")[0]) for r in rows] == list(range(1, 9))
    assert rows[0] == before[0]  # the first checkpoint was not trained again
    assert "Resuming from saved state" in (model / "log").read_text()

    # finished: a second run plans nothing, and Sockeye is not called again for it
    proc2 = run_workflow(tmp_path, f"{MODEL}.done.json", configfiles=TINY)
    assert "Nothing to be done" in proc2.stdout + proc2.stderr
