"""The tiny configurations' runs against their committed fingerprints (tools/fingerprint.py): the sha256 of
every distilled corpus and every number of their tables and claims.

tests/test_portable_kernels.py proves on an emulated processor that the portable kernels compute the same bits;
these fingerprints, committed from the machine that wrote them (docs/portable-kernels.md names it), catch a drift of the
whole pipeline on the machine that runs the suite: another processor, another library build, a change of the
code that moves a number. A deliberate change of the numbers rewrites them:

    SLKD_UPDATE_FINGERPRINTS=1 .venv/bin/python -m pytest tests/test_fingerprint.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import fingerprint
import pytest
from conftest import REPO

FIXTURES = REPO / "tests" / "fixtures" / "fingerprint"


def _check(outdir: Path, name: str) -> dict:
    path = FIXTURES / f"{name}.json"
    actual = fingerprint.fingerprint(outdir)
    if os.environ.get("SLKD_UPDATE_FINGERPRINTS"):
        path.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        pytest.skip(f"wrote {path}")
    expected = json.loads(path.read_text(encoding="utf-8"))
    # other tests build more parts in the same session run (filtered, seqinterp): only the committed ones count
    assert fingerprint.differences(expected, actual, extra_files=False) == []
    return actual


@pytest.mark.workflow
def test_the_tiny_run_has_its_committed_fingerprint(tiny_run: Path) -> None:
    actual = _check(tiny_run, "tiny")
    parts = {Path(p).parent.name for p in actual["distilled"]}
    assert {"kd", "best2", "bt"} <= parts
    table3 = (tiny_run / "results/table3.csv").read_text().splitlines()
    assert len(actual["tables"]["table3"]) == len(table3) - 1 == 15  # a row per dataset and column (5 x 3)
    assert {line["claim"] for line in actual["tables"]["claims"]} >= {"kd>baseline", "base+kd>=kd"}


@pytest.mark.workflow
def test_the_tiny_transformer_run_has_its_committed_fingerprint(tiny_transformer_run: Path) -> None:
    actual = _check(tiny_transformer_run, "tiny-transformer")
    assert {Path(p).parent.name for p in actual["distilled"]} >= {"kd", "best2", "bt"}
    assert len(actual["tables"]["table3"]) == 10  # 5 datasets x 2 columns


@pytest.mark.unit
def test_a_drift_is_named_by_file_and_row(tmp_path: Path) -> None:
    """The check can fail: a changed digest, a changed number, a missing table each give a line naming it."""
    (tmp_path / "data/distill/de-en/kd").mkdir(parents=True)
    (tmp_path / "data/distill/de-en/kd/train.en").write_text("a b\n")
    (tmp_path / "data/distill/de-en/kd/report.json").write_text("{}")  # reports name folders and times: left out
    (tmp_path / "data/distill/de-en/shards").mkdir()
    (tmp_path / "data/distill/de-en/shards/0.json").write_text("{}")  # the teacher's n-best lists: kept
    (tmp_path / "data/distill/de-en/shards/0.json.log").write_text("took 3 s")  # Sockeye's log: left out
    (tmp_path / "results").mkdir()
    (tmp_path / "results/table3.csv").write_text("dataset,bleu\nbaseline,12.34\nkd,13.00\n")
    expected = fingerprint.fingerprint(tmp_path)
    assert list(expected["distilled"]) == ["data/distill/de-en/kd/train.en", "data/distill/de-en/shards/0.json"]
    assert fingerprint.differences(expected, fingerprint.fingerprint(tmp_path)) == []
    (tmp_path / "data/distill/de-en/kd/train.en").write_text("a c\n")
    (tmp_path / "results/table3.csv").write_text("dataset,bleu\nbaseline,12.34\nkd,13.01\n")
    (tmp_path / "results/claims.csv").write_text("claim\nx\n")
    lines = fingerprint.differences(expected, fingerprint.fingerprint(tmp_path))
    assert lines[0].startswith("data/distill/de-en/kd/train.en: sha256 ")
    assert lines[1:] == ["results/claims.csv: not expected",
                         "results/table3.csv:3 (kd): bleu '13.01' (expected '13.00')"]
    (tmp_path / "data/distill/de-en/kd-filtered").mkdir()
    (tmp_path / "data/distill/de-en/kd-filtered/train.en").write_text("a\n")  # a part the expected run lacks
    lines = fingerprint.differences(expected, fingerprint.fingerprint(tmp_path))
    assert "data/distill/de-en/kd-filtered/train.en: not expected" in lines
    assert not any("kd-filtered" in line for line in fingerprint.differences(
        expected, fingerprint.fingerprint(tmp_path), extra_files=False))
