"""The trainer flags of every training (teachers, students, the grid's), each traced to the configuration key
it comes from, and the checks of the flags that a backend would misread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slkd import backends
from slkd.design import (
    Student,
    architecture,
    backend_of,
    ensemble_size,
    grid_students,
    students,
    teachers_used,
)

# Trainer flags, each traced to the configuration key it comes from: {flag: (value, key)}. A section's flags
# (sockeye_train, an architecture, ...) are keyed `section.flag`; a flag the workflow computes is keyed by the
# setting it comes from. The flags of every training are these without their keys (`untraced`); the start-up
# check (scripts/slkd/trainer_check.py) names the keys.
Traced = dict[str, tuple[Any, str]]


def _traced(key: str, flags: dict[str, Any]) -> Traced:
    return {flag: (value, f"{key}.{flag}") for flag, value in flags.items()}


def untraced(flags: Traced) -> dict[str, Any]:
    """Traced flags without their keys: the flags of a training, in order."""
    return {flag: value for flag, (value, _key) in flags.items()}


def traced_model_flags(config: dict[str, Any], name: str, dropout: bool, grid_key: str = "grid") -> Traced:
    """`model_flags` with their keys; a grid architecture's flags are keyed under `grid_key` (grid or
    grid.compare), a named architecture's under architectures.NAME."""
    arch = architecture(config, name)
    keys = backends.get(arch.get("backend", backends.DEFAULT_BACKEND)).KEYS
    arch_key = f"architectures.{name}" if name in config["architectures"] else grid_key
    flags = {**_traced(keys["train"], config[keys["train"]]),
             **_traced(arch_key, {k: v for k, v in arch.items() if k != "backend"})}
    if not dropout:
        flags.update(_traced(keys["without_dropout"], config[keys["without_dropout"]]))
    return flags


def model_flags(config: dict[str, Any], name: str, dropout: bool) -> dict[str, Any]:
    """The sockeye.train flags of architecture `name` with or without dropout: its backend's flags for every
    training (sockeye_train, A.4), the architecture's own, and the backend's no-dropout flags (A.5)."""
    return untraced(traced_model_flags(config, name, dropout))


def checkpoint_interval(flags: dict[str, Any]) -> int:
    """Updates per checkpoint: the backend's CHECKPOINT_FLAG (Sockeye 1.18's --checkpoint-frequency, 3's
    --checkpoint-interval)."""
    return next(int(flags[b.CHECKPOINT_FLAG]) for b in backends.BACKENDS.values() if b.CHECKPOINT_FLAG in flags)


def traced_teacher_flags(config: dict[str, Any], member: int = 1) -> Traced:
    """`teacher_flags` with their keys."""
    teacher = config["teacher"]
    flags = traced_model_flags(config, teacher["architecture"], teacher["dropout"])
    flags.update(_traced("teacher.train", teacher.get("train", {})))
    flags["max-num-epochs"] = (teacher["max_epochs"], "teacher.max_epochs")
    if "max_updates" in teacher:
        flags["max-updates"] = (teacher["max_updates"], "teacher.max_updates")
    flags["seed"] = (teacher["seed"] + member - 1, "teacher.seed")
    return flags


def teacher_flags(config: dict[str, Any], member: int = 1) -> dict[str, Any]:
    """Every sockeye.train flag of a teacher (A.2, A.4; epochs as configured); member i of an ensemble
    (teacher.ensemble) trains with seed teacher.seed + i - 1, so member 1 is the single teacher."""
    return untraced(traced_teacher_flags(config, member))


def traced_student_flags(config: dict[str, Any], student: Student, budget_key: str = "checkpoints",
                         seed_key: str = "trials", grid_key: str = "grid") -> Traced:
    """`student_flags` with their keys: the budget's (tables.T.checkpoints, grid.checkpoints), the seed's
    (trials, grid.trials) and a grid architecture's (grid, grid.compare), as the caller knows them."""
    flags = traced_model_flags(config, student.architecture, student.dropout, grid_key)
    # The budget as an absolute number of updates: Sockeye's --max-checkpoints counts from the point where a
    # resumed run restarts, so a killed and resumed student would otherwise train longer than its peers.
    flags["max-updates"] = (student.checkpoints * checkpoint_interval(untraced(flags)), budget_key)
    flags["seed"] = (student.trial, seed_key)
    return flags


def student_flags(config: dict[str, Any], student: Student) -> dict[str, Any]:
    """Every sockeye.train flag of a student: its architecture, dropout (A.5), budget and seed (= trial)."""
    return untraced(traced_student_flags(config, student))


@dataclass(frozen=True)
class TrainerFlag:
    """One flag of a training as the configuration gives it: the key it comes from, its name, its value."""

    key: str
    flag: str
    value: Any


def trainer_flag_sets(config: dict[str, Any]) -> dict[str, list[tuple[TrainerFlag, ...]]]:
    """{backend: its distinct flag sets}, in the registry's order: the flags of every training the configuration
    plans (the teachers that backends_used counts, the tables' students, the grid's), built by the functions
    that build the training commands; sets that give the same argv are one. Each flag names its key."""
    sets: dict[str, dict[tuple[str, ...], tuple[TrainerFlag, ...]]] = {}

    def add(name: str, traced: Traced) -> None:
        argv = tuple(sockeye_args(untraced(traced)))
        flags = tuple(TrainerFlag(key, flag, value) for flag, (value, key) in traced.items())
        sets.setdefault(backend_of(config, name), {}).setdefault(argv, flags)

    if teachers_used(config):
        for member in range(1, ensemble_size(config) + 1):
            add(config["teacher"]["architecture"], traced_teacher_flags(config, member))
    for table in config["tables"]:
        for s in students(config, [table]):
            add(s.architecture, traced_student_flags(config, s, f"tables.{table}.checkpoints", "trials"))
    for section, grid_key in (("search", "grid"), ("compare", "grid.compare")):
        for s in grid_students(config, section):
            add(s.architecture, traced_student_flags(config, s, "grid.checkpoints", "grid.trials", grid_key))
    return {backend: list(sets[backend].values()) for backend in backends.BACKENDS if backend in sets}


def sockeye_args(flags: dict[str, Any]) -> list[str]:
    """Flags as sockeye's argv: `true` gives a bare flag, `false` leaves it out, any other value follows it."""
    argv: list[str] = []
    for name, value in flags.items():
        if value is True:
            argv.append(f"--{name}")
        elif value is not False and value is not None:
            argv += [f"--{name}", str(value)]
    return argv
