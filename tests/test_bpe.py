"""BPE: codes are deterministic, segmentation respects the size, and de-BPE is the exact inverse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import bpe
import pytest
from conftest import REPO
from slkd import text

pytestmark = pytest.mark.unit

TEXT = [
    "die kleinen hunde laufen schnell nach hause .",
    "der kleine hund läuft nicht , weil er müde ist .",
    "wir verstehen nicht , dass die hunde schlafen wollen .",
    "ein unverständliches wort : donaudampfschifffahrt .",
] * 5


def learn_in_subprocess(train: Path, codes: Path, size: int, hashseed: str) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    subprocess.run(
        [sys.executable, str(REPO / "scripts/bpe.py"), "learn", "--size", str(size), "--input", str(train),
         "--codes", str(codes)],
        check=True, env=env, capture_output=True,
    )
    return codes.read_bytes()


def test_codes_are_byte_identical_across_processes(tmp_path: Path) -> None:
    train = tmp_path / "train.de"
    train.write_text("\n".join(TEXT) + "\n")
    first = learn_in_subprocess(train, tmp_path / "a.codes", 50, "1")
    second = learn_in_subprocess(train, tmp_path / "b.codes", 50, "2")
    assert first == second
    merges = [line for line in first.decode().splitlines() if not line.startswith("#version")]
    assert 10 < len(merges) <= 50


def test_apply_then_debpe_is_identity(tmp_path: Path) -> None:
    train = tmp_path / "train.de"
    train.write_text("\n".join(TEXT) + "\n")
    bpe.learn(train, tmp_path / "codes", 30)
    unseen = tmp_path / "unseen.de"
    unseen.write_text("schifffahrt der hunde ist unverständlich .\nx\n")
    for source in (train, unseen):
        encoded = tmp_path / (source.name + ".bpe")
        bpe.apply(tmp_path / "codes", source, encoded)
        assert "@@ " in encoded.read_text()
        decoded = tmp_path / (source.name + ".debpe")
        bpe.debpe(encoded, decoded)
        assert decoded.read_text() == source.read_text()


def test_fewer_merges_give_more_subwords(tmp_path: Path) -> None:
    train = tmp_path / "train.de"
    train.write_text("\n".join(TEXT) + "\n")
    lengths = {}
    for size in (5, 100):
        bpe.learn(train, tmp_path / f"codes{size}", size)
        bpe.apply(tmp_path / f"codes{size}", train, tmp_path / f"out{size}")
        lengths[size] = len((tmp_path / f"out{size}").read_text().split())
    assert lengths[5] > lengths[100] >= len(" ".join(TEXT).split())


def test_debpe_line() -> None:
    assert text.debpe_line("ver@@ steh@@ en wir ?") == "verstehen wir ?"
    assert text.debpe_line("ende@@") == "ende"
