"""The start-up check of the trainers (rules/common.smk, `onstart`: before any job runs, never in a dry run,
which needs no interpreter). For each trainer backend that the configuration uses:

- its interpreter (config sockeye_python, sockeye3_python) is an executable file;
- it imports its Sockeye, of the version that the backend's entry point expects;
- every flag that the configuration passes to sockeye.train (slkd_config.trainer_flag_sets: the teachers, the
  tables' students, the grid's) is one that this Sockeye's own parser knows, with a value that it accepts.

One interpreter call per backend (its entry point's `--check-flags`, scripts/sockeye_flags.py), the backends in
parallel: importing MXNet or PyTorch is most of its time. Every problem names its configuration key.
sockeye.translate gets no configurable flag: decoding.* are numbers that the schema bounds as its parser does
(integers >= 1), and check_config compares decoding.nbest with decoding.beam_size.
"""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import trainers
from slkd_config import BACKEND_KEYS, TrainerFlag, sockeye_args, trainer_flag_sets

TIMEOUT = 300  # seconds for one interpreter's answer (it imports MXNet or PyTorch: a few seconds)


@dataclass
class Report:
    """What the check found: problems (each stops the run) and notes (shown, the run goes on)."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def flag_checks(flag_sets: list[tuple[TrainerFlag, ...]]) -> list[dict[str, Any]]:
    """The request's checks: each distinct (key, argv) among the flags of these sets that reach Sockeye (a
    `false` flag is left out of the command, so it is not checked), in order of appearance."""
    seen: dict[tuple[str, tuple[str, ...]], None] = {}
    for flags in flag_sets:
        for flag in flags:
            argv = tuple(sockeye_args({flag.flag: flag.value}))
            if argv:
                seen.setdefault((flag.key, argv), None)
    return [{"key": key, "argv": list(argv)} for key, argv in seen]


def setup_hint(backend: str) -> str:
    key = BACKEND_KEYS[backend]["python"]
    return f"build it with {trainers.get(backend).SETUP}, or set {key} (config)"


def interpreter_problem(backend: str, value: str, python: str) -> str | None:
    """Why the interpreter `python` (config value `value`) of a backend cannot run at all; None if it can."""
    if os.path.isfile(python) and os.access(python, os.X_OK):
        return None
    key = BACKEND_KEYS[backend]["python"]
    return f"{key}: {value} ({python}) is not an executable interpreter; {setup_hint(backend)}"


def ask(backend: str, python: str, checks: list[dict[str, Any]], timeout: float = TIMEOUT) -> dict[str, Any]:
    """The reply of the backend's `--check-flags` run by `python`; {"failed": reason} when there is none."""
    command = trainers.get(backend).command(python, "--check-flags")
    try:
        proc = subprocess.run(command, input=json.dumps({"checks": checks}), capture_output=True, text=True,
                              timeout=timeout, env=trainers.get(backend).env(1))
    except subprocess.TimeoutExpired:
        return {"failed": f"gave no answer within {timeout:g} s"}
    except OSError as err:
        return {"failed": f"could not be started ({err})"}
    lines = proc.stdout.strip().splitlines()
    try:
        reply = json.loads(lines[-1]) if proc.returncode == 0 and lines else None
    except json.JSONDecodeError:
        reply = None
    if not isinstance(reply, dict):
        said = (proc.stderr.strip().splitlines() or lines or ["nothing"])[-1]
        return {"failed": f"could not run {command[1]} --check-flags (exit {proc.returncode}: {said})"}
    return reply


def startup_check(config: dict[str, Any], pythons: dict[str, str], backends: list[str],
                  timeout: float = TIMEOUT) -> Report:
    """Check the interpreters `pythons` ({backend: path}) of `backends` and the flags that the configuration
    passes to each."""
    report = Report()
    flag_sets = trainer_flag_sets(config)
    asked = []
    for backend in backends:
        key = BACKEND_KEYS[backend]["python"]
        problem = interpreter_problem(backend, config[key], pythons[backend])
        if problem:
            report.problems.append(problem)
        else:
            asked.append(backend)
    with ThreadPoolExecutor(max_workers=max(1, len(asked))) as pool:
        replies = {b: pool.submit(ask, b, pythons[b], flag_checks(flag_sets.get(b, [])), timeout) for b in asked}
        for backend, future in replies.items():
            reply, key, python = future.result(), BACKEND_KEYS[backend]["python"], pythons[backend]
            if reply.get("failed"):
                report.problems.append(f"{key}: {python} {reply['failed']}")
            elif reply.get("environment"):
                report.problems.append(f"{key}: {python} {reply['environment']}; {setup_hint(backend)}")
            elif reply.get("skipped"):
                report.notes.append(f"{key}: {python} {reply['skipped']}; its sockeye.train flags are not checked")
            report.problems.extend(reply.get("flags", []))
    return report
