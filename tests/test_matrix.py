"""The paper's matrix, planned by a dry run of the root config.yaml: exact job counts, no job twice."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from conftest import load_config, planned_jobs, run_workflow

pytestmark = pytest.mark.plan


def plan(tmp_path: Path, config: dict | None = None) -> dict[str, int]:
    return planned_jobs(run_workflow(tmp_path, "-n", "table1", "table2", "table3", config=config))


def test_paper_matrix_counts(tmp_path: Path) -> None:
    jobs = plan(tmp_path)
    # Table 3: SMALL 5 datasets x 2 dropout x 3 trials = 30, LARGE 5 x 3 = 15 (100 checkpoints);
    # Table 1: SMALL 3 datasets x 3 trials = 9 (30 checkpoints).
    assert jobs["train_teacher"] == 2
    assert jobs["train_student"] == 54
    assert jobs["evaluate"] == 54
    assert jobs["score_teacher"] == 2
    assert jobs["translate_test"] == 54 + 2
    assert jobs["distill"] == 2 * 8  # two teachers x decoding.shards
    assert jobs["gather_part"] == 3  # kd, best2 (de-en), bt (en-de): one job per part of the table used
    assert jobs["concat_dataset"] == 5
    assert jobs["table1"] == jobs["table2"] == jobs["table3"] == 1
    # paired bootstrap against baseline: Table 3's 4 other datasets x 3 columns x 3 trials, Table 1's 2 x 3
    assert jobs["paired_bootstrap"] == 36 + 6


def test_trials_scale_students_and_nothing_else(tmp_path: Path) -> None:
    base = plan(tmp_path / "a")
    five = plan(tmp_path / "b", {"trials": 5})
    assert five["train_student"] == five["evaluate"] == 54 // 3 * 5
    changed = {rule for rule in base if base[rule] != five[rule]} - {"total"}
    assert changed == {"train_student", "evaluate", "translate_test", "paired_bootstrap"}


def test_removing_a_dataset(tmp_path: Path) -> None:
    table3 = {"datasets": ["baseline", "kd", "base+kd", "base+best-2"]}
    jobs = plan(tmp_path, {"tables": {"table3": table3}})
    assert jobs["train_student"] == jobs["evaluate"] == 54 - 3 * 3
    # without base+kd+bt, no back-translation teacher is needed
    assert jobs["train_teacher"] == 1 and jobs["gather_part"] == 2  # kd and best2: no bt, no en-de teacher
    assert jobs["concat_dataset"] == 4
    assert jobs["paired_bootstrap"] == 3 * 3 * 3 + 6


def expected_grid(values: dict, named: dict[str, dict]) -> set[str]:
    """Appendix A.1's architectures, computed here from the config's lists (not with slkd.design): the product
    less the excluded combinations, named by their flags, or LARGE/SMALL where the flags are theirs."""
    keys = ["num-words", "num-embed", "num-layers", "rnn-cell-type", "rnn-num-hidden"]
    names = set()
    for combo in itertools.product(*(values[k] for k in keys)):
        arch = dict(zip(keys, combo, strict=True))
        if any(all(arch[k] in v for k, v in entry.items()) for entry in values.get("exclude", [])):
            continue
        name = next((n for n, spec in named.items() if spec == arch), None)
        names.add(name or "bpe{}-e{}-l{}-{}-h{}".format(*combo))
    return names


def test_grid_plans_every_architecture_once(tmp_path: Path) -> None:
    """`snakemake -n figures grid` with the root config: Figure 2's grid on baseline and Figure 3's on base+kd,
    each architecture exactly once, at the grid's budget, next to Table 3's students (Figure 1)."""
    config = load_config()
    grid = config["grid"]
    proc = run_workflow(tmp_path, "-n", "figures", "grid")
    out = proc.stdout + proc.stderr
    done = re.compile(r"models/student/([^/\s]+)/([^/\s]+)/(dropout|nodropout)/ckpt(\d+)/trial(\d+)\.done\.json")
    trained = {m for m in done.findall(out) if m[3] == str(grid["checkpoints"])}
    search = expected_grid(grid, config["architectures"])
    compare = expected_grid(grid["compare"], config["architectures"])
    assert len(search) == 576 - 168 and len(compare) == 27 and compare <= search
    assert {a for a, d, *_ in trained if d == "baseline"} == search
    assert {a for a, d, *_ in trained if d == "base+kd"} == compare
    assert {(d, t) for _, d, _, _, t in trained} == {("baseline", "1"), ("base+kd", "1")}
    assert {"LARGE", "SMALL"} <= search  # A.2 and A.3 are grid points
    jobs = planned_jobs(proc)
    assert jobs["train_student"] == jobs["evaluate"] == len(trained) + 45 == 408 + 27 + 45
    assert jobs["figure1"] == jobs["figure2"] == jobs["figure3"] == 1


def test_a_new_part_is_one_line_of_the_parts_table(tmp_path: Path) -> None:
    """best3 (the teacher's 3rd hypothesis): one line in `parts`; a dataset and a table row then use it, and the
    gather rule, the wildcard constraints and the checks follow from the table."""
    config = load_config()
    table3 = config["tables"]["table3"]
    extra = {
        "parts": {**config["parts"], "best3": {"teacher": "forward", "hypothesis": 3}},  # the one line
        "decoding": {"nbest": 3},  # three hypotheses to choose from
        "datasets": {**config["datasets"], "base+best-3": ["base", "kd", "best3"]},
        "tables": {"table3": {**table3, "datasets": [*table3["datasets"], "base+best-3"]}},
    }
    proc = run_workflow(tmp_path, "-n", "-p", "table3", config=extra)
    jobs, base = planned_jobs(proc), planned_jobs(run_workflow(tmp_path / "base", "-n", "table3"))
    assert jobs["gather_part"] == base["gather_part"] + 1 == 4 and jobs["concat_dataset"] == 5 + 1
    assert jobs["train_student"] == base["train_student"] + 3 * 3  # a row more: 3 columns x 3 trials
    out = proc.stdout + proc.stderr
    assert "--part best3:3" in out and "data/distill/de-en/best3/train.en" in out
    assert out.count("--nbest-size 3") == 8  # the de-en teacher's shards decode 3 hypotheses
    # a rank beyond the n-best list is a configuration error naming the key
    bad = run_workflow(tmp_path / "bad", "-n", "table3", config={**extra, "decoding": {"nbest": 2}}, check=False)
    assert bad.returncode != 0 and "parts.best3.hypothesis: rank 3 of an n-best list of 2" in bad.stdout + bad.stderr
