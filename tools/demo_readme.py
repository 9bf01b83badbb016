"""The README's demo results, written from a demo run, never by hand (`make demo-readme` after `make demo`).

    python demo_readme.py collect [--results demo/results] [--logs .snakemake/log] [--docs docs/demo]
    python demo_readme.py render [--docs docs/demo] [--readme README.md] [--check]
    python demo_readme.py compare [--results demo/results] [--docs docs/demo]

`collect` copies the run's tables (1-3, Markdown), its claims and its figures into docs/demo/ (the committed copy of
the last demo run's results) and writes docs/demo/run.json: when and how long the run took (Snakemake's log of
the newest complete `demo` run), on how many cores, and whether each student had stopped improving at its end.
`render` rewrites the part of the README between the two DEMO markers from docs/demo/ alone; with --check it
only says whether the README already holds exactly that (tests/test_demo_readme.py runs it). `compare` (the end
of `make demo`) says whether a run's tables and claims are byte-identical to docs/demo/'s, naming those that are
not: with portable CPU kernels (compute.cpu_kernels) they are on any x86-64 processor with AVX2.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))  # the library: slkd
from slkd.settings import load_config  # noqa: E402

BEGIN = "<!-- DEMO RESULTS BEGIN: written by `make demo-readme` from docs/demo/; do not edit by hand -->"
END = "<!-- DEMO RESULTS END -->"
TABLES = ("table3", "table1", "table2", "claims")
FIGURES = ("fig1", "fig2", "fig3")
FLAT = 0.02  # flat at its end: the last checkpoint lowers the best validation perplexity before it by under 2 %


class DemoReadmeError(RuntimeError):
    """A demo run that cannot be collected, or a README without its markers."""


def demo_run(logs: Path) -> dict[str, Any] | None:
    """The newest complete `demo` run among Snakemake's logs: {"seconds": elapsed, "cores": provided, "date"},
    or None."""
    for log in sorted(logs.glob("*.snakemake.log"), reverse=True):
        text = log.read_text(errors="replace")
        if "(Rule: demo)" in text and "100%) done" in text:
            elapsed = re.search(r"Elapsed time: (\d+):(\d+):([\d.]+)", text)
            cores = re.search(r"^Provided cores: (\d+)", text, re.MULTILINE)
            if elapsed:
                hours, minutes, seconds = elapsed.groups()
                return {"seconds": int(hours) * 3600 + int(minutes) * 60 + float(seconds),
                        "cores": int(cores.group(1)) if cores else None, "date": log.name[:10]}
    return None


def flatness(runs: Path) -> dict[str, Any]:
    """Whether each student had stopped improving at its end: how much its last checkpoint lowered the best
    validation perplexity of the checkpoints before it (relative; 0 or less: not at all), over every run file
    (scripts/evaluate.py) under `runs`. Below FLAT, the curve is flat at its end."""
    gains: dict[str, float] = {}
    for path in sorted(runs.rglob("*.json")):
        run = json.loads(path.read_text(encoding="utf-8"))
        curve = [point["ppl_val"] for point in run["curve"] if point.get("ppl_val") is not None]
        if len(curve) < 2:
            raise DemoReadmeError(f"{path}: {len(curve)} validation checkpoint(s): no end to judge flat or not")
        best = min(curve[:-1])
        gains[run["model"]] = (best - curve[-1]) / best
    if not gains:
        raise DemoReadmeError(f"no run files under {runs}")
    worst = max(gains, key=lambda model: gains[model])
    return {"students": len(gains), "flat": sum(g < FLAT for g in gains.values()), "criterion": FLAT,
            "largest_gain": round(gains[worst], 4), "largest_gain_model": worst}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def compare(results: Path, docs: Path) -> list[str]:
    """The tables and claims (TABLES, Markdown and, where docs/ has it, CSV) that differ between a run's results
    and docs/: [] when every one is byte-identical."""
    names = [f"{name}.md" for name in TABLES] + [path.name for path in sorted(docs.glob("*.csv"))]
    return [name for name in names if not (results / name).is_file()
            or (results / name).read_bytes() != (docs / name).read_bytes()]


def collect(results: Path, logs: Path, docs: Path, kernels: str = "portable") -> dict[str, Any]:
    """Copy the run's tables, claims (also as CSV) and figures into docs/ and write docs/run.json (with the run's
    CPU kernels, compute.cpu_kernels); its content."""
    demo = demo_run(logs)
    if demo is None:
        raise DemoReadmeError(f"no complete `demo` run in {logs}: run `make demo` first")
    docs.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        shutil.copyfile(results / f"{name}.md", docs / f"{name}.md")
    shutil.copyfile(results / "claims.csv", docs / "claims.csv")  # the verdicts' effects and intervals, unrounded
    for name in FIGURES:
        shutil.copyfile(results / "figures" / f"{name}.png", docs / f"{name}.png")
    scores = {path.stem: json.loads(path.read_text()) for path in sorted((results / "teachers").glob("*.json"))}
    teachers = {name: {"dev": score["floor"]["bleu"], "test": score["bleu"]} for name, score in scores.items()}
    run = {"date": demo["date"], "seconds": round(demo["seconds"], 1), "cores": demo["cores"], "cpu": cpu_model(),
           "kernels": kernels, "teachers": teachers, "curves": flatness(results / "runs")}
    (docs / "run.json").write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
    return run


def render_section(docs: Path) -> str:
    """The README's demo results, from docs/ alone."""
    run = json.loads((docs / "run.json").read_text(encoding="utf-8"))
    minutes, seconds = divmod(round(run["seconds"]), 60)
    curves = run["curves"]
    teachers = ", ".join(f"{direction} {bleu['test']:.1f} on test ({bleu['dev']:.1f} on dev)"
                         for direction, bleu in run["teachers"].items())
    table = {name: (docs / f"{name}.md").read_text(encoding="utf-8").strip() for name in TABLES}
    return "\n".join([
        BEGIN,
        f"The last demo run ({run['date']}): `make demo` took **{minutes} min {seconds:02d} s** (Snakemake's"
        f" elapsed time) on {run['cores']} cores ({run['cpu']}). The teachers' tokenized BLEU: {teachers}."
        f" Curves at their end: {curves['flat']} of {curves['students']} students had stopped improving (their"
        f" last checkpoint lowers the best validation perplexity before it by less than {curves['criterion']:.0%};"
        f" the most it lowers it: {curves['largest_gain']:.1%}, {curves['largest_gain_model']}).",
        "",
        ("Its CPU kernels were portable (`compute.cpu_kernels`): `make demo` on any x86-64 processor with AVX2"
         " writes these Tables 1-3 and claims byte for byte, and says so at its end"
         " ([Same numbers on every machine](#same-numbers-on-every-machine))."
         if run.get("kernels") == "portable" else
         f"Its CPU kernels were {run.get('kernels', 'native')}: a run on another processor gives other numbers."),
        "",
        "**Table 3** (test BLEU and BPE train perplexity, mean ± sd over each column's trials):",
        "",
        table["table3"],
        "",
        "**Table 1** (SMALL with dropout, per trial):",
        "",
        table["table1"],
        "",
        "**Table 2**:",
        "",
        table["table2"],
        "",
        "**The paper's claims**, answered by the workflow (`results/claims.{md,csv}`):",
        "",
        table["claims"],
        "",
        "Figure 1, validation perplexity per checkpoint of Table 3's students:",
        "",
        "![Figure 1 of the demo](docs/demo/fig1.png)",
        "",
        "Figure 2, the demo's grid: test BLEU against the number of parameters (trial 1, baseline data):",
        "",
        "![Figure 2 of the demo](docs/demo/fig2.png)",
        "",
        "Figure 3, base+kd against baseline per grid architecture:",
        "",
        "![Figure 3 of the demo](docs/demo/fig3.png)",
        END,
    ])


def render(readme: str, docs: Path) -> str:
    """The README with its demo results section rewritten from docs/."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise DemoReadmeError(f"the README has no demo results section (its markers: {BEGIN!r} ... {END!r})")
    return readme[:start] + render_section(docs) + readme[end + len(END):]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["collect", "render", "compare"])
    parser.add_argument("--results", type=Path, default=Path("demo/results"))
    parser.add_argument("--logs", type=Path, default=Path(".snakemake/log"))
    parser.add_argument("--docs", type=Path, default=Path("docs/demo"))
    parser.add_argument("--readme", type=Path, default=Path("README.md"))
    parser.add_argument("--check", action="store_true", help="render: fail if the README differs, write nothing")
    parser.add_argument("--configfile", type=Path, default=Path("config/demo.yaml"),
                        help="collect: the demo's configuration (its compute.cpu_kernels)")
    args = parser.parse_args(argv)
    try:
        if args.action == "collect":
            kernels = load_config(Path(__file__).resolve().parent.parent, args.configfile)["compute"]["cpu_kernels"]
            print(json.dumps(collect(args.results, args.logs, args.docs, kernels), indent=2))
            return 0
        if args.action == "compare":
            differing = compare(args.results, args.docs)
            print(f"Tables 1-3 and the claims: {'identical to' if not differing else 'other than'} {args.docs}/'s"
                  f" (the README's){': ' + ', '.join(differing) if differing else ''}")
            return 1 if differing else 0
        text = args.readme.read_text(encoding="utf-8")
        new = render(text, args.docs)
    except (DemoReadmeError, OSError, KeyError, ValueError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    if args.check:
        if new != text:
            print(f"ERROR: {args.readme}'s demo results differ from {args.docs}: run `make demo-readme`",
                  file=sys.stderr)
            return 1
        return 0
    args.readme.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
