"""A full disk loses nothing: a training and a distillation that run out of space fail with one line that says so
(the path, its free space, what a rerun does), leave nothing half-written that a rerun would take for complete,
and once space is freed the rerun resumes the training from its last saved checkpoint (every checkpoint once in
Sockeye's metrics, the final model like an undisturbed one) and writes the decoding whole.

The disk is a real tmpfs, mounted by the test at the run's outdir (`.snakemake/` stays outside it), filled with a
filler file at a chosen moment, and grown afterwards (`mount -o remount,size=...`): that frees the space. Mounting
needs root; elsewhere the tests that mount skip with the reason, except in CI ($CI set), where they fail. The
units of scripts/slkd/disk_space.py and of the training wrapper's tidying need no mount.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import train_model
from conftest import REPO, SNAKEMAKE, SOCKEYE3_PYTHON, SOCKEYE_PYTHON, TINY, run_workflow
from slkd import backends, disk_space, trainer_check
from slkd.formats import read_parameters
from slkd.sockeye_jobs import Job, run_per_line

MODEL = "tiny/models/student/SMALL/baseline/dropout/ckpt8/trial1"  # 8 checkpoints of 20 updates, ~10 s
SHARD_IN = "tiny/data/distill/de-en/shards/0.in"
SHARD_OUT = "tiny/data/distill/de-en/shards/0.json"
TEACHER_SCORE = "tiny/results/teachers/de-en.json"  # the distill rule's gate (the teacher cleared its floor)
MiB = 1 << 20
SIZE = r"\d+(?:\.\d)? (?:B|KiB|MiB)"  # a size as disk_space.human writes it


# ---- a tmpfs ------------------------------------------------------------------------------------------------

def _cannot(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _mount(where: Path, size: int) -> None:
    try:
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                              capture_output=True, text=True)
    except OSError as err:
        _cannot(f"cannot mount a tmpfs at {where}: {err}")
    if proc.returncode != 0:
        _cannot(f"cannot mount a tmpfs at {where} (root is needed): {proc.stderr.strip()}")


@contextmanager
def tmpfs(where: Path, size: int) -> Iterator[Path]:
    """A tmpfs of `size` bytes mounted at `where` for the block; unmounted after it (lazily if still busy)."""
    where.mkdir(parents=True, exist_ok=True)
    _mount(where, size)
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
            time.sleep(2)  # Sockeye's forkserver children exit on their own
            subprocess.run(["umount", "-l", str(where)], check=True)


def grow(where: Path, size: int) -> None:
    """Free space the clean way: a tmpfs grown to `size` bytes."""
    subprocess.run(["mount", "-o", f"remount,size={size}", str(where)], check=True)


def fill(folder: Path, leave: int = 0) -> Path:
    """A filler file that takes all the space of `folder`'s file system but `leave` bytes (0: until ENOSPC)."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as out:
        if leave:
            out.write(bytes(disk_space.usage(folder).free - leave))
            return filler
        try:
            while True:
                out.write(bytes(MiB))
        except OSError as err:
            assert err.errno == errno.ENOSPC
    return filler


# ---- units: the decision, the line, atomic writes -----------------------------------------------------------

@pytest.mark.unit
def test_sizes_read_as_people_read_them() -> None:
    assert [disk_space.human(n) for n in (0, 812, 1024, 3584, 2 * MiB - 1, 74 << 30, 5 << 40, 5000 << 40)] == [
        "0 B", "812 B", "1.0 KiB", "3.5 KiB", "2.0 MiB", "74.0 GiB", "5.0 TiB", "5000.0 TiB"]


@pytest.mark.unit
def test_almost_no_free_space_is_less_than_the_low_mark_and_a_16th_of_a_small_disk() -> None:
    assert disk_space.nearly_full(disk_space.Usage("x", 0, 4 * MiB))
    assert disk_space.nearly_full(disk_space.Usage("x", disk_space.LOW_SPACE - 1, 1 << 40))
    assert not disk_space.nearly_full(disk_space.Usage("x", disk_space.LOW_SPACE, 1 << 40))
    assert not disk_space.nearly_full(disk_space.Usage("x", 200 * MiB, 1 << 40))
    assert disk_space.nearly_full(disk_space.Usage("x", 255 << 10, 4 * MiB))
    assert not disk_space.nearly_full(disk_space.Usage("x", 256 << 10, 4 * MiB))
    assert not disk_space.nearly_full(disk_space.Usage("x", 252 << 10, 256 << 10))  # a tiny disk, nearly empty


@pytest.mark.unit
def test_a_space_error_is_found_in_the_chain_of_exceptions() -> None:
    full = OSError(errno.ENOSPC, "No space left on device", "m/backends.tsv")
    try:
        try:
            raise train_model.TrainerFailed("Sockeye exited with 1")
        finally:
            raise full  # a write in a `finally` failed while the trainer's failure was raised
    except OSError as err:
        caught = err
    assert disk_space.space_error(caught) is full
    assert disk_space.space_error(RuntimeError("x")) is None
    assert disk_space.space_error(OSError(errno.EACCES, "Permission denied")) is None
    assert disk_space.space_error(OSError(errno.EDQUOT, "Disk quota exceeded")) is not None
    chained = RuntimeError("wrapped")
    chained.__cause__ = full
    assert disk_space.space_error(chained) is full


@pytest.mark.unit
def test_out_of_space_decides_by_our_errno_or_by_a_nearly_full_disk_after_a_trainer_failed(tmp_path: Path) -> None:
    # this test's folder is on a disk with room: only our own ENOSPC counts there
    assert disk_space.out_of_space(tmp_path, None, trainer_failed=True) is None
    assert disk_space.out_of_space(tmp_path, RuntimeError("Sockeye exited with 1")) is None
    own = disk_space.out_of_space(tmp_path, OSError(errno.ENOSPC, "No space left", str(tmp_path / "x" / "done")))
    assert own is not None and own.path == str(tmp_path / "x" / "done") and own.total > 0  # x/ does not exist
    line = disk_space.message(disk_space.Usage("tiny/m", 0, 4 * MiB), "the training resumes from checkpoint 3")
    assert line == ("ERROR: out of disk space: tiny/m (0 B free of 4.0 MiB on its file system); free space and run"
                    " the workflow again: the training resumes from checkpoint 3")
    assert disk_space.workflow_notice(tmp_path) is None


@pytest.mark.unit
def test_say_falls_back_to_stdout_when_the_log_cannot_be_written(monkeypatch, capsys) -> None:
    class Full(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    disk_space.say("to the log")
    assert capsys.readouterr().err == "to the log\n"
    disk_space.say("after a cut line", fresh=True)
    assert capsys.readouterr().err == "\nafter a cut line\n"
    monkeypatch.setattr(sys, "stderr", Full())
    disk_space.say("ERROR: out of disk space: x")
    assert capsys.readouterr().out == "ERROR: out of disk space: x\n"


@pytest.mark.unit
def test_an_atomic_write_leaves_the_old_file_or_the_new_one(tmp_path: Path) -> None:
    done = tmp_path / "m.done.json"
    disk_space.write_atomic(done, '{"a": 1}\n')
    assert done.read_text() == '{"a": 1}\n' and done.stat().st_mode & 0o777 == 0o666 & ~disk_space._umask()
    disk_space.write_atomic(done, '{"a": 2}\n')
    assert done.read_text() == '{"a": 2}\n' and sorted(p.name for p in tmp_path.iterdir()) == ["m.done.json"]


@pytest.mark.unit
def test_on_a_full_disk_an_atomic_write_leaves_nothing_and_the_notice_names_the_outdir(tmp_path: Path) -> None:
    outdir = tmp_path / "out"
    with tmpfs(outdir, 256 << 10):
        old = outdir / "old.json"
        disk_space.write_atomic(old, "old\n")
        fill(outdir)
        with pytest.raises(OSError) as raised:
            disk_space.write_atomic(outdir / "new.json", "x" * 100_000)
        assert raised.value.errno == errno.ENOSPC
        with pytest.raises(OSError):
            disk_space.write_atomic(old, "y" * 100_000)
        assert sorted(p.name for p in outdir.iterdir()) == ["filler", "old.json"] and old.read_text() == "old\n"
        notice = disk_space.workflow_notice(outdir)
        assert notice is not None
        assert re.fullmatch(rf"ERROR: out of disk space: {re.escape(str(outdir))} \((0 B|4\.0 KiB) free of 256\.0 KiB"
                            r" on its file system\); free space and run the workflow again: a training resumes .*",
                            notice), notice
        (outdir / "filler").unlink()
        assert disk_space.workflow_notice(outdir) is None  # the filler gone: ~252 KiB free of 256


# ---- units: what a failed training leaves, and the wrapper's line -------------------------------------------

def _model(tmp_path: Path, checkpoints: range, saved: int | None, best: int | None, perplexities: list[float],
           cut: str = "") -> Path:
    """A Sockeye 1.18 model folder as a failed run leaves it: params files, the training state saved at checkpoint
    `saved` (its optimizer file), params.best linked to `best`, metrics rows (and a row cut short)."""
    model = tmp_path / "m"
    model.mkdir(parents=True)
    for n in checkpoints:
        (model / f"params.{n:05d}").write_bytes(b"params %d" % n)
    if saved is not None:
        (model / "training_state").mkdir()
        (model / "training_state" / "params").symlink_to(f"../params.{saved:05d}")
        (model / "training_state" / "mx_optimizer_last.pkl").write_bytes(b"optimizer %d" % saved)
    if best is not None:
        (model / "params.best").symlink_to(f"params.{best:05d}")
        (model / "mx_optimizer_best.pkl").write_bytes(b"optimi")  # cut short by the full disk
    rows = "".join(f"{i}\tconverged=False\tperplexity-val={p}\n" for i, p in enumerate(perplexities, 1))
    (model / "metrics").write_text(rows + cut)
    return model


@pytest.mark.unit
def test_a_first_training_state_never_saved_is_not_taken_for_a_converged_model(tmp_path: Path) -> None:
    model = _model(tmp_path, range(1), None, 0, [])
    (model / "tmp.training_state").mkdir()
    (model / "tmp.training_state" / "mx_optimizer_last.pkl").write_bytes(b"opt")
    assert train_model.model_state(model) == "converged"  # as Sockeye 1.18 leaves it: params.best, no state
    assert "starts from its beginning" in train_model.resumes_from(model)
    notes = train_model.tidy(model, [])
    assert len(notes) == 1 and "starts afresh" in notes[0]
    assert train_model.model_state(model) == "new"
    assert not any((model / name).exists() for name in ("params.best", "params.00000", "tmp.training_state"))


@pytest.mark.unit
def test_params_best_past_the_saved_state_is_linked_back_to_the_states_best(tmp_path: Path) -> None:
    # checkpoint 4 improved, moved params.best and began the best optimizer state; the state was saved at 3, whose
    # best is checkpoint 2 (the metrics' 4th row was cut short, and is not read)
    model = _model(tmp_path, range(1, 5), 3, 4, [30.0, 20.0, 25.0], cut="4\tconverged=False\tperplexity-val=1")
    assert [row["checkpoint"] for row in train_model.complete_metrics(model)] == [1, 2, 3]
    assert train_model.resumes_from(model) == "the training resumes from checkpoint 3"
    notes = train_model.tidy(model, ["--optimized-metric", "perplexity"])
    assert os.readlink(model / "params.best") == "params.00002"
    assert "linked to checkpoint 2" in notes[0] and "may be of the unsaved checkpoint 4" in notes[1]
    assert (model / "mx_optimizer_best.pkl").read_bytes() == b"optimi"  # nothing to restore it from


@pytest.mark.unit
def test_when_the_states_checkpoint_is_its_best_the_best_optimizer_state_is_restored(tmp_path: Path) -> None:
    model = _model(tmp_path, range(1, 5), 3, 4, [30.0, 20.0, 10.0, 5.0])  # row 4 written whole: still not saved
    notes = train_model.tidy(model, [])
    assert os.readlink(model / "params.best") == "params.00003"
    assert (model / "mx_optimizer_best.pkl").read_bytes() == b"optimizer 3" and len(notes) == 2


@pytest.mark.unit
def test_params_best_past_the_state_of_the_start_is_linked_back_to_the_initial_parameters(tmp_path: Path) -> None:
    # as Sockeye 1.18 leaves it when the disk fills in checkpoint 1's best optimizer state (seen on a real run)
    model = _model(tmp_path, range(2), 0, 1, [])
    notes = train_model.tidy(model, [])
    assert os.readlink(model / "params.best") == "params.00000" and len(notes) == 2
    assert (model / "mx_optimizer_best.pkl").read_bytes() == b"optimizer 0"
    assert train_model.model_state(model) == "resumable"


@pytest.mark.unit
def test_params_best_past_the_state_is_left_when_the_metrics_cannot_tell(tmp_path: Path) -> None:
    model = _model(tmp_path, range(1, 5), 3, 4, [30.0, 20.0])  # rows 3 and 4 lost
    notes = train_model.tidy(model, [])
    assert os.readlink(model / "params.best") == "params.00004" and "left as it is" in notes[0]
    model2 = _model(tmp_path / "b", range(1, 5), 3, 4, [30.0, 20.0, 25.0])
    assert "left as it is" in train_model.tidy(model2, ["--optimized-metric", "bleu"])[0]  # not by perplexity


@pytest.mark.unit
def test_a_consistent_folder_is_left_alone_and_half_done_renames_are_finished(tmp_path: Path) -> None:
    model = _model(tmp_path, range(1, 4), 3, 2, [30.0, 20.0, 25.0])
    before = {p.name: p.read_bytes() for p in model.rglob("*") if p.is_file()}
    assert train_model.tidy(model, []) == [] and os.readlink(model / "params.best") == "params.00002"
    assert {p.name: p.read_bytes() for p in model.rglob("*") if p.is_file()} == before
    (model / "delete.training_state").mkdir()  # Sockeye stopped while deleting the state it replaced
    assert "removed" in train_model.tidy(model, [])[0] and not (model / "delete.training_state").exists()
    (model / "training_state").rename(model / "delete.training_state")  # ... or between its two renames
    (model / "tmp.training_state").mkdir()
    (model / "tmp.training_state" / "params").symlink_to("../params.00003")
    notes = train_model.tidy(model, [])
    assert len(notes) == 2 and train_model.saved_checkpoint(model) == 3
    assert not (model / "delete.training_state").exists() and not (model / "tmp.training_state").exists()


@pytest.mark.unit
def test_the_training_wrapper_says_out_of_space_only_when_it_is(tmp_path: Path, capsys) -> None:
    failed = train_model.TrainerFailed("Sockeye exited with 1; see m/log")
    roomy = _model(tmp_path, range(1, 4), 3, 3, [30.0, 20.0, 10.0])
    assert train_model._failed(str(roomy), failed, trainer_failed=True) == 1
    assert capsys.readouterr().err == "ERROR: Sockeye exited with 1; see m/log\n"
    with tmpfs(tmp_path / "disk", 256 << 10) as disk:
        model = _model(disk, range(1, 4), 3, 3, [30.0, 20.0, 10.0])
        fill(disk)
        assert train_model._failed(str(model), failed, trainer_failed=True) == 1
        line = capsys.readouterr().err
        assert line == (f"\nERROR: out of disk space: {model} (0 B free of 256.0 KiB on its file system); free space"
                        " and run the workflow again: the training resumes from checkpoint 3\n")
        train_model._failed(str(model), RuntimeError("another trainer holds it"))  # not a trainer's failure
        assert capsys.readouterr().err == "ERROR: another trainer holds it\n"


# ---- the decoding wrapper with a stand-in trainer ------------------------------------------------------------

WRITER = (  # a stand-in for sockeye.translate: 1000 lines of 401 bytes
    "import sys\n"
    "with open(sys.argv[1], 'w') as out:\n"
    "    for i in range(1000):\n"
    "        out.write('x' * 400 + '\\n')\n"
)


@pytest.mark.unit
def test_a_decoding_that_fills_the_disk_removes_its_output_and_says_so(tmp_path: Path, capsys) -> None:
    source = tmp_path / "shard.in"
    source.write_text("".join(f"s{i}\n" for i in range(1000)))
    job = Job(backends.get("sockeye1"), sys.executable, "cpu", 1)
    with tmpfs(tmp_path / "disk", 256 << 10) as disk:
        output = disk / "shard.json"  # 400 KB to write on a disk of 256 KiB
        assert run_per_line(job, lambda: [sys.executable, "-c", WRITER, str(output)], "writer", str(source),
                            str(output), 1000) == 1
        assert not output.exists()
        assert capsys.readouterr().err.endswith(
            f"\nERROR: out of disk space: {output} (0 B free of 256.0 KiB on its file system); free space and run the"
            " workflow again: the partial output was removed and will be written again\n")
        grow(disk, MiB)
        assert run_per_line(job, lambda: [sys.executable, "-c", WRITER, str(output)], "writer", str(source),
                            str(output), 1000) == 0
        assert len(output.read_text().splitlines()) == 1000
    # a failure with room left is no full disk: its own line, and the output is Snakemake's to remove
    output = tmp_path / "shard.json"
    fails = WRITER + "sys.exit(3)\n"
    assert run_per_line(job, lambda: [sys.executable, "-c", fails, str(output)], "writer", str(source), str(output),
                        1000) == 1
    assert capsys.readouterr().err.endswith(f"ERROR: writer exited with 3 on {source}\n") and output.exists()


# ---- the workflow, real Sockeye, on a real full disk --------------------------------------------------------

def _workflow(workdir: Path, *targets: str) -> list[str]:
    return [str(SNAKEMAKE), *targets, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir), "--cores",
            "2", "--show-failed-logs", "--configfile", str(TINY), "--config", f"sockeye_python={SOCKEYE_PYTHON}",
            f"sockeye3_python={SOCKEYE3_PYTHON}"]


@pytest.fixture(scope="module")
def undisturbed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of config/test-tiny.yaml on a disk with room (~40 s): the student trained undisturbed, and what the
    distillation of shard 0 needs (its teacher, cleared by its floor; the shard). Its working directory."""
    if not SOCKEYE_PYTHON.exists():
        pytest.skip(f"no Sockeye environment at {SOCKEYE_PYTHON}")
    probe = tmp_path_factory.mktemp("probe")
    with tmpfs(probe, MiB):  # before 40 s of work, whether this machine lets the tests mount
        pass
    workdir = tmp_path_factory.mktemp("undisturbed")
    run_workflow(workdir, f"{MODEL}.done.json", TEACHER_SCORE, SHARD_IN, configfiles=(TINY,))
    return workdir


def _copy_run(undisturbed: Path, outdir: Path) -> None:
    """The undisturbed run's outdir less its student (with its files' times: nothing upstream runs again), and its
    start-up check's answer (.snakemake/, beside the outdir: the trainers are not checked again)."""
    shutil.copytree(undisturbed / "tiny", outdir, symlinks=True, ignore=shutil.ignore_patterns("student"),
                    dirs_exist_ok=True)
    (outdir.parent / ".snakemake").mkdir()
    shutil.copy2(undisturbed / trainer_check.CACHE, outdir.parent / trainer_check.CACHE)


def _shapes(params: Path) -> dict[str, list[int]]:
    """The parameters' names and shapes in a Sockeye 1.18 params file, as MXNet loads them."""
    code = "import json, sys, mxnet\nprint(json.dumps({k: v.shape for k, v in mxnet.nd.load(sys.argv[1]).items()}))"
    proc = subprocess.run([str(SOCKEYE_PYTHON), "-c", code, str(params)], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.mark.workflow
def test_a_training_that_fills_the_disk_says_so_and_resumes_from_its_last_checkpoint(undisturbed: Path,
                                                                                    tmp_path: Path) -> None:
    workdir = tmp_path / "run"
    model, done = workdir / MODEL, workdir / f"{MODEL}.done.json"
    console = tmp_path / "console.txt"
    with tmpfs(workdir / "tiny", 32 * MiB) as outdir:
        _copy_run(undisturbed, outdir)
        with open(console, "w") as out:
            proc = subprocess.Popen(_workflow(workdir, f"{MODEL}.done.json"), stdout=out, stderr=subprocess.STDOUT,
                                    cwd=workdir, start_new_session=True)
            try:
                deadline = time.time() + 180
                while not (model / "params.00003").exists():  # mid-training: then the disk is full
                    assert proc.poll() is None, console.read_text()[-3000:]
                    assert time.time() < deadline, "no third checkpoint within 180 s"
                    time.sleep(0.05)
                fill(outdir)
                assert proc.wait(timeout=180) != 0
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        text = console.read_text()
        said = re.search(rf"^ERROR: out of disk space: {re.escape(MODEL)}\S* \((?P<free>{SIZE}) free of 32\.0 MiB on"
                         r" its file system\); free space and run the workflow again: the training resumes from"
                         r" checkpoint (?P<saved>\d+)$", text, re.MULTILINE)
        assert said, text[-6000:]
        assert re.search(rf"ERROR: out of disk space: tiny \({SIZE} free of 32\.0 MiB on its file system\); free"
                         " space and run the workflow again: a training resumes from its last checkpoint", text)
        assert not done.exists() and not list(done.parent.glob(f".{done.name}*"))  # no (partial) completion file
        saved = int(said["saved"])
        assert 2 <= saved <= 4 and train_model.saved_checkpoint(model) == saved, text[-6000:]
        log_before = len((model / "log").read_text().splitlines())

        grow(outdir, 64 * MiB)  # space freed
        run_workflow(workdir, f"{MODEL}.done.json", configfiles=(TINY,))

        record = json.loads(done.read_text())
        assert record["state_before"] == "resumable" and record["checkpoints"] == 8
        rows = (model / "metrics").read_text().splitlines()
        assert [int(row.split("\t")[0]) for row in rows] == list(range(1, 9))  # every checkpoint once
        rerun = (model / "log").read_text().splitlines()[log_before:]
        assert any("Resuming from saved state" in line for line in rerun)
        first = next(int(m[1]) for line in rerun if (m := re.search(r"Checkpoint \[(\d+)\]", line)))
        assert first == saved + 1  # from the checkpoint the line named, none trained twice in this run
        reference = undisturbed / MODEL
        assert len((reference / "metrics").read_text().splitlines()) == 8
        assert _shapes(model / "params.best") == _shapes(reference / "params.best")
        assert read_parameters(model) == read_parameters(reference) is not None


@pytest.mark.workflow
def test_a_distillation_that_fills_the_disk_leaves_no_output_and_writes_it_whole_again(undisturbed: Path,
                                                                                      tmp_path: Path) -> None:
    workdir = tmp_path / "run"
    with tmpfs(workdir / "tiny", 32 * MiB) as outdir:
        _copy_run(undisturbed, outdir)
        margin = 64 << 10  # the shard's n-best JSON takes ~220 KB
        fill(outdir, leave=margin)
        proc = run_workflow(workdir, SHARD_OUT, configfiles=(TINY,), check=False)
        text = proc.stdout + proc.stderr
        assert proc.returncode != 0
        assert re.search(rf"ERROR: out of disk space: {re.escape(SHARD_OUT)} \({SIZE} free of 32\.0 MiB on its file"
                         r" system\); free space and run the workflow again: the partial output was removed and will"
                         " be written again", text), text[-6000:]
        assert re.search(rf"ERROR: out of disk space: tiny \({SIZE} free of 32\.0 MiB on its file system\)", text)
        assert not (workdir / SHARD_OUT).exists()

        grow(outdir, 64 * MiB)
        run_workflow(workdir, SHARD_OUT, configfiles=(TINY,))
        output = workdir / SHARD_OUT
        lines = output.read_text().splitlines()
        assert len(lines) == len((workdir / SHARD_IN).read_text().splitlines()) == 750
        assert all(json.loads(line)["translation"] is not None for line in lines)
        assert output.stat().st_size > margin  # the calibration: it could not have fitted
