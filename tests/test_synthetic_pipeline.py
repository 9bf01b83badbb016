"""The embedded default through the workflow: same seed → byte-identical corpus and BPE codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO, run_workflow

pytestmark = pytest.mark.workflow

SMALL = {"corpus": {"synthetic": {"train": 2000, "dev": 200, "test": 200}}}


def artifacts(root: Path) -> dict[str, bytes]:
    files = sorted((root / "demo/data/raw/synthetic").iterdir()) + sorted((root / "demo/data/bpe").glob("codes.*"))
    return {f.relative_to(root).as_posix(): f.read_bytes() for f in files}


def test_same_seed_gives_identical_corpus_and_codes(tmp_path: Path) -> None:
    demo = (REPO / "config/demo.yaml",)
    run_workflow(tmp_path / "a", "bpe", "stats", configfiles=demo, config=SMALL)
    run_workflow(tmp_path / "b", "bpe", "stats", configfiles=demo, config=SMALL)
    other = {"corpus": {"synthetic": {**SMALL["corpus"]["synthetic"], "seed": 2}}}
    run_workflow(tmp_path / "c", "bpe", configfiles=demo, config=other)
    a, b, c = artifacts(tmp_path / "a"), artifacts(tmp_path / "b"), artifacts(tmp_path / "c")
    assert len(a) == 6 + 4  # {train,dev,test}.{de,en} and codes.{de,en}.{160,1000}
    assert a == b
    assert a.keys() == c.keys() and a != c
    lines = (tmp_path / "a/demo/data/bpe/160/base/train.de").read_text().splitlines()
    assert len(lines) == 2000 and all(lines)
    stats = (tmp_path / "a/demo/results/stats/base.tsv").read_text().splitlines()
    assert [row.split("\t")[:3] for row in stats[1:]] == [["base", "de", "2000"], ["base", "en", "2000"]]
