"""The number of parameters a run file records, read from Sockeye's training log."""

from __future__ import annotations

from pathlib import Path

import pytest
from evaluate import evaluate
from slkd.formats import read_parameters

pytestmark = pytest.mark.unit

HEAD = "[2026-11-24:20:39:15:INFO:sockeye.training:log_parameters] "
LOG = (
    f"{HEAD}Model parameters: decoder_rnn_hidden_bias: (32,), source_embed_weight: (64, 16)\n"
    f"{HEAD}Fixed model parameters: \n"
    f"{HEAD}Fixing 0 parameters (0.00%)\n"
    f"{HEAD}Learning 23200 parameters (100.00%)\n"
    f"{HEAD}Total # of parameters: 23200\n"
    "[2026-11-24:20:39:19:INFO:sockeye.training:fit] Maximum # of updates (40) reached.\n"
)


def test_reads_the_total_from_a_sockeye_log(tmp_path: Path) -> None:
    (tmp_path / "log").write_text(LOG)
    assert read_parameters(tmp_path) == 23200
    assert read_parameters(str(tmp_path)) == 23200


def test_last_total_wins_and_separators_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "log").write_text(LOG + f"{HEAD}Total # of parameters: 1,234,567\nresumed, nothing more\n")
    assert read_parameters(tmp_path) == 1234567


def test_missing_log_or_line_gives_none(tmp_path: Path) -> None:
    assert read_parameters(tmp_path) is None
    (tmp_path / "log").write_text(LOG.replace("Total # of parameters: 23200", "Saved params"))
    assert read_parameters(tmp_path) is None


def test_evaluate_records_parameters(tmp_path: Path) -> None:
    (tmp_path / "metrics").write_text("1\tperplexity-train=40.5\tperplexity-val=30.25\n")
    (tmp_path / "hyp").write_text("the c@@ at .\n")
    (tmp_path / "ref").write_text("the cat .\n")
    assert evaluate(tmp_path / "hyp", tmp_path / "ref", tmp_path, "none")["parameters"] is None
    (tmp_path / "log").write_text(LOG)
    assert evaluate(tmp_path / "hyp", tmp_path / "ref", tmp_path, "none")["parameters"] == 23200
