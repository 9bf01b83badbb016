"""Figure P3 of bench/run: how long Snakemake takes to plan the paper's configuration, as a multiple of its own
start-up (`snakemake --version`), so that the figure travels between machines of different speeds.

`snakemake -n table1 table2 table3 figures` (config.yaml, the figures with the grid search) in an empty working
directory against `snakemake --version`, in PAIRS pairs of alternating order (version first, then the dry run
first, ...): the median of the pairs' ratios, the goal at most GOAL. Beside it, not in the ratio: the time split
into loading the workflow (`--list-rules`) and building and printing the DAG, the tables alone, and the share of a
profiled dry run spent in the workflow's own code.

Every Snakemake start asks SLURM's `scontrol` for its configuration (the SLURM executor plugin, when it is
imported), and where SLURM's client is installed without a controller that question waits 10 s: both sides run
with a stand-in `scontrol` first on PATH that fails at once, as it does where no SLURM client is installed.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = ("table1", "table2", "table3", "figures")
TABLES = ("table1", "table2", "table3")
PAIRS = 5
GOAL = 3.0  # the dry run at most this many times Snakemake's start-up


def p3_planning(repo: Path, snakemake: Path, folder: Path, pairs: int = PAIRS) -> dict:
    """The P3 row of bench/run's table: the dry run of the paper's configuration against `snakemake --version`,
    `pairs` pairs in alternating order, under `folder` (emptied first)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = without_slurm_probe(folder / "bin")
    base = ["--snakefile", str(repo / "Snakefile"), "--directory", str(folder)]
    version = [str(snakemake), "--version"]

    def timed(cmd: list[str]) -> tuple[float, str]:
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{cmd} failed:\n{proc.stderr[-3000:]}")
        return seconds, proc.stdout + proc.stderr

    def plan(*targets: str) -> list[str]:
        return [str(snakemake), "-n", *targets, *base]

    _, out = timed(plan(*TARGETS))  # once untimed: the job count, and .snakemake/ as every later run finds it
    jobs = planned(out)
    seconds: dict[str, list[float]] = {"version": [], "plan": []}
    for i in range(pairs):
        order = [("version", version), ("plan", plan(*TARGETS))]
        for side, cmd in order if i % 2 == 0 else order[::-1]:
            print(f"bench: P3 pair {i + 1}/{pairs}: {side}", file=sys.stderr)
            seconds[side].append(timed(cmd)[0])
    ratios = [p / v for p, v in zip(seconds["plan"], seconds["version"], strict=True)]
    ratio = statistics.median(ratios)
    startup, dry = statistics.median(seconds["version"]), statistics.median(seconds["plan"])
    loaded = statistics.median(timed([str(snakemake), "--list-rules", *base])[0] for _ in range(3))
    tables_runs = [timed(plan(*TABLES)) for _ in range(3)]
    tables = statistics.median(s for s, _ in tables_runs)
    own = own_share([*plan(*TARGETS), "--quiet", "rules"], env, repo)
    return {"figure": "P3 dry run, paper config (x --version)", "measured": dry, "baseline": startup,
            "goal": f"<= {GOAL:g}x", "ratio": ratio, "ok": ratio <= GOAL,
            "detail": f"snakemake -n {' '.join(TARGETS)}: {jobs:,} jobs, seconds (measured) against snakemake"
                      f" --version (baseline), medians of {pairs} pairs in alternating order (version-dry run, dry"
                      f" run-version, ...); ratio: the median of the pairs' ratios"
                      f" {', '.join(f'{x:.2f}' for x in ratios)} (range {min(ratios):.2f}-{max(ratios):.2f});"
                      f" split: loading the workflow (--list-rules, less start-up) {loaded - startup:.2f} s, building"
                      f" and printing the DAG {dry - loaded:.2f} s; the workflow's own code {own:.1%} of the dry"
                      f" run's profiled time; the tables alone ({planned(tables_runs[0][1]):,} jobs): {tables:.2f} s;"
                      " SLURM's scontrol a stand-in that fails at once"}


def planned(out: str) -> int:
    """The job count of a dry run's `Job stats` table."""
    total = re.search(r"^total\s+(\d+)", out, re.MULTILINE)
    return int(total.group(1)) if total else 0


def without_slurm_probe(folder: Path) -> dict[str, str]:
    """The environment with a stand-in `scontrol` in `folder`, first on PATH, that fails at once."""
    folder.mkdir(parents=True, exist_ok=True)
    stand_in = folder / "scontrol"
    stand_in.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    stand_in.chmod(0o755)
    return {**os.environ, "PATH": os.pathsep.join([str(folder), os.environ.get("PATH", "")])}


def own_share(cmd: list[str], env: dict[str, str], repo: Path) -> float:
    """The share of a Snakemake run's profiled time (cProfile, own time of each function) spent in this
    repository's code: the Snakefile, rules/*.smk and scripts/."""
    import pstats

    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "plan.prof"
        subprocess.run([sys.executable, "-m", "cProfile", "-o", str(profile), *cmd], capture_output=True,
                       text=True, check=True, env=env)
        stats = pstats.Stats(str(profile)).stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in stats.values())
    venvs = tuple(str(repo / name) for name in (".venv", ".venv-sockeye", ".venv-sockeye3"))
    own = sum(row[2] for (path, _line, _name), row in stats.items()
              if path.startswith(str(repo)) and not path.startswith(venvs))
    return own / total if total else 0.0
