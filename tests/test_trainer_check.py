"""The start-up check of the trainers (scripts/slkd/trainer_check.py, scripts/slkd/sockeye_flags.py, rules/common.smk's
onstart): every flag that the configuration passes to sockeye.train, traced to its key, is parsed by the
configured Sockeye's own parser; an interpreter without Sockeye stops the run. Before any job, never in a dry run;
a clean answer is remembered until the flags or the environment change.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import (
    REPO,
    SOCKEYE3_PYTHON,
    SOCKEYE_PYTHON,
    TINY,
    TINY_TRANSFORMER,
    load_config,
    planned_jobs,
    run_workflow,
)
from slkd import checks, design, settings, sockeye_flags, trainer_check, training_flags

needs_sockeye = pytest.mark.skipif(not SOCKEYE_PYTHON.exists(), reason=f"no Sockeye environment at {SOCKEYE_PYTHON}")
needs_both = pytest.mark.skipif(not (SOCKEYE_PYTHON.exists() and SOCKEYE3_PYTHON.exists()),
                                reason="no Sockeye 1.18 or Sockeye 3 environment")
WITHOUT_SOCKEYE = sys.executable  # the workflow's own interpreter (.venv): no sockeye there


def keys(flags: tuple[training_flags.TrainerFlag, ...]) -> dict[str, str]:
    return {f.flag: f.key for f in flags}


def values(flags: tuple[training_flags.TrainerFlag, ...]) -> dict[str, object]:
    return {f.flag: f.value for f in flags}


FlagSet = tuple[training_flags.TrainerFlag, ...]


def find(sets: list[FlagSet], **wanted: object) -> FlagSet:
    """The one flag set with these flag values."""
    found = [s for s in sets if all(values(s).get(k.replace("_", "-")) == v for k, v in wanted.items())]
    assert len(found) == 1, (wanted, len(found))
    return found[0]


@pytest.mark.unit
def test_flag_sets_of_the_paper_config_name_their_keys() -> None:
    config = load_config()
    sets = training_flags.trainer_flag_sets(config)
    assert list(sets) == design.backends_used(config) == ["sockeye1"]
    rnn = sets["sockeye1"]
    # the teacher, Table 1 (SMALL x 3 seeds), Table 3 (3 columns x 3 seeds), one per grid architecture (trial 1;
    # the compare section's architectures are among the search's, with the same flags)
    assert len(rnn) == 1 + 3 + 9 + len(design.grid_architectures(config, "search"))
    teacher = find(rnn, max_num_epochs=100)
    # the same flags, in order
    assert list(values(teacher).items()) == list(training_flags.teacher_flags(config).items())
    assert keys(teacher) == {
        **{flag: f"sockeye_train.{flag}" for flag in config["sockeye_train"]},
        **{flag: f"architectures.LARGE.{flag}" for flag in config["architectures"]["LARGE"]},
        "max-num-epochs": "teacher.max_epochs", "seed": "teacher.seed",
    }
    small = find(rnn, num_words=500, max_updates=100 * 4000, seed=2, rnn_dropout_inputs="0:0")
    assert values(small) == training_flags.student_flags(config, design.Student("SMALL", "kd", False, 100, 2))
    assert keys(small)["rnn-dropout-inputs"] == "no_dropout.rnn-dropout-inputs"
    assert keys(small)["rnn-dropout-states"] == "no_dropout.rnn-dropout-states"
    assert keys(small)["rnn-num-hidden"] == "architectures.SMALL.rnn-num-hidden"
    assert (keys(small)["max-updates"], keys(small)["seed"]) == ("tables.table3.checkpoints", "trials")
    table1 = find(rnn, num_words=500, max_updates=30 * 4000, seed=3)
    assert keys(table1)["max-updates"] == "tables.table1.checkpoints"
    grid = find(rnn, num_words=30000, num_embed=512, num_layers=2, rnn_cell_type="gru", rnn_num_hidden=64)
    assert {flag: keys(grid)[flag] for flag in design.GRID_KEYS} == {flag: f"grid.{flag}" for flag in design.GRID_KEYS}
    assert (keys(grid)["max-updates"], keys(grid)["seed"]) == ("grid.checkpoints", "grid.trials")
    # a grid architecture equal to a named one trains under its name, with its flags
    large = find(rnn, **config["architectures"]["LARGE"], max_updates=25 * 4000)
    assert keys(large)["num-embed"] == "architectures.LARGE.num-embed"


@pytest.mark.unit
def test_flag_sets_of_the_transformer_config_and_teacher_overrides() -> None:
    config = load_config(*TINY_TRANSFORMER)
    config["teacher"].update(train={"batch-size": 128}, max_updates=50)
    config["grid"]["compare"]["num-embed"] = [8]  # an architecture of the compare section only
    sets = training_flags.trainer_flag_sets(config)
    assert list(sets) == design.backends_used(config) == ["sockeye1", "sockeye3"]
    teacher, student = sets["sockeye3"]  # T-LARGE teachers, Table 3's T-SMALL column (1 trial)
    assert values(teacher) == training_flags.teacher_flags(config) and values(teacher)["transformer-model-size"] == 32
    assert keys(teacher) == {
        **{flag: f"sockeye3_train.{flag}" for flag in config["sockeye3_train"]},
        **{flag: f"architectures.T-LARGE.{flag}" for flag in config["architectures"]["T-LARGE"] if flag != "backend"},
        "batch-size": "teacher.train.batch-size", "max-num-epochs": "teacher.max_epochs",
        "max-updates": "teacher.max_updates", "seed": "teacher.seed",
    }
    assert values(student) == training_flags.student_flags(config, design.Student("T-SMALL", "kd", True, 3, 1))
    assert keys(student)["transformer-attention-heads"] == "architectures.T-SMALL.transformer-attention-heads"
    assert (keys(student)["max-updates"], values(student)["max-updates"]) == ("tables.table3.checkpoints", 3 * 20)
    assert all(f.key.split(".")[0] != "teacher" for s in sets["sockeye1"] for f in s)  # no LSTM teacher here
    compare = find(sets["sockeye1"], num_embed=8, num_words=60)
    assert keys(compare)["num-embed"] == "grid.compare.num-embed"


@pytest.mark.unit
def test_flag_checks_are_the_distinct_flags_that_reach_sockeye() -> None:
    flag = training_flags.TrainerFlag
    sets = [(flag("a.x", "x", 1), flag("a.on", "on", True), flag("a.off", "off", False)),
            (flag("a.x", "x", 1), flag("b.x", "y", "2:2"))]
    assert trainer_check.flag_checks(sets) == [
        {"key": "a.x", "argv": ["--x", "1"]}, {"key": "a.on", "argv": ["--on"]}, {"key": "b.x", "argv": ["--y", "2:2"]},
    ]


@pytest.mark.unit
def test_rejections_name_the_key_and_say_why() -> None:
    parser = sockeye_flags.raising(argparse.ArgumentParser)(prog="toy")
    parser.add_argument("--num-layers", type=int)
    parser.add_argument("--cell", choices=["lstm", "gru"])
    parser.add_argument("--use-cpu", action="store_true")
    argvs = (["--num-layers", "2"], ["--num-layerz", "2"], ["--cell", "lsmt"], ["--use-cpu", "1"], ["--help"],
             ["--depth", "3"])
    checks = [{"key": f"t.{argv[0][2:]}", "argv": argv} for argv in argvs]
    assert sockeye_flags.rejections(parser, checks, "Toy's trainer", data=[]) == [
        "t.num-layerz: --num-layerz is not a flag of Toy's trainer (did you mean --num-layers?)",
        "t.cell: --cell lsmt is rejected by Toy's trainer: invalid choice: 'lsmt' (choose from 'lstm', 'gru')",
        "t.use-cpu: --use-cpu takes no value in Toy's trainer (true gives the bare flag), but 1 follows it",
        "t.help: --help is rejected by Toy's trainer: it would exit (status 0) without training",
        "t.depth: --depth is not a flag of Toy's trainer",
    ]


@pytest.mark.unit
def test_nbest_beyond_the_beam_is_a_config_error() -> None:
    config = load_config()
    config["decoding"].update(beam_size=2, nbest=3)
    with pytest.raises(settings.ConfigError) as err:
        checks.check_config(config)
    assert str(err.value) == ("decoding.nbest: 3 hypotheses from a beam of 2 (decoding.beam_size); Sockeye's n-best"
                              " list holds at most the beam")


def checks_of(config: dict, backend: str) -> list[dict]:
    return trainer_check.flag_checks(training_flags.trainer_flag_sets(config)[backend])


@pytest.mark.workflow
@needs_both
@pytest.mark.parametrize("backend", ["sockeye1", "sockeye3"])
def test_real_sockeye_parsers_accept_the_configs_and_reject_bad_flags(backend: str) -> None:
    paper = load_config()
    paper["teacher"]["architecture"] = "TRANSFORMER-LARGE"  # config.yaml's Sockeye 3 flags, as a teacher's
    paper["tables"]["table1"]["columns"].append({"architecture": "TRANSFORMER-SMALL", "dropout": False})
    good = checks_of(paper, backend) + checks_of(load_config(*TINY_TRANSFORMER), backend)
    assert len(good) > 40
    bad = {"sockeye1": [{"key": "sockeye_train.num-layerz", "argv": ["--num-layerz", "2"]},
                        {"key": "architectures.SMALL.rnn-cell-type", "argv": ["--rnn-cell-type", "mgru"]}],
           "sockeye3": [{"key": "sockeye3_train.transformer-model-sise", "argv": ["--transformer-model-sise", "8"]},
                        {"key": "sockeye3_train.batch-type", "argv": ["--batch-type", "words"]},
                        {"key": "architectures.T.rnn-num-hidden", "argv": ["--rnn-num-hidden", "8"]}]}[backend]
    python = {"sockeye1": SOCKEYE_PYTHON, "sockeye3": SOCKEYE3_PYTHON}[backend]
    reply = trainer_check.ask(backend, str(python), good + bad)
    version = {"sockeye1": "1.18.106", "sockeye3": "3.1.34"}[backend]
    tool = f"Sockeye {version}'s sockeye.train"
    assert reply == {"sockeye": version, "environment": None, "skipped": None, "flags": {
        "sockeye1": [
            f"sockeye_train.num-layerz: --num-layerz is not a flag of {tool} (did you mean --num-layers?)",
            f"architectures.SMALL.rnn-cell-type: --rnn-cell-type mgru is rejected by {tool}: invalid choice: 'mgru'"
            " (choose from 'lstm', 'lnlstm', 'lnglstm', 'gru', 'lngru', 'lnggru')",
        ],
        "sockeye3": [
            f"sockeye3_train.transformer-model-sise: --transformer-model-sise is not a flag of {tool}"
            " (did you mean --transformer-model-size?)",
            f"sockeye3_train.batch-type: --batch-type words is rejected by {tool}: invalid choice: 'words'"
            " (choose from 'sentence', 'word', 'max-word')",
            f"architectures.T.rnn-num-hidden: --rnn-num-hidden is not a flag of {tool}",
        ],
    }[backend]}


@pytest.mark.workflow
@needs_sockeye
def test_interpreters_without_their_sockeye_are_named() -> None:
    config = load_config(TINY)
    config["sockeye_python"] = "python3"
    pythons = {"sockeye1": WITHOUT_SOCKEYE, "sockeye3": str(SOCKEYE_PYTHON)}  # none, and Sockeye 1.18 for 3
    report = trainer_check.startup_check(config, pythons, ["sockeye1", "sockeye3"])
    assert report.problems == [
        f"sockeye_python: {WITHOUT_SOCKEYE} cannot import sockeye (ModuleNotFoundError: No module named 'sockeye');"
        " build it with `make setup` (CPU) or `make setup-gpu` (GPU), or set sockeye_python (config)",
        f"sockeye3_python: {SOCKEYE_PYTHON} has Sockeye 1.18.106, not 3.1.34; build it with `make setup`,"
        " or set sockeye3_python (config)",
    ] and report.notes == []
    report = trainer_check.startup_check(config, {"sockeye1": "/nonexistent/python"}, ["sockeye1"])
    assert report.problems == ["sockeye_python: python3 (/nonexistent/python) is not an executable interpreter;"
                               " build it with `make setup` (CPU) or `make setup-gpu` (GPU), or set sockeye_python"
                               " (config)"]


@pytest.mark.unit
def test_a_cuda_build_without_the_gpu_driver_skips_the_flags(tmp_path: Path) -> None:
    """On a submit host without a GPU driver, a CUDA MXNet does not import: noted, not an error (the GPU nodes
    have the driver). A stand-in sockeye package fails as mxnet-cu117 does there."""
    package = tmp_path / "sockeye"
    package.mkdir()
    (package / "__init__.py").write_text("__version__ = '1.18.106'\n")
    (package / "arguments.py").write_text("raise OSError('libcuda.so.1: cannot open shared object file')\n")
    entry = [sys.executable, str(REPO / "scripts/sockeye_entry.py"), "--check-flags"]
    proc = subprocess.run(entry, input=json.dumps({"checks": []}), capture_output=True, text=True,
                          env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1]) == {
        "sockeye": "1.18.106", "environment": None, "flags": [],
        "skipped": "cannot import sockeye here (OSError: libcuda.so.1: cannot open shared object file); libcuda.so.1"
                   " comes with the GPU driver, on the GPU nodes",
    }


def stand_in_sockeye(root: Path, argvs: list[list[str]]) -> Path:
    """A venv-like folder whose `python` (the workflow's, with a stand-in sockeye 1.18.106 that knows exactly
    these flags) counts its runs in root/runs; the interpreter's path."""
    site = root / "lib/python3.11/site-packages"
    (site / "sockeye").mkdir(parents=True)
    (site / "sockeye/__init__.py").write_text("__version__ = '1.18.106'\n")
    valued = sorted({a[0] for a in argvs if len(a) > 1} | set(sockeye_flags.DUMMY_DATA[::2]))
    bare = sorted({a[0] for a in argvs if len(a) == 1})
    (site / "sockeye/arguments.py").write_text(
        "import argparse\nConfigArgumentParser = argparse.ArgumentParser\n\n\ndef add_train_cli_args(params):\n"
        f"    for name in {valued!r}:\n        params.add_argument(name)\n"
        f"    for name in {bare!r}:\n        params.add_argument(name, action='store_true')\n")
    python = root / "bin/python"
    python.parent.mkdir()
    python.write_text(f'#!/bin/sh\necho run >> {root}/runs\nPYTHONPATH={site} exec {sys.executable} "$@"\n')
    python.chmod(0o755)
    return python


@pytest.mark.unit
def test_a_clean_answer_is_remembered_until_the_flags_or_sockeye_change(tmp_path: Path) -> None:
    config = load_config(TINY)
    python = stand_in_sockeye(tmp_path / "env", [c["argv"] for c in checks_of(config, "sockeye1")])
    cache = tmp_path / "check.json"

    def check(config: dict, cache: Path | None = cache) -> list[str]:
        return trainer_check.startup_check(config, {"sockeye1": str(python)}, ["sockeye1"], cache=cache).problems

    def runs() -> int:
        return len((tmp_path / "env/runs").read_text().splitlines())

    assert check(config) == [] and runs() == 1
    assert check(config) == [] and runs() == 1  # remembered: no interpreter started
    misspelled = load_config(TINY)
    misspelled["sockeye_train"]["num-layerz"] = 2
    for count in (2, 3):  # a problem is never remembered
        assert check(misspelled) == ["sockeye_train.num-layerz: --num-layerz is not a flag of Sockeye 1.18.106's"
                                     " sockeye.train (did you mean --num-layers?)"] and runs() == count
    assert check(config) == [] and runs() == 3
    arguments = tmp_path / "env/lib/python3.11/site-packages/sockeye/arguments.py"
    stat = arguments.stat()
    os.utime(arguments, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # Sockeye reinstalled
    assert check(config) == [] and runs() == 4
    assert check(config, cache=None) == [] and runs() == 5  # without a cache, every check asks
    assert len(json.loads(cache.read_text())) == 2  # the two clean answers (before and after the reinstall)


MISSPELLED = {"sockeye_train": {"num-layerz": 2}}
MISSPELLED_MESSAGE = ("sockeye_train.num-layerz: --num-layerz is not a flag of Sockeye 1.18.106's sockeye.train"
                      " (did you mean --num-layers?)")


@pytest.mark.workflow
@needs_sockeye
def test_a_misspelled_flag_stops_the_run_before_any_job(tmp_path: Path) -> None:
    proc = run_workflow(tmp_path, "table1", configfiles=(TINY,), config=MISSPELLED, check=False)
    assert proc.returncode != 0
    assert MISSPELLED_MESSAGE in proc.stderr
    assert not (tmp_path / "tiny").exists()  # no corpus, no BPE: not one job ran


@pytest.mark.workflow
def test_an_interpreter_without_sockeye_stops_the_run_before_any_job(tmp_path: Path) -> None:
    proc = run_workflow(tmp_path, "table1", configfiles=(TINY,), check=False, sockeye_python=WITHOUT_SOCKEYE)
    assert proc.returncode != 0
    assert (f"sockeye_python: {WITHOUT_SOCKEYE} cannot import sockeye (ModuleNotFoundError: No module named"
            " 'sockeye'); build it with `make setup`") in proc.stderr
    assert not (tmp_path / "tiny").exists()


@pytest.mark.plan
def test_a_dry_run_needs_no_interpreter(tmp_path: Path) -> None:
    proc = run_workflow(tmp_path, "-n", "table1", configfiles=(TINY,), config=MISSPELLED,
                        sockeye_python="/nonexistent/python", sockeye3_python="/nonexistent/python3")
    jobs = planned_jobs(proc)
    assert jobs["train_teacher"] == 1 and jobs["train_student"] == 3  # Table 1: 3 datasets x 1 trial
    assert "num-layerz" not in proc.stderr and not (tmp_path / "tiny").exists()
