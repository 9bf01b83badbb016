"""Real text (Tatoeba de-en from ../shared/corpora): Moses tokenization, cleaning, BPE and statistics."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_workflow
from slkd.corpus_check import count_lines

pytestmark = pytest.mark.workflow


def test_tatoeba_through_tokenization_bpe_and_stats(tmp_path: Path, tatoeba: Path) -> None:
    config = {
        "corpus": {
            "source": "local",
            "tokenize": True,
            "lowercase": False,
            "max_len": 30,
            "local": {s: {"src": str(tatoeba / f"{s}.de"), "trg": str(tatoeba / f"{s}.en")}
                      for s in ("train", "dev", "test")},
        },
        "architectures": {"LARGE": {"num-words": 2000}, "SMALL": {"num-words": 300}},
        "grid": {"num-words": [300]},
    }
    run_workflow(tmp_path, "bpe", "stats", config=config)
    text = tmp_path / "data/text/base"
    # dev and test are never cleaned; train loses only pairs over 30 tokens
    assert count_lines(text / "dev.de") == count_lines(tatoeba / "dev.de") == 1000
    kept = count_lines(text / "train.en")
    assert count_lines(text / "train.de") == kept
    assert 15000 < kept <= count_lines(tatoeba / "train.en")
    # Moses tokenization split punctuation and clitics off (sacremoses keeps "I." as an abbreviation)
    dev_en = (text / "dev.en").read_text().splitlines()
    split_final = sum(line.split()[-1] in {".", "?", "!", '"'} for line in dev_en)
    assert split_final >= 0.99 * len(dev_en)
    tokens_en = (text / "train.en").read_text().split()
    assert "'s" in tokens_en and "'t" in tokens_en and "didn't" not in tokens_en
    # BPE 300 segments more than BPE 2000, both keep the line count
    small = (tmp_path / "data/bpe/300/base/train.de").read_text()
    large = (tmp_path / "data/bpe/2000/base/train.de").read_text()
    assert small.count("\n") == large.count("\n") == kept
    assert small.count("@@ ") > large.count("@@ ") > 0
    # statistics: the target side's tokens and types
    rows = [line.split("\t") for line in (tmp_path / "results/stats/base.tsv").read_text().splitlines()]
    assert rows[0] == ["corpus", "lang", "lines", "tokens", "types"]
    en = next(r for r in rows if r[1] == "en")
    assert int(en[2]) == kept
    assert int(en[3]) == len(tokens_en) and int(en[4]) == len(set(tokens_en))


def test_tatoeba_teacher_kd_and_one_student(tmp_path: Path, tatoeba: Path) -> None:
    """Real text through tokenization, BPE, a (small) teacher, its kd corpus and one student, on real Sockeye."""
    import json

    import pytest
    from conftest import REPO, SOCKEYE_PYTHON

    if not SOCKEYE_PYTHON.exists():
        pytest.skip(f"no Sockeye environment at {SOCKEYE_PYTHON}")
    sizes = {"train": 3000, "dev": 200, "test": 200}
    local = {}
    for split, n in sizes.items():
        for lang in ("de", "en"):
            lines = (tatoeba / f"{split}.{lang}").read_text(encoding="utf-8").splitlines()[:n]
            (tmp_path / f"{split}.{lang}").write_text("\n".join(lines) + "\n", encoding="utf-8")
        local[split] = {"src": str(tmp_path / f"{split}.de"), "trg": str(tmp_path / f"{split}.en")}
    config = {"corpus": {"source": "local", "tokenize": True, "local": local}}
    target = "tiny/results/runs/student/SMALL/kd/dropout/ckpt2/trial1.json"
    run_workflow(tmp_path, target, configfiles=(REPO / "config/test-tiny.yaml",), config=config, timeout=900)
    root = tmp_path / "tiny"
    base = (root / "data/text/base/train.en").read_text().splitlines()
    kd = (root / "data/distill/de-en/kd/train.en").read_text().splitlines()
    report = json.loads((root / "data/distill/de-en/kd/report.json").read_text())
    assert report["lines"] == len(base) and len(kd) == report["parts"]["kd"]["pairs"] == len(base) - report[
        "parts"]["kd"]["empty"]
    assert len(kd) > 0.9 * len(base)
    # the teacher's mode has a smaller vocabulary than the real targets (Table 2's point)
    assert len({t for line in kd for t in line.split()}) < len({t for line in base for t in line.split()})
    run = json.loads((root / "results/runs/student/SMALL/kd/dropout/ckpt2/trial1.json").read_text())
    assert run["sentences"] == 200 and 0 <= run["bleu"] <= 100 and "tok:none" in run["bleu_signature"]
    # detokenized BLEU (config/test-tiny.yaml evaluation.columns): the workflow tokenized this corpus, so the
    # reference is its raw test text as obtained; the student's translations Moses-detokenized
    from sacrebleu import corpus_bleu
    from slkd import design, layout

    paths, student = layout.paths("tiny"), design.Student("SMALL", "kd", True, 2, 1).wildcards
    reference = (tmp_path / layout.fill(paths.detok_text, corpus="base", split="test", lang="en")).read_text()
    assert reference == (tmp_path / "test.en").read_text()
    hyps = (tmp_path / layout.fill(paths.student_test_detok, **student)).read_text().splitlines()
    assert run["bleu_detok"] == round(corpus_bleu(hyps, [reference.splitlines()]).score, 2)
    teacher = json.loads((root / "results/teachers/de-en.json").read_text())
    assert teacher["sentences"] == 200 and teacher["model"] == "teacher/de-en"
