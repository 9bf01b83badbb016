"""slkd-workflow's own speed, measured on this machine in one run; each figure a ratio against its baseline.

    bench/run [P1 P2 P3 P4 K C] [--sentences 1000] [--updates 200] [--pairs 4] [--run-demo] [--out bench/RESULTS.md]

Without names, every figure is measured; with names, only those, and the other rows are copied from the previous
results, marked "previous run (DATE)". The results replace the part of bench/RESULTS.md between its two BENCH
markers; the notes around them are kept.

P1 distillation decoding: the workflow's kd decoding (scripts/translate.py as the `distill` rule runs it:
   config/demo.yaml's batch size, shard count and threads, shards side by side, n-best JSON) against Sockeye
   decoding the same file with --batch-size 1 in one process (sockeye-recipes' default); sentences/second.
P2 training overhead: tokens/second of a student trained through scripts/train_model.py (the `train_student`
   rule's command) against the same `python -m sockeye.train` command run by hand: --pairs pairs of runs in
   alternating order (rule, hand; hand, rule; rule, hand; ...: with an even number each side runs first as
   often, so a drift or an advantage of the second run cancels), the median of the pairs' ratios and their range.
P3 planning: `snakemake -n table1 table2 table3 figures` on the paper's config.yaml (the figures include the grid
   search) against Snakemake's start-up, `snakemake --version`: 5 pairs in alternating order (version, dry run;
   dry run, version; ...), the median of the pairs' ratios, goal at most 3x; beside it the time split into
   loading the workflow (`--list-rules`) and the DAG, the tables alone and the share of a profiled dry run spent in
   the workflow's own code (bench/planning.py; SLURM's `scontrol` answered by a stand-in that fails at once).
P4 demo: wall time of `make demo` after set-up (--run-demo runs it; otherwise the newest complete demo run in
   .snakemake/log is read) and its critical path (teacher, its test decoding, distillation, the slowest
   student on kd data and its evaluation) from the demo's benchmark files.
K  the cost of portable CPU kernels (compute.cpu_kernels): native / portable speed of a SMALL LSTM student's
   training (Sockeye 1.18: oneDNN against OpenBLAS's Haswell kernels), of a Transformer student's (Sockeye 3:
   the libraries' own kernels against AVX2, MKL's COMPATIBLE path and a correctly rounded sqrt) and of the kd
   decoding (the teacher, as P1's workflow side), each through the workflow's own scripts with --cpu-kernels
   native and portable: --pairs pairs in alternating order, the median of the pairs' time ratios.
C  the CPU throughputs of `snakemake cost` (config.yaml `cost.cpu`): the paper's LARGE and SMALL architectures
   (config.yaml) trained with the paper's flags on CPU at config.yaml's threads, on random tokens of their full
   vocabularies (source and target of equal lengths, 5-38 tokens); seconds per update from Sockeye's checkpoint
   reports, less the first; their ratio gives fixed_share. Decoding: the LARGE model decodes with config.yaml's
   beam and batch size (equal lengths make its output as long as its input, as an untrained model runs to the
   maximum length) 100 and 400 sentences: the rate is 300 over the difference of the times, start-up what the
   shorter run took beyond its sentences. Printed as a `cost.cpu` block for config.yaml.

The teacher and data of P1 and P2 come from config/demo.yaml, built once under bench/work/ by the workflow itself.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
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
sys.path.insert(0, str(REPO / "tools"))
from demo_readme import demo_run  # noqa: E402
from planning import p3_planning  # noqa: E402
from slkd import formats  # noqa: E402
from slkd.backends import sockeye1  # noqa: E402
from slkd.backends.sockeye1 import env as sockeye_env  # noqa: E402
from slkd.cost.rates import weights_per_token  # noqa: E402
from slkd.design import Student  # noqa: E402
from slkd.settings import load_config  # noqa: E402
from slkd.training_flags import sockeye_args, student_flags  # noqa: E402

WORK = REPO / "bench" / "work"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
SOCKEYE_PY = REPO / ".venv-sockeye" / "bin" / "python"
SOCKEYE3_PY = REPO / ".venv-sockeye3" / "bin" / "python"
ENTRY = REPO / "scripts" / "sockeye_entry.py"
SPEED = re.compile(r"Speed: [\d.]+ samples/sec ([\d.]+) tokens/sec")
FIGURES = ("P1", "P2", "P3", "P4", "K", "C")
BEGIN = "<!-- BENCH RESULTS BEGIN: written by bench/run; do not edit by hand -->"
END = "<!-- BENCH RESULTS END -->"


def demo_config() -> dict:
    """config.yaml merged with config/demo.yaml, as Snakemake merges them."""
    return load_config(REPO, REPO / "config/demo.yaml")


def workflow(*targets: str, config: str = "config/demo.yaml") -> None:
    """Build targets under bench/work with the workflow (outdir '.', so paths are relative to bench/work)."""
    WORK.mkdir(parents=True, exist_ok=True)
    cmd = [str(SNAKEMAKE), *targets, "--snakefile", str(REPO / "Snakefile"), "--directory", str(WORK),
           "--cores", "2", "--configfile", str(REPO / config), "--config", "outdir=.",
           f"{sockeye1.PYTHON_KEY}={SOCKEYE_PY}"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def timed(cmds: list[list[str]], env: dict[str, str] | None = None) -> float:
    """Wall seconds to run the commands side by side (each must succeed)."""
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(cmds)) as pool:
        for proc in pool.map(lambda c: subprocess.run(c, env=env, capture_output=True, text=True), cmds):
            if proc.returncode != 0:
                raise RuntimeError(f"{proc.args} failed:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def translate_cmd(config: dict, source: Path, output: Path, *options: str) -> list[str]:
    """The `distill` rule's command (scripts/translate.py) on the demo's de-en teacher: n-best JSON, the config's
    beam, batch and threads, on the CPU."""
    decoding = config["decoding"]
    return [sys.executable, str(REPO / "scripts/translate.py"), "--sockeye-python", str(SOCKEYE_PY),
            "--model-dir", str(WORK / "models/teacher/de-en"), "--input", str(source), "--output", str(output),
            "--beam-size", str(decoding["beam_size"]), "--batch-size", str(decoding["batch_size"]),
            "--nbest-size", str(decoding["nbest"]), "--output-type", "json", "--device", "cpu",
            "--threads", str(config["compute"]["threads"]), *options]


def student_data(config: dict) -> dict[str, str]:
    """The SMALL students' BPE training and dev files under bench/work, by train_model.py's option names."""
    size = config["architectures"]["SMALL"]["num-words"]
    return {k: str(WORK / f"data/bpe/{size}/base/{split}.{lang}") for k, split, lang in (
        ("source", "train", "de"), ("target", "train", "en"),
        ("validation_source", "dev", "de"), ("validation_target", "dev", "en"))}


def train_cmd(config: dict, out: Path, flags: dict, *options: str, python: Path = SOCKEYE_PY) -> list[str]:
    """The `train_student` rule's command (scripts/train_model.py) on student_data, on the CPU."""
    data = student_data(config)
    return [sys.executable, str(REPO / "scripts/train_model.py"), "--sockeye-python", str(python),
            "--model-dir", str(out), "--done", f"{out}.done.json", "--source", data["source"],
            "--target", data["target"], "--validation-source", data["validation_source"],
            "--validation-target", data["validation_target"], "--flags", json.dumps(flags), "--device", "cpu",
            "--threads", str(config["compute"]["threads"]), *options]


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
        workflow_cmds.append(translate_cmd(config, folder / f"{i}.in", folder / f"{i}.json"))
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


def p2_training(config: dict, updates: int, pairs: int) -> dict:
    """train_model.py (the rule's command) against `python -m sockeye.train` by hand, same flags: `pairs` pairs of
    runs in alternating order (rule first, then hand first, ...), so that drifts of a shared machine's load hit
    both sides alike; the median of the pairs' ratios."""
    student = Student("SMALL", "baseline", True, 1, 1)
    flags = {**student_flags(config, student), "max-updates": updates}
    data = student_data(config)
    folder = WORK / "p2"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    threads = str(config["compute"]["threads"])
    env = sockeye_env(threads)

    def rule_cmd(out: Path) -> list[str]:
        return train_cmd(config, out, flags)

    def hand_cmd(out: Path) -> list[str]:
        return [str(SOCKEYE_PY), "-m", "sockeye.train", "--source", data["source"], "--target", data["target"],
                "--validation-source", data["validation_source"], "--validation-target", data["validation_target"],
                "--output", str(out), *sockeye_args(flags), "--use-cpu"]

    rule, hand = [], []
    for i in range(pairs):
        order = [("rule", rule_cmd), ("hand", hand_cmd)]
        for side, command in order if i % 2 == 0 else order[::-1]:
            out = folder / f"{side}{i + 1}"
            print(f"bench: P2 pair {i + 1}/{pairs}: {side}", file=sys.stderr)
            timed([command(out)], env)
            (rule if side == "rule" else hand).append(tokens_per_second(out / "log"))
    ratios = [r / h for r, h in zip(rule, hand, strict=True)]
    ratio = statistics.median(ratios)
    return {"figure": "P2 train_student overhead (tokens/s)", "measured": statistics.median(rule),
            "baseline": statistics.median(hand), "goal": ">= 0.98", "ratio": ratio, "ok": ratio >= 0.98,
            "detail": f"SMALL student, {updates} updates each; {pairs} pairs in alternating order (rule-hand, "
                      f"hand-rule, ...): median of the pairs' ratios; ratios {', '.join(f'{x:.3f}' for x in ratios)}"
                      f" (range {min(ratios):.3f}-{max(ratios):.3f})"}


def k_kernels(config: dict, updates: int, pairs: int, sentences: int) -> list[dict]:
    """Native against portable CPU kernels, side by side in alternating pairs: a SMALL LSTM student's training,
    a Transformer student's and the kd decoding, each through the workflow's own script; rows of time ratios."""
    threads = str(config["compute"]["threads"])
    folder = WORK / "k"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    jobs = {}
    for name, arch, python in (("LSTM student", "SMALL", SOCKEYE_PY),
                               ("Transformer student", "TRANSFORMER-SMALL", SOCKEYE3_PY)):
        backend = config["architectures"][arch].get("backend", sockeye1.NAME)
        flags = {**student_flags(config, Student(arch, "baseline", backend == sockeye1.NAME, 1, 1)),
                 "max-updates": updates}
        if backend == sockeye1.NAME:  # the demo's fixed-step schedule would set its own length (700 updates)
            flags = {key: value for key, value in flags.items() if not key.startswith("learning-rate-schedule")}
        jobs[name] = (f"{updates} updates", lambda out, kernels, f=flags, b=backend, py=python: train_cmd(
            config, out, f, "--backend", b, "--cpu-kernels", kernels, python=py))
    lines = (WORK / f"data/bpe/{config['architectures'][config['teacher']['architecture']]['num-words']}"
             "/base/train.de").read_text().splitlines()[:sentences]
    (folder / "kd.in").write_text("".join(f"{line}\n" for line in lines))
    jobs["kd decoding"] = (f"{len(lines)} sentences, beam {config['decoding']['beam_size']}",
                           lambda out, kernels: translate_cmd(config, folder / "kd.in", out, "--cpu-kernels", kernels))
    rows = []
    for name, (work, command) in jobs.items():
        seconds: dict[str, list[float]] = {"native": [], "portable": []}
        for i in range(pairs):
            order = ["native", "portable"] if i % 2 == 0 else ["portable", "native"]
            for kernels in order:
                print(f"bench: K {name} pair {i + 1}/{pairs}: {kernels}", file=sys.stderr)
                seconds[kernels].append(timed([command(folder / f"{name.split()[0]}-{kernels}{i + 1}", kernels)]))
        ratios = [p / n for n, p in zip(seconds["native"], seconds["portable"], strict=True)]
        ratio = statistics.median(ratios)
        rows.append({"figure": f"K {name}: native / portable speed", "measured": statistics.median(seconds["native"]),
                     "baseline": statistics.median(seconds["portable"]), "goal": "report", "ratio": ratio, "ok": True,
                     "detail": f"seconds native (measured) and portable (baseline), medians of {pairs} alternating"
                               f" pairs; {work}, {threads} thread(s); ratios {', '.join(f'{x:.3f}' for x in ratios)}"})
    return rows


def newest_demo_seconds() -> float | None:
    """Elapsed time of the newest complete `demo` run in .snakemake/log."""
    run = demo_run(REPO / ".snakemake/log")
    return run["seconds"] if run else None


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


def random_corpus(folder: Path, vocabulary: int, lines: int, seed: int) -> dict[str, str]:
    """Parallel text of random tokens from `vocabulary` types (each side's training text holds every type),
    source and target of equal lengths (5-38 tokens, mean 21.5: TED's 19.6 words a line in BPE tokens): train,
    dev and test files."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    types = [f"w{i}" for i in range(vocabulary)]
    files = {}
    for split, count in (("train", lines), ("dev", 50), ("test", 400)):
        lengths = [rng.randint(5, 38) for _ in range(count)]
        for side in ("src", "trg"):
            stream = rng.sample(types, len(types)) if split == "train" else []
            stream += rng.choices(types, k=sum(lengths))
            text, start = [], 0
            for length in lengths:
                text.append(" ".join(stream[start:start + length]))
                start += length
            path = folder / f"{split}.{side}"
            path.write_text("\n".join(text) + "\n", encoding="utf-8")
            files[f"{split}.{side}"] = str(path)
    return files


FORBID_EOS = """
import json, sys
import mxnet as mx
folder = sys.argv[1]
eos = json.load(open(folder + "/vocab.trg.0.json"))["</s>"]
params = mx.nd.load(folder + "/params.best")
params["arg:target_output_bias"][eos] = -1e4
mx.nd.save(folder + "/params.best", params)
"""


def forbid_eos(model: Path) -> None:
    """An untrained model ends its hypotheses at random; without </s> they run to Sockeye's maximum output
    length, which on equal-length training data is about the input's length (a batch runs to its longest
    input's), as a batch of real translations runs until its longest one ends."""
    subprocess.run([str(SOCKEYE_PY), "-c", FORBID_EOS, str(model)], check=True, capture_output=True)


def cost_throughputs(updates: int) -> dict:
    """CPU throughputs of config.yaml's LARGE and SMALL (the paper's), as `snakemake cost` uses them."""
    config = load_config(REPO)
    threads = str(config["compute"]["threads"])
    env = sockeye_env(threads)
    folder = WORK / "cost"
    shutil.rmtree(folder, ignore_errors=True)
    interval = max(updates // 4, 1)
    speeds, archs = {}, {}
    for name in ("LARGE", "SMALL"):
        arch = config["architectures"][name]
        archs[name] = arch
        data = random_corpus(folder / f"data{arch['num-words']}", arch["num-words"], 4000, seed=1)
        flags = {**config[sockeye1.KEYS["train"]], **arch, "checkpoint-frequency": interval, "max-updates": updates,
                 "decode-and-evaluate": 0, "seed": 1}
        cmd = [str(SOCKEYE_PY), str(ENTRY), "train", "--source", data["train.src"], "--target", data["train.trg"],
               "--validation-source", data["dev.src"], "--validation-target", data["dev.trg"],
               "--output", str(folder / name), *sockeye_args(flags), "--use-cpu"]
        print(f"bench: C training {name} ({updates} updates on CPU, {threads} threads)", file=sys.stderr)
        timed([cmd], env)
        rates = formats.checkpoint_rates((folder / name / "log").read_text())[1:]
        speeds[name] = int(flags["batch-size"]) * statistics.median(rates)  # target tokens/s
    decoding = config["decoding"]
    data = folder / f"data{archs['LARGE']['num-words']}"
    forbid_eos(folder / "LARGE")
    test = (data / "test.src").read_text().splitlines()
    (data / "test100.src").write_text("".join(f"{line}\n" for line in test[:100]), encoding="utf-8")

    def decode(source: Path) -> float:
        return timed([[str(SOCKEYE_PY), str(ENTRY), "translate", "--models", str(folder / "LARGE"),
                       "--input", str(source), "--output", str(source) + ".out", "--beam-size",
                       str(decoding["beam_size"]), "--batch-size", str(decoding["batch_size"]), "--use-cpu"]], env)

    print("bench: C decoding with LARGE on CPU", file=sys.stderr)
    short, long = decode(data / "test100.src"), decode(data / "test.src")
    decode_rate = (len(test) - 100) / max(long - short, 1e-6)  # start-up and binding cancel out
    startup = max(short - 100 / decode_rate, 0.0)
    words = [len((data / name).read_text().split()) for name in ("test.src", "test.src.out")]
    ratio = speeds["LARGE"] / speeds["SMALL"]  # time per token of SMALL relative to LARGE
    share = weights_per_token(archs["SMALL"]) / weights_per_token(archs["LARGE"])
    fixed = min(max((ratio - share) / (1 - share), 0.0), 1.0)
    return {"threads": int(threads), "updates": updates, "LARGE": speeds["LARGE"], "SMALL": speeds["SMALL"],
            "fixed_share": fixed, "decode": decode_rate, "startup": startup, "beam": decoding["beam_size"],
            "batch": decoding["batch_size"], "length_ratio": words[1] / words[0]}


def cost_block(c: dict) -> str:
    """The measured CPU throughputs as Markdown and as config.yaml's `cost.cpu` block."""
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    note = f"measured by bench/run on {machine}, {c['threads']} threads, {time.strftime('%Y-%m-%d')}"
    return "\n".join([
        f"C (CPU throughputs for `snakemake cost`; {c['threads']} threads, {c['updates']} updates per model): "
        f"training LARGE {c['LARGE']:,.0f} target tokens/s, SMALL {c['SMALL']:,.0f} tokens/s (so fixed_share "
        f"{c['fixed_share']:.2f}); decoding LARGE {c['decode']:,.2f} sentences/s (beam {c['beam']}, batch "
        f"{c['batch']}; without </s> each batch runs to its longest input: outputs {c['length_ratio']:.2f} x the"
        f" input's length), start-up {c['startup']:.1f} s.",
        "", "```yaml", "  cpu:",
        f"    train_tokens_per_second: {c['LARGE']:.0f}", f"    decode_sentences_per_second: {c['decode']:.2f}",
        f"    fixed_share: {c['fixed_share']:.2f}", f"    startup_seconds: {c['startup']:.1f}",
        f'    note: "{note}"', "```", ""])


def previous_rows(path: Path) -> tuple[dict[str, str], str | None, str]:
    """Table rows (by their figure cell: "P1 kd decoding ...", "K LSTM student ...") and the C block of a previous
    results file, and its date."""
    if not path.is_file():
        return {}, None, ""
    text = path.read_text(encoding="utf-8")
    date = re.search(r"Measured (\d{4}-\d{2}-\d{2})", text)
    rows = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines() if re.match(r"\| (P\d|K) ", line)}
    block = re.search(r"^(\*\*previous run \([^)]*\)\*\*: )?C \(CPU throughputs.*?^```\n", text, re.S | re.M)
    return rows, block.group(0) if block else None, date.group(1) if date else "unknown date"


def mark_previous(line: str, date: str) -> str:
    """A previous table row, its `how` cell marked as copied."""
    cells = line.rstrip().rstrip("|").split(" | ")
    if not cells[-1].startswith("**previous run ("):  # copied once already: it keeps its own date
        cells[-1] = f"**previous run ({date})**: {cells[-1].strip()}"
    return " | ".join(cells) + " |"


def write_results(path: Path, result: str) -> None:
    """The results between the file's BENCH markers, the rest of it kept; a file without them gets only those."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    start, end = text.find(BEGIN), text.find(END)
    block = f"{BEGIN}\n{result}{END}"
    if start < 0 or end < start:
        text = block + "\n"
    else:
        text = text[:start] + block + text[end + len(END):]
    path.write_text(text, encoding="utf-8")


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def table(rows: list[dict | str]) -> str:
    """The results table; a row given as a string is a previous run's row, already formatted and marked."""
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [f"Measured {time.strftime('%Y-%m-%d')} on {machine}.", "",
             "| figure | measured | baseline | ratio | goal | met | how |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        if isinstance(r, str):
            lines.append(r)
            continue
        lines.append(f"| {r['figure']} | {fmt(r['measured'])} | {fmt(r['baseline'])} | {fmt(r['ratio'])} | "
                     f"{r['goal']} | {'yes' if r['ok'] else 'no'} | {r['detail']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("figures", nargs="*", metavar="FIGURE", help=f"any of {', '.join(FIGURES)} (default: all)")
    parser.add_argument("--sentences", type=int, default=1000, help="P1: training sentences decoded")
    parser.add_argument("--updates", type=int, default=200, help="P2: updates of each training")
    parser.add_argument("--pairs", type=int, default=4,
                        help="P2: pairs of runs in alternating order (even: each order as often)")
    parser.add_argument("--cost-updates", type=int, default=24, help="C: updates of each CPU throughput training")
    parser.add_argument("--run-demo", action="store_true", help="P4: run `make demo` (about 12 min)")
    parser.add_argument("--out", default=str(REPO / "bench/RESULTS.md"))
    args = parser.parse_args(argv)
    unknown = sorted(set(args.figures) - set(FIGURES))
    if unknown:
        parser.error(f"unknown figure {', '.join(unknown)} (known: {', '.join(FIGURES)})")
    chosen = set(args.figures or FIGURES)
    if not SOCKEYE_PY.exists():
        print(f"no Sockeye environment at {SOCKEYE_PY}: run `make setup` first", file=sys.stderr)
        return 2
    previous, previous_block, date = previous_rows(Path(args.out))
    config = demo_config()
    if chosen & {"P1", "P2", "K"}:
        size_large = config["architectures"]["LARGE"]["num-words"]
        size_small = config["architectures"]["SMALL"]["num-words"]
        print("bench: building the demo teacher and data under bench/work (once) ...", file=sys.stderr)
        workflow("models/teacher/de-en.done.json",
                 *(f"data/bpe/{size}/base/{split}.{lang}" for size in (size_large, size_small)
                   for split in ("train", "dev") for lang in ("de", "en")))
    rows: list[dict | str] = []
    steps = (("P1", lambda: p1_decoding(config, args.sentences)),
             ("P2", lambda: p2_training(config, args.updates, args.pairs)),
             ("P3", lambda: p3_planning(REPO, SNAKEMAKE, WORK / "p3")), ("P4", lambda: p4_demo(args.run_demo)),
             ("K", lambda: k_kernels(config, args.updates, args.pairs // 2 or 1, args.sentences)))
    for name, step in steps:
        if name in chosen:
            print(f"bench: {name} ...", file=sys.stderr)
            earlier = [line for figure, line in previous.items() if figure.split()[0] == name]
            measured = step()
            for row in measured if isinstance(measured, list) else [measured]:
                if row["measured"] is None and earlier:  # P4 without a demo run here: the last one known
                    row = mark_previous(earlier[0], date)
                rows.append(row)
        else:
            rows += [mark_previous(line, date) for figure, line in previous.items() if figure.split()[0] == name]
    result = table(rows)
    if "C" in chosen:
        result += "\n" + cost_block(cost_throughputs(args.cost_updates))
    elif previous_block:
        result += "\n" + (previous_block if previous_block.startswith("**previous run (") else
                          f"**previous run ({date})**: {previous_block}")
    write_results(Path(args.out), result)
    print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
