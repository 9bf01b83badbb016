"""The README's demo results are the committed copy of the last demo run's (docs/demo/), written by
tools/demo_readme.py, never by hand; `collect` takes its numbers from the run's own files."""

from __future__ import annotations

import json
from pathlib import Path

import demo_readme
import pytest
from conftest import REPO

pytestmark = pytest.mark.unit


def test_the_readme_shows_exactly_the_committed_demo_results() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert demo_readme.render(readme, REPO / "docs/demo") == readme, "run `make demo-readme`"
    section = demo_readme.render_section(REPO / "docs/demo")
    for name in demo_readme.TABLES:  # each table as the run wrote it
        assert (REPO / f"docs/demo/{name}.md").read_text(encoding="utf-8").strip() in section
    run = json.loads((REPO / "docs/demo/run.json").read_text())
    assert f"{run['curves']['flat']} of {run['curves']['students']} students" in section


def fake_run(tmp_path: Path, curves: dict[str, list[float]]) -> tuple[Path, Path]:
    results, logs = tmp_path / "demo/results", tmp_path / "logs"
    (results / "figures").mkdir(parents=True)
    (results / "teachers").mkdir()
    logs.mkdir()
    for name in demo_readme.TABLES:
        (results / f"{name}.md").write_text(f"| {name} |\n|---|\n| 1 |\n\ncaption of {name}\n")
    (results / "claims.csv").write_text("claim,verdict\nkd>baseline,supported\n")
    for name in demo_readme.FIGURES:
        (results / f"figures/{name}.png").write_bytes(b"\x89PNG" + name.encode())
    (results / "teachers/de-en.json").write_text(json.dumps({"bleu": 74.84, "floor": {"bleu": 72.81}}))
    for i, (model, values) in enumerate(curves.items()):
        run = results / f"runs/{i}.json"
        run.parent.mkdir(parents=True, exist_ok=True)
        run.write_text(json.dumps({"model": model, "curve": [{"checkpoint": c, "ppl_val": v}
                                                             for c, v in enumerate(values, 1)]}))
    (logs / "2026-12-01T100000.000000.snakemake.log").write_text(
        "Provided cores: 8\n(Rule: demo)\n12 of 12 steps (100%) done\nElapsed time: 0:20:00.0\n")
    (logs / "2026-12-06T100000.000000.snakemake.log").write_text(
        "Provided cores: 2\nlocalrule demo:\n(Rule: demo)\n230 of 230 steps (100%) done\nElapsed time: 0:13:05.51\n")
    (logs / "2026-12-07T100000.000000.snakemake.log").write_text("Provided cores: 2\n(Rule: demo)\n3 of 230 steps\n")
    return results, logs


def test_collect_copies_the_run_and_measures_its_curves(tmp_path: Path) -> None:
    results, logs = fake_run(tmp_path, {"student/a": [3.0, 2.0, 1.99], "student/b": [2.0, 1.5, 1.45],
                                        "student/c": [1.2, 1.21]})
    docs = tmp_path / "docs"
    run = demo_readme.collect(results, logs, docs, "portable")
    # the newest complete demo run: 13 min 5.51 s on 2 cores (the later log never finished)
    assert (run["date"], run["seconds"], run["cores"]) == ("2026-12-06", 785.5, 2)
    # what the last checkpoint gains on the best before it: a 0.5 %, b 3.3 %, c none (it rose): two below 2 %
    assert run["curves"] == {"students": 3, "flat": 2, "criterion": 0.02, "largest_gain": 0.0333,
                             "largest_gain_model": "student/b"}
    assert run["teachers"] == {"de-en": {"dev": 72.81, "test": 74.84}}
    assert (docs / "fig2.png").read_bytes() == b"\x89PNGfig2"
    assert json.loads((docs / "run.json").read_text()) == run
    readme = f"# x\n\nbefore\n{demo_readme.BEGIN}\nstale\n{demo_readme.END}\nafter\n"
    new = demo_readme.render(readme, docs)
    assert new.startswith("# x\n\nbefore\n") and new.endswith("\nafter\n") and "stale" not in new
    assert "took **13 min 06 s**" in new and "2 of 3 students" in new and "| claims |" in new
    assert "de-en 74.8 on test (72.8 on dev)" in new
    assert "Its CPU kernels were portable" in new and run["kernels"] == "portable"
    assert (docs / "claims.csv").read_text() == (results / "claims.csv").read_text()
    path = tmp_path / "README.md"
    path.write_text(readme)
    render = ["render", "--docs", str(docs), "--readme", str(path)]
    assert demo_readme.main([*render, "--check"]) == 1 and path.read_text() == readme  # stale: fails, writes nothing
    assert demo_readme.main(render) == 0 and path.read_text() == new
    assert demo_readme.main([*render, "--check"]) == 0


def test_a_curve_with_one_checkpoint_cannot_be_judged(tmp_path: Path) -> None:
    results, logs = fake_run(tmp_path, {"student/a": [3.0]})
    with pytest.raises(demo_readme.DemoReadmeError, match="1 validation checkpoint"):
        demo_readme.collect(results, logs, tmp_path / "docs")


def test_compare_names_the_tables_that_differ_from_the_committed_ones(tmp_path: Path) -> None:
    """The end of `make demo`: a run's tables and claims against docs/demo/'s, byte for byte."""
    results, logs = fake_run(tmp_path, {"student/a": [3.0, 2.0]})
    docs = tmp_path / "docs"
    demo_readme.collect(results, logs, docs)
    assert demo_readme.compare(results, docs) == []
    assert demo_readme.main(["compare", "--results", str(results), "--docs", str(docs)]) == 0
    (results / "table3.md").write_text("| table3 |\n|---|\n| 2 |\n")
    (results / "claims.csv").write_text("claim,verdict\nkd>baseline,undecided\n")
    assert demo_readme.compare(results, docs) == ["table3.md", "claims.csv"]
    assert demo_readme.main(["compare", "--results", str(results), "--docs", str(docs)]) == 1
