"""The gates before GPU time is spent, each from a fresh workspace: every split checked before any training
(whatever keep-going says), a teacher's floor on the dev set before it distils, and a training that is not
learning stopped early."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import SOCKEYE_PYTHON, TINY, run_workflow
from slkd import model_lock, scoring
from test_corpus import local_config, write

pytestmark = [
    pytest.mark.workflow,
    pytest.mark.skipif(not SOCKEYE_PYTHON.exists(), reason=f"no Sockeye environment at {SOCKEYE_PYTHON}"),
]

KD_STUDENT = "tiny/models/student/SMALL/kd/dropout/ckpt2/trial1.done.json"
BASELINE_STUDENT = "tiny/models/student/SMALL/baseline/dropout/ckpt8/trial1"


def test_a_bad_test_split_stops_every_training_even_with_keep_going(tmp_path: Path) -> None:
    config = local_config(tmp_path)
    write(tmp_path / "corpus/test.de", b"")
    proc = run_workflow(tmp_path, "--keep-going", "teachers", config=config, check=False)
    assert proc.returncode != 0
    assert "corpus/test.de: file is empty" in proc.stdout + proc.stderr
    # train and dev passed and were encoded, but no training started: it waits for every split's check
    assert (tmp_path / "data/bpe/30/base/train.de").is_file()
    assert not (tmp_path / "data/text/base/checked.json").exists()
    assert not (tmp_path / "models").exists()


def test_a_weak_teacher_stops_before_distilling_on_its_dev_bleu(tmp_path: Path) -> None:
    proc = run_workflow(tmp_path, KD_STUDENT, configfiles=(TINY,),
                        config={"teacher": {"min_bleu": 99.0, "max_epochs": 1}}, check=False)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    tiny = tmp_path / "tiny"
    dev_hyp = tiny / "data/translations/teacher/de-en/dev.bpe"
    assert dev_hyp.is_file() and (tiny / "data/translations/teacher/de-en/test.bpe").is_file()
    # the floor is decided on dev (100 sentences), the test BLEU only reported beside it
    assert "on tiny/data/text/base/dev.en (100 sentences), below the floor of 99.0 (teacher.min_bleu)" in out
    assert "Its test BLEU, reported, not used:" in out
    assert not (tiny / "results/teachers/de-en.json").exists()
    assert not list((tiny / "data").glob("distill/*/shards/*.json"))  # nothing distilled
    assert not (tiny / "models/student").exists()  # no student trained
    assert (tiny / "models/teacher/de-en/params.best").is_file()  # nothing finished is lost


def test_a_teacher_above_its_floor_records_dev_and_test_bleu(tiny_run: Path) -> None:
    for direction, target in (("de-en", "en"), ("en-de", "de")):
        score = json.loads((tiny_run / f"results/teachers/{direction}.json").read_text())
        hyps = tiny_run / f"data/translations/teacher/{direction}"
        for split, bleu in (("dev", score["floor"]["bleu"]), ("test", score["bleu"])):
            ref = tiny_run / f"data/text/base/{split}.{target}"
            assert bleu == scoring.score(scoring.read_hypotheses(hyps / f"{split}.bpe"),
                                          scoring.read_references(ref), "none")["bleu"]
        assert score["floor"] == {"bleu": score["floor"]["bleu"], "min_bleu": 0.5, "sentences": 100,
                                  "ref": f"tiny/data/text/base/dev.{target}"}
        assert score["floor"]["bleu"] >= 0.5  # the tiny teachers clear a floor above 0


def test_a_training_that_does_not_learn_stops_early(tmp_path: Path) -> None:
    # a guard no training can pass: after 2 checkpoints, perplexity below 1 % of the first one's
    proc = run_workflow(tmp_path, f"{BASELINE_STUDENT}.done.json", configfiles=(TINY,),
                        config={"not_learning": {"checkpoints": 2, "share": 0.01}}, check=False)
    assert proc.returncode != 0
    model = tmp_path / BASELINE_STUDENT
    rows = (model / "metrics").read_text().splitlines()
    assert 2 <= len(rows) < 8  # stopped at its second checkpoint (or the one in flight), not at its budget of 8
    log = (tmp_path / "tiny/logs/train_student/SMALL.baseline.dropout.8.1.log").read_text()
    # the guard polls once a second: a tiny model may write a third checkpoint before the poll that stops it
    found = re.search(r"not learning: its best validation perplexity after (\d+) checkpoints is", log)
    assert found and 2 <= int(found.group(1)) <= len(rows), log
    assert "(not_learning: below 1% within 2 checkpoints). Try another seed" in log
    assert not Path(f"{model}.done.json").exists()
    events = model_lock.history(model)
    assert [e["event"] for e in events] == ["start", "end"] and events[1]["detail"].startswith("NotLearning")
