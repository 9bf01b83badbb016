"""The start-up check of the trainers (rules/common.smk, `onstart`: before any job runs, never in a dry run,
which needs no interpreter). For each trainer backend that the configuration uses:

- its interpreter (config sockeye_python, sockeye3_python) is an executable file;
- it imports its Sockeye, of the version that the backend's entry point expects;
- every flag that the configuration passes to sockeye.train (slkd.training_flags.trainer_flag_sets: the teachers, the
  tables' students, the grid's) is one that this Sockeye's own parser knows, with a value that it accepts.

One interpreter call per backend (its entry point's `--check-flags`, scripts/slkd/sockeye_flags.py), the backends in
parallel: importing MXNet or PyTorch is most of its time (2-3 s each). A check that found nothing is remembered
(`.snakemake/slkd-trainer-check.json`) under a fingerprint of its request, of this checker's code and of the
environment as seen from outside (the interpreter, its site-packages folders, Sockeye's argument module): the
next run with the same flags and the same environment starts no interpreter. Every problem names its
configuration key.
sockeye.translate gets no configurable flag: decoding.* are numbers that the schema bounds as its parser does
(integers >= 1), and check_config compares decoding.nbest with decoding.beam_size.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slkd import backends
from slkd.training_flags import TrainerFlag, sockeye_args, trainer_flag_sets

TIMEOUT = 300  # seconds for one interpreter's answer (it imports MXNet or PyTorch: a few seconds)
SCRIPTS = Path(__file__).resolve().parent.parent
CACHE = Path(".snakemake/slkd-trainer-check.json")  # in the working directory, beside Snakemake's own records
CACHE_ENTRIES = 32


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
    key = backends.get(backend).PYTHON_KEY
    return f"build it with {backends.get(backend).SETUP}, or set {key} (config)"


def interpreter_problem(backend: str, value: str, python: str) -> str | None:
    """Why the interpreter `python` (config value `value`) of a backend cannot run at all; None if it can."""
    if os.path.isfile(python) and os.access(python, os.X_OK):
        return None
    key = backends.get(backend).PYTHON_KEY
    return f"{key}: {value} ({python}) is not an executable interpreter; {setup_hint(backend)}"


def ask(backend: str, python: str, checks: list[dict[str, Any]], timeout: float = TIMEOUT) -> dict[str, Any]:
    """The reply of the backend's `--check-flags` run by `python`; {"failed": reason} when there is none."""
    command = backends.get(backend).command(python, "--check-flags")
    try:
        proc = subprocess.run(command, input=json.dumps({"checks": checks}), capture_output=True, text=True,
                              timeout=timeout, env=backends.get(backend).env(1))
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


def environment_stamp(python: str) -> list[Any] | None:
    """The state of a Sockeye environment as read without running it: the interpreter, the site-packages folders
    beside it (a package installed or removed changes their entries) and Sockeye's __init__ and argument
    modules; None where no lib/python*/site-packages/sockeye lies beside the interpreter (nothing remembered)."""
    path = Path(python).absolute()
    sites = sorted(path.parent.parent.glob("lib/python*/site-packages"))
    if not any((site / "sockeye").is_dir() for site in sites):
        return None
    modules = [site / "sockeye" / name for site in sites for name in ("__init__.py", "arguments.py")]
    stamp: list[Any] = []
    for file in [path, *sites, *modules]:
        try:
            stat = file.stat()
            stamp.append([str(file), stat.st_mtime_ns, stat.st_size])
        except OSError:
            stamp.append([str(file), None])
    return stamp


def fingerprint(backend: str, python: str, checks: list[dict[str, Any]]) -> str | None:
    """What a remembered answer is filed under: the request, the checker's code, the environment's stamp."""
    stamp = environment_stamp(python)
    if stamp is None:
        return None
    code = [hashlib.sha256(file.read_bytes()).hexdigest() for file in
            (backends.get(backend).ENTRY, SCRIPTS / "sockeye_entry.py", SCRIPTS / "slkd" / "sockeye_flags.py")]
    return hashlib.sha256(json.dumps([backend, stamp, code, checks]).encode()).hexdigest()


def read_cache(path: Path) -> dict[str, Any]:
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def write_cache(path: Path, known: dict[str, Any]) -> None:
    """The latest CACHE_ENTRIES answers, written whole or not at all."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(dict(list(known.items())[-CACHE_ENTRIES:])), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # nothing remembered: the next run asks again


def clean(reply: dict[str, Any]) -> bool:
    """An answer with nothing to report: the only kind remembered."""
    return not any(reply.get(name) for name in ("failed", "environment", "skipped", "flags"))


def startup_check(config: dict[str, Any], pythons: dict[str, str], used: list[str],
                  timeout: float = TIMEOUT, cache: Path | None = None) -> Report:
    """Check the interpreters `pythons` ({backend: path}) of the backends `used` and the flags that the configuration
    passes to each; with `cache`, clean answers are remembered there and not asked for again."""
    report = Report()
    flag_sets = trainer_flag_sets(config)
    known = read_cache(cache) if cache else {}
    requests: dict[str, tuple[list[dict[str, Any]], str | None]] = {}
    for backend in used:
        problem = interpreter_problem(backend, config[backends.get(backend).PYTHON_KEY], pythons[backend])
        if problem:
            report.problems.append(problem)
            continue
        checks = flag_checks(flag_sets.get(backend, []))
        requests[backend] = (checks, fingerprint(backend, pythons[backend], checks) if cache else None)
    to_ask = [b for b, (_checks, mark) in requests.items() if mark is None or mark not in known]
    with ThreadPoolExecutor(max_workers=max(1, len(to_ask))) as pool:
        asked = {b: pool.submit(ask, b, pythons[b], requests[b][0], timeout) for b in to_ask}
        replies = {b: asked[b].result() if b in asked else known[requests[b][1]] for b in requests}
    remembered = dict(known)
    for backend, reply in replies.items():
        key, python, mark = backends.get(backend).PYTHON_KEY, pythons[backend], requests[backend][1]
        if backend in asked and mark and clean(reply):
            remembered[mark] = reply
        if reply.get("failed"):
            report.problems.append(f"{key}: {python} {reply['failed']}")
        elif reply.get("environment"):
            report.problems.append(f"{key}: {python} {reply['environment']}; {setup_hint(backend)}")
        elif reply.get("skipped"):
            report.notes.append(f"{key}: {python} {reply['skipped']}; its sockeye.train flags are not checked")
        report.problems.extend(reply.get("flags", []))
    if cache and remembered != known:
        write_cache(cache, remembered)
    return report
