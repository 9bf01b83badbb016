"""Tests for scripts/synth.py, the synthetic German-like -> English-like corpus generator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import synth  # noqa: E402
from synth import SynthConfig, generate, write_corpus  # noqa: E402
from synth_parser import mode_translation  # noqa: E402

pytestmark = pytest.mark.unit

SMALL = SynthConfig(train=400, dev=60, test=60)
FINITE = {"vfin", "vsubfin", "aux", "cop", "modal"}


def _files(outdir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(outdir.iterdir())}


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    write_corpus(SMALL, tmp_path / "a")
    write_corpus(SMALL, tmp_path / "b")
    first = _files(tmp_path / "a")
    assert sorted(first) == sorted(f"{s}.{lang}" for s in ("train", "dev", "test") for lang in ("de", "en"))
    assert first == _files(tmp_path / "b")


def test_different_seed_gives_different_corpus(tmp_path: Path) -> None:
    write_corpus(SMALL, tmp_path / "a")
    write_corpus(SynthConfig(seed=2, train=400, dev=60, test=60), tmp_path / "b")
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert all(first[name] != second[name] for name in first)


def test_line_counts_and_format(tmp_path: Path) -> None:
    write_corpus(SMALL, tmp_path)
    for split, size in (("train", 400), ("dev", 60), ("test", 60)):
        for lang in ("de", "en"):
            raw = (tmp_path / f"{split}.{lang}").read_bytes()
            assert b"\r" not in raw and raw.endswith(b"\n")
            lines = raw.decode("utf-8").split("\n")[:-1]
            assert len(lines) == size
            for line in lines:
                tokens = line.split(" ")
                assert line.strip() and "" not in tokens, repr(line)
                assert 2 <= len(tokens) <= 40
                assert tokens[-1] in (".", "?") and line == line.lower()


def test_held_out_sources_are_not_in_train() -> None:
    corpus = generate(SynthConfig(train=3000, dev=200, test=200, lexicon=40))
    train = {src for src, _ in corpus["train"]}
    dev = [src for src, _ in corpus["dev"]]
    test = [src for src, _ in corpus["test"]]
    assert len(set(dev)) == len(dev) and len(set(test)) == len(test)
    assert not train & set(dev) and not train & set(test) and not set(dev) & set(test)


def test_mode_translation_is_exact_without_multimodality_or_noise() -> None:
    cfg = SynthConfig(train=300, dev=50, test=50, paraphrases=1, noise=0.0, max_clauses=3)
    for pairs in generate(cfg).values():
        for src, ref in pairs:
            assert mode_translation(src, cfg) == ref


def test_paraphrases_knob_adds_variants() -> None:
    def weil_translations(paraphrases: int) -> set[str]:
        cfg = SynthConfig(train=600, dev=0, test=0, paraphrases=paraphrases, multimodal_rate=1.0)
        found = set()
        for src, ref in generate(cfg)["train"]:
            if " weil " in f" {src} ":
                found |= {"because", "since", "as"} & set(ref.split())
        return found

    assert weil_translations(1) == {"because"}
    assert {"because", "since"} <= weil_translations(3)


def test_multimodality_grows_target_vocabulary_only() -> None:
    plain = generate(SynthConfig(train=1000, dev=0, test=0, paraphrases=1, noise=0.0))["train"]
    multi = generate(SynthConfig(train=1000, dev=0, test=0, paraphrases=3, noise=0.0))["train"]
    assert [src for src, _ in plain] == [src for src, _ in multi]  # source side unchanged
    types = [len({w for _, trg in pairs for w in trg.split()}) for pairs in (plain, multi)]
    assert types[1] > types[0] * 1.2


def test_noise_touches_only_training_targets() -> None:
    clean = generate(SynthConfig(train=500, dev=50, test=50, noise=0.0))
    noisy = generate(SynthConfig(train=500, dev=50, test=50, noise=0.5))
    assert clean["dev"] == noisy["dev"] and clean["test"] == noisy["test"]
    changed = sum(a != b for a, b in zip(clean["train"], noisy["train"], strict=True))
    assert 150 < changed < 350
    assert all(a[0] == b[0] for a, b in zip(clean["train"], noisy["train"], strict=True))


def _kinds(lex: synth.Lexicon, token: str) -> set[str]:
    return {analysis[0] for analysis in lex.analyse(token)}


def test_german_word_order() -> None:
    cfg = SynthConfig(train=1500, dev=0, test=0)
    lex = synth.build_lexicon(cfg)
    subordinate = main = 0
    for src, _ in generate(cfg)["train"]:
        clauses = [c.split() for c in src[:-2].split(" , ")]
        for k, words in enumerate(clauses):
            if _kinds(lex, words[0]) & {"conj", "dass"}:
                assert _kinds(lex, words[-1]) & FINITE, src  # verb-final subordinate clause
                subordinate += 1
            elif k == 0 and words[0] in ("ich", "du", "wir", "ihr"):
                assert _kinds(lex, words[1]) & FINITE, src  # verb-second main clause
                main += 1
    assert subordinate > 100 and main > 50


def test_perfect_participle_is_clause_final() -> None:
    cfg = SynthConfig(train=800, dev=0, test=0, max_clauses=1)
    lex = synth.build_lexicon(cfg)
    found = 0
    for src, _ in generate(cfg)["train"]:
        words = src.split()
        if words[-1] == "." and words[1] == "hat" and words[0] in ("er", "es"):
            assert "vpart" in _kinds(lex, words[-2]), src
            found += 1
        assert "," not in words  # max_clauses=1: no subordinate clauses
    assert found > 5


def test_mode_translation_bleu_at_defaults() -> None:
    sacrebleu = pytest.importorskip("sacrebleu")
    cfg = SynthConfig(train=0, dev=0, test=500)
    test = generate(cfg)["test"]
    hyps = [mode_translation(src, cfg) for src, _ in test]
    bleu = sacrebleu.corpus_bleu(hyps, [[ref for _, ref in test]], tokenize="none", force=True)
    assert 65 <= bleu.score < 95


def test_mode_translation_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        mode_translation("das ist kein satz aus dem korpus .", SynthConfig())


def test_cli(tmp_path: Path) -> None:
    cmd = [sys.executable, str(REPO / "scripts" / "synth.py"), "--outdir", str(tmp_path),
           "--train", "30", "--dev", "5", "--test", "5", "--multimodal-rate", "0.2",
           "--max-clauses", "3", "--zipf", "2"]
    subprocess.run(cmd, check=True)
    assert (tmp_path / "train.en").read_text(encoding="utf-8").count("\n") == 30
    expected = SynthConfig(train=30, dev=5, test=5, multimodal_rate=0.2, max_clauses=3, zipf=2.0)
    assert (tmp_path / "dev.de").read_text(encoding="utf-8").splitlines() == [
        src for src, _ in generate(expected)["dev"]
    ]
