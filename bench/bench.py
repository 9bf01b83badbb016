"""slkd-workflow's own speed, measured on this machine in one run; each figure a ratio against its baseline.

    bench/run [--sentences 1000] [--updates 200] [--run-demo] [--out bench/results.md]

P1 distillation decoding: the workflow's kd decoding (scripts/translate.py as the `distill` rule runs it:
   config/demo.yaml's batch size, shard count and threads, shards side by side, n-best JSON) against Sockeye
   decoding the same file with --batch-size 1 in one process (sockeye-recipes' default); sentences/second.
P2 training overhead: tokens/second of a student trained through scripts/train_model.py (the `train_student`
   rule's command) against the same `python -m sockeye.train` command run by hand.
P3 planning: wall time of `snakemake -n table1 table2 table3` on the paper's config.yaml.
P4 demo: wall time of `make demo` after set-up (--run-demo runs it; otherwise the newest complete demo run in
   .snakemake/log is read) and its critical path (teacher, its test decoding, distillation, the slowest
   student on kd data and its evaluation) from the demo's benchmark files.

The teacher and data come from config/demo.yaml, built once under bench/work/ by the workflow itself.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
from slkd_config import Student, load_config, sockeye_args, student_flags  # noqa: E402

WORK = REPO / "bench" / "work"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
SOCKEYE_PY = REPO / ".venv-sockeye" / "bin" / "python"
ENTRY = REPO / "scripts" / "sockeye_entry.py"
SPEED = re.compile(r"Speed: [\d.]+ samples/sec ([\d.]+) tokens/sec")


def demo_config() -> dict:
    """config.yaml merged with config/demo.yaml, as Snakemake merges them."""
    return load_config(REPO, REPO / "config/demo.yaml")


def workflow(*targets: str, config: str = "config/demo.yaml") -> None:
    """Build targets under bench/work with the workflow (outdir '.', so paths are relative to bench/work)."""
    WORK.mkdir(parents=True, exist_ok=True)
    cmd = [str(SNAKEMAKE), *targets, "--snakefile", str(REPO / "Snakefile"), "--directory", str(WORK),
           "--cores", "2", "--configfile", str(REPO / config), "--config", "outdir=.", f"sockeye_python={SOCKEYE_PY}"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def timed(cmds: list[list[str]], env: dict[str, str] | None = None) -> float:
    """Wall seconds to run the commands side by side (each must succeed)."""
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(cmds)) as pool:
        for proc in pool.map(lambda c: subprocess.run(c, env=env, capture_output=True, text=True), cmds):
            if proc.returncode != 0:
                raise RuntimeError(f"{proc.args} failed:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def p1_decoding(config: dict, sentences: int) -> dict:
    """kd decoding as the workflow runs it, against batch size 1 in one process."""
    decoding, threads = config["decoding"], config["compute"]["threads"]
    size = config["architectures"][config["teacher"]["architecture"]]["num-words"]
    lines = (WORK / f"data/bpe/{size}/base/train.de").read_text().splitlines()[:sentences]
    folder = WORK / "p1"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    shards = decoding["shards"]
    per = -(-len(lines) // shards)
    workflow_cmds = []
    for i in range(shards):
        (folder / f"{i}.in").write_text("".join(f"{line}\n" for line in lines[i * per:(i + 1) * per]))
        workflow_cmds.append([sys.executable, str(REPO / "scripts/translate.py"), "--sockeye-python", str(SOCKEYE_PY),
                              "--model-dir", str(WORK / "models/teacher/de-en"), "--input", str(folder / f"{i}.in"),
                              "--output", str(folder / f"{i}.json"), "--beam-size", str(decoding["beam_size"]),
                              "--batch-size", str(decoding["batch_size"]), "--nbest-size", str(decoding["nbest"]),
                              "--output-type", "json", "--device", "cpu", "--threads", str(threads)])
    (folder / "all.in").write_text("".join(f"{line}\n" for line in lines))
    baseline_cmd = [str(SOCKEYE_PY), str(ENTRY), "translate", "--models", str(WORK / "models/teacher/de-en"),
                    "--input", str(folder / "all.in"), "--output", str(folder / "all.out"),
                    "--beam-size", str(decoding["beam_size"]), "--batch-size", "1", "--use-cpu"]
    t_workflow = timed(workflow_cmds)
    t_baseline = timed([baseline_cmd])
    return {"figure": "P1 kd decoding (sentences/s)", "measured": len(lines) / t_workflow,
            "baseline": len(lines) / t_baseline, "goal": ">= 4x",
            "ratio": t_baseline / t_workflow, "ok": t_baseline / t_workflow >= 4,
            "detail": f"{len(lines)} sentences, beam {decoding['beam_size']}; workflow: {shards} shards x batch "
                      f"{decoding['batch_size']}, {threads} thread(s) each, n-best {decoding['nbest']} JSON; "
                      "baseline: batch 1, one process"}


def tokens_per_second(log: Path) -> float:
    """Median of Sockeye's `Speed: ... tokens/sec` reports in a training log, less the first (warm-up)."""
    speeds = [float(m.group(1)) for m in SPEED.finditer(log.read_text())][1:]
    if not speeds:
        raise RuntimeError(f"{log}: fewer than two speed reports")
    return statistics.median(speeds)


def p2_training(config: dict, updates: int) -> dict:
    """train_model.py (the rule's command) against `python -m sockeye.train` by hand, same flags."""
    student = Student("SMALL", "baseline", True, 1, 1)
    flags = {**student_flags(config, student), "max-updates": updates}
    size = config["architectures"]["SMALL"]["num-words"]
    data = {k: str(WORK / f"data/bpe/{size}/base/{split}.{lang}") for k, split, lang in (
        ("source", "train", "de"), ("target", "train", "en"),
        ("validation_source", "dev", "de"), ("validation_target", "dev", "en"))}
    folder = WORK / "p2"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    threads = str(config["compute"]["threads"])
    env = {**os.environ, "OMP_NUM_THREADS": threads, "MXNET_CPU_WORKER_NTHREADS": threads}
    rule_cmd = [sys.executable, str(REPO / "scripts/train_model.py"), "--sockeye-python", str(SOCKEYE_PY),
                "--model-dir", str(folder / "rule"), "--done", str(folder / "rule.done.json"),
                "--source", data["source"], "--target", data["target"],
                "--validation-source", data["validation_source"], "--validation-target", data["validation_target"],
                "--flags", json.dumps(flags), "--device", "cpu", "--threads", threads]
    hand_cmd = [str(SOCKEYE_PY), "-m", "sockeye.train", "--source", data["source"], "--target", data["target"],
                "--validation-source", data["validation_source"], "--validation-target", data["validation_target"],
                "--output", str(folder / "hand"), *sockeye_args(flags), "--use-cpu"]
    timed([rule_cmd], env)
    timed([hand_cmd], env)
    rule, hand = tokens_per_second(folder / "rule/log"), tokens_per_second(folder / "hand/log")
    return {"figure": "P2 train_student overhead (tokens/s)", "measured": rule, "baseline": hand, "goal": ">= 0.98",
            "ratio": rule / hand, "ok": rule / hand >= 0.98,
            "detail": f"SMALL student, {updates} updates each, run one after the other"}


def p3_planning() -> dict:
    """Dry run of the paper's matrix."""
    folder = WORK / "p3"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    cmd = [str(SNAKEMAKE), "-n", "table1", "table2", "table3", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(folder), "--cores", "1"]
    seconds = timed([cmd])
    return {"figure": "P3 dry run, paper config (s)", "measured": seconds, "baseline": 3.0, "goal": "< 3 s",
            "ratio": seconds / 3.0, "ok": seconds < 3.0,
            "detail": "snakemake -n table1 table2 table3 (ratio: measured / goal)"}


def newest_demo_seconds() -> float | None:
    """Elapsed time of the newest complete `demo` run in .snakemake/log."""
    for log in sorted((REPO / ".snakemake/log").glob("*.snakemake.log"), reverse=True):
        text = log.read_text(errors="replace")
        if "(Rule: demo)" in text and "100%) done" in text:
            match = re.search(r"Elapsed time: (\d+):(\d+):([\d.]+)", text)
            if match:
                h, m, s = match.groups()
                return int(h) * 3600 + int(m) * 60 + float(s)
    return None


def benchmark_seconds(path: Path) -> float:
    return float(path.read_text().splitlines()[1].split("\t")[0])


def critical_path() -> float | None:
    """Teacher, its test decoding, the slowest shard, the slowest kd student and its evaluation (demo/)."""
    b = REPO / "demo/benchmarks"
    try:
        steps = [benchmark_seconds(b / "train_teacher/de-en.tsv"),
                 benchmark_seconds(b / "translate_test/teacher/de-en.tsv"),
                 max(benchmark_seconds(p) for p in (b / "distill").glob("de-en.*.tsv")),
                 max(benchmark_seconds(p) for p in (b / "train_student").glob("*.kd.*.tsv"))
                 + max(benchmark_seconds(p) for p in (b / "translate_test/student").rglob("*.tsv"))]
    except (OSError, ValueError):
        return None
    return sum(steps)


def p4_demo(run: bool) -> dict:
    if run:
        shutil.rmtree(REPO / "demo", ignore_errors=True)
        seconds = timed([["make", "-C", str(REPO), "demo"]])
    else:
        seconds = newest_demo_seconds()
    path = critical_path()
    detail = "make demo after set-up" + (f"; critical path {path / 60:.1f} min" if path else "")
    if seconds is None:
        return {"figure": "P4 make demo (min)", "measured": None, "baseline": 15.0, "goal": "<= 15 min",
                "ratio": None, "ok": False, "detail": "no complete demo run found: run `make demo` or --run-demo"}
    return {"figure": "P4 make demo (min)", "measured": seconds / 60, "baseline": 15.0, "goal": "<= 15 min",
            "ratio": seconds / 60 / 15.0, "ok": seconds <= 900, "detail": detail}


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def table(rows: list[dict]) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [f"Measured {time.strftime('%Y-%m-%d')} on {machine}.", "",
             "| figure | measured | baseline | ratio | goal | met | how |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['figure']} | {fmt(r['measured'])} | {fmt(r['baseline'])} | {fmt(r['ratio'])} | "
                     f"{r['goal']} | {'yes' if r['ok'] else 'no'} | {r['detail']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=1000, help="P1: training sentences decoded")
    parser.add_argument("--updates", type=int, default=200, help="P2: updates of each training")
    parser.add_argument("--run-demo", action="store_true", help="P4: run `make demo` (about 12 min)")
    parser.add_argument("--out", default=str(REPO / "bench/results.md"))
    args = parser.parse_args(argv)
    if not SOCKEYE_PY.exists():
        print(f"no Sockeye environment at {SOCKEYE_PY}: run `make setup` first", file=sys.stderr)
        return 2
    config = demo_config()
    size_large = config["architectures"]["LARGE"]["num-words"]
    size_small = config["architectures"]["SMALL"]["num-words"]
    print("bench: building the demo teacher and data under bench/work (once) ...", file=sys.stderr)
    workflow("models/teacher/de-en.done.json",
             *(f"data/bpe/{size}/base/{split}.{lang}" for size in (size_large, size_small)
               for split in ("train", "dev") for lang in ("de", "en")))
    rows = []
    steps = (("P1", lambda: p1_decoding(config, args.sentences)), ("P2", lambda: p2_training(config, args.updates)),
             ("P3", p3_planning), ("P4", lambda: p4_demo(args.run_demo)))
    for name, step in steps:
        print(f"bench: {name} ...", file=sys.stderr)
        rows.append(step())
    result = table(rows)
    Path(args.out).write_text(result, encoding="utf-8")
    print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
