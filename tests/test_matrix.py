"""The paper's matrix, planned by a dry run of the root config.yaml: exact job counts, no job twice."""

from __future__ import annotations

from pathlib import Path

from conftest import planned_jobs, run_workflow


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
    assert jobs["gather_distilled"] == jobs["gather_backtranslated"] == 1
    assert jobs["concat_dataset"] == 5
    assert jobs["table1"] == jobs["table2"] == jobs["table3"] == 1


def test_trials_scale_students_and_nothing_else(tmp_path: Path) -> None:
    base = plan(tmp_path / "a")
    five = plan(tmp_path / "b", {"trials": 5})
    assert five["train_student"] == five["evaluate"] == 54 // 3 * 5
    changed = {rule for rule in base if base[rule] != five[rule]} - {"total"}
    assert changed == {"train_student", "evaluate", "translate_test"}


def test_removing_a_dataset(tmp_path: Path) -> None:
    table3 = {"datasets": ["baseline", "kd", "base+kd", "base+best-2"]}
    jobs = plan(tmp_path, {"tables": {"table3": table3}})
    assert jobs["train_student"] == jobs["evaluate"] == 54 - 3 * 3
    # without base+kd+bt, no back-translation teacher is needed
    assert jobs["train_teacher"] == 1 and "gather_backtranslated" not in jobs
    assert jobs["concat_dataset"] == 4
