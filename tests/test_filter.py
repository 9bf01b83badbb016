"""Cross-entropy filtering of distilled data (config `parts`: a part with `filter`, `drop`, `normalize`): the
teacher of the other direction scores each pair of a part, and the filtered part drops the worst share."""

from __future__ import annotations

import copy
import json
import math
import sys
from pathlib import Path

import pytest
from conftest import REPO, TINY, TINY_TRANSFORMER, load_config, planned_jobs, run_workflow

sys.path.insert(0, str(REPO / "scripts"))
import distill  # noqa: E402
from slkd import checks, settings  # noqa: E402
from slkd.corpus_check import CorpusError  # noqa: E402
from slkd.cost import plan as cost_plan  # noqa: E402

FILTERS = {  # three filtered parts: two normalisations of kd (scored by en-de), and bt (scored by de-en)
    "parts": {
        "kd-filtered": {"filter": "kd", "drop": 0.1, "normalize": "length"},
        "kd-filtered-sent": {"filter": "kd", "drop": 0.1, "normalize": "none"},
        "bt-filtered": {"filter": "bt", "drop": 0.2, "normalize": "length"},
    },
    "datasets": {"base+kd-filtered": ["base", "kd-filtered"]},
}


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


# ---- The filter on files ---------------------------------------------------------------------------------
def write(path: Path, rows: list[str]) -> Path:
    path.write_text("".join(row + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.mark.unit
def test_the_worst_share_is_dropped_and_the_rest_kept_in_order(tmp_path: Path) -> None:
    src = write(tmp_path / "p.de", [f"satz {i}" for i in range(10)])
    trg = write(tmp_path / "p.en", [f"sentence {i}" for i in range(10)])
    costs = [1.0, 5.0, 2.0, 9.0, 5.0, 0.5, 3.0, 7.0, 4.0, 6.0]
    scores = write(tmp_path / "scores", [str(c) for c in costs])
    report = distill.filter_part(src, trg, scores, 0.35, tmp_path / "out", ("de", "en"), "kd", "length")
    # floor(0.35 x 10) = 3 pairs: the costs 9, 7 and 6 (lines 4, 8, 10)
    assert report["dropped_lines"] == [4, 8, 10]
    assert (report["pairs"], report["dropped"], report["kept"], report["threshold"]) == (10, 3, 7, 5.0)
    kept = [i for i in range(10) if i + 1 not in (4, 8, 10)]
    assert lines(tmp_path / "out/train.de") == [f"satz {i}" for i in kept]
    assert lines(tmp_path / "out/train.en") == [f"sentence {i}" for i in kept]
    dist = report["scores"]
    assert (dist["count"], dist["min"], dist["max"], dist["mean"]) == (10, 0.5, 9.0, pytest.approx(4.25))
    assert sum(dist["histogram"]["counts"]) == 10 and report["scores_dropped"]["min"] == 6.0
    assert report["scores_kept"]["max"] == 5.0 and report["scores_kept"]["count"] == 7


@pytest.mark.unit
def test_on_equal_costs_the_later_line_is_dropped_first(tmp_path: Path) -> None:
    assert distill.worst([2.0, 8.0, 8.0, 1.0, 8.0], 0.4) == {2, 4}
    assert distill.worst([3.0] * 7, 0.3) == {5, 6}  # floor(2.1) = 2
    assert distill.worst([1.0, 2.0], 0.4) == set()  # floor(0.8) = 0: nothing to drop


@pytest.mark.unit
@pytest.mark.parametrize(
    ("scores", "error"),
    [
        (["1.0", "x", "2.0"], "scores:2: not a score: 'x'"),
        (["1.0", "nan", "2.0"], "scores:2: not a score: 'nan'"),
        (["1.0", "2.0"], "scores has 2 scores but the part has 3 pairs"),
    ],
)
def test_a_bad_scores_file_is_named_with_its_line(tmp_path: Path, scores: list[str], error: str) -> None:
    src = write(tmp_path / "p.de", ["a", "b", "c"])
    trg = write(tmp_path / "p.en", ["a", "b", "c"])
    with pytest.raises(CorpusError) as err:
        distill.filter_part(src, trg, write(tmp_path / "scores", scores), 0.5, tmp_path / "out", ("de", "en"),
                            "kd", "none")
    assert str(err.value) == f"{tmp_path}/{error}"
    assert not (tmp_path / "out").exists()  # nothing written


# ---- The configuration -----------------------------------------------------------------------------------
@pytest.mark.unit
@pytest.mark.parametrize(
    ("part", "error"),
    [
        ({"filter": "nope", "drop": 0.1}, "parts.x.filter: 'nope' is not a part that a teacher writes"
         " (those: kd, best2, seqinterp, bt; config `parts`)"),
        ({"filter": "kd-filtered", "drop": 0.1}, "parts.x.filter: 'kd-filtered' is not a part that a teacher"
         " writes (those: kd, best2, seqinterp, bt; config `parts`)"),
    ],
)
def test_a_filter_of_no_teachers_part_names_the_key(part: dict, error: str) -> None:
    config = settings.merge_config(copy.deepcopy(load_config()), {"parts": {"x": part}})
    with pytest.raises(settings.ConfigError) as err:
        checks.check_config(config)
    assert str(err.value) == error


@pytest.mark.unit
@pytest.mark.parametrize(
    ("part", "error"),
    [
        ({"filter": "kd", "drop": 1.0}, "parts.x.drop: 1.0 is greater than or equal to the maximum of 1"),
        ({"filter": "kd", "drop": 0.1, "normalize": "tokens"},
         "parts.x.normalize: 'tokens' is not one of ['length', 'none']"),
    ],
)
def test_a_bad_share_or_normalisation_names_the_key(part: dict, error: str) -> None:
    import yaml

    schema = yaml.safe_load((REPO / "schemas/config.schema.yaml").read_text())
    config = settings.merge_config(copy.deepcopy(load_config()), {"parts": {"x": part}})
    assert settings.schema_error(config, schema) == error


@pytest.mark.plan
def test_the_paper_plans_no_filter_and_a_filtered_dataset_plans_one_scoring(tmp_path: Path) -> None:
    """config.yaml's example kd-filtered is in no table: no scoring. Two filtered parts of kd with the same
    normalisation share one scoring job; the scorer is the en-de teacher, which then trains."""
    paper = planned_jobs(run_workflow(tmp_path / "paper", "-n", "table1", "table2", "table3", "figures"))
    assert not {"bpe_part", "score_part", "filter_part"} & set(paper)
    assert paper["train_teacher"] == 2  # bt needs the en-de teacher anyway
    extra = {
        "parts": {"kd-a": {"filter": "kd", "drop": 0.05}, "kd-b": {"filter": "kd", "drop": 0.2}},
        "datasets": {"base+kd-a": ["base", "kd-a"], "kd-b": ["kd-b"]},
        "tables": {"table1": {"datasets": ["baseline", "base+kd-a", "kd-b"]}},
    }
    plan = planned_jobs(run_workflow(tmp_path / "filtered", "-n", "table1", configfiles=(TINY,), config=extra))
    assert plan["score_part"] == 1 and plan["bpe_part"] == 2 and plan["filter_part"] == 2
    assert plan["train_teacher"] == 2 and plan["distill"] == 2  # de-en distils (2 shards), en-de only scores
    assert plan["gather_part"] == 1  # kd, which both filter


    config = settings.merge_config(load_config(TINY), extra)
    corpus = cost_plan.corpus_sizes(config, tmp_path)
    jobs = [job for job in cost_plan.jobs(config, corpus) if job.rule == "score_part"]
    assert [(job.name, job.sentences) for job in jobs] == [("kd.length", corpus.train_sentences)]


# ---- Through Sockeye ----------------------------------------------------------------------------------
def check_filtered(outdir: Path, direction: str, name: str, spec: dict) -> list[float]:
    """The filtered part equals its source part less exactly the worst floor(drop x pairs) pairs of its
    scores file, line by line; the report says so; the scores file holds one score per pair. The scores."""
    folder = outdir / "data/distill" / direction
    source = folder / spec["filter"]
    normalize = spec.get("normalize", "length")
    costs = [float(x) for x in lines(source / f"scores.{normalize}.txt")]
    pairs = list(zip(lines(source / "train.de"), lines(source / "train.en"), strict=True))
    assert len(costs) == len(pairs) > 0
    count = math.floor(spec["drop"] * len(pairs))
    ranked = sorted(range(len(pairs)), key=lambda i: (-costs[i], -i))
    dropped = set(ranked[:count])
    assert all(costs[i] >= costs[j] for i in dropped for j in range(len(pairs)) if j not in dropped)
    kept = [pair for i, pair in enumerate(pairs) if i not in dropped]
    assert list(zip(lines(folder / name / "train.de"), lines(folder / name / "train.en"), strict=True)) == kept
    report = json.loads((folder / name / "report.json").read_text())
    assert report["dropped_lines"] == sorted(i + 1 for i in dropped)
    assert (report["filter"], report["normalize"], report["pairs"], report["dropped"], report["kept"]) == (
        spec["filter"], normalize, len(pairs), count, len(kept))
    assert report["scores"]["count"] == len(pairs) and report["scores"]["max"] == max(costs)
    return costs


@pytest.mark.workflow
def test_filtered_parts_drop_the_worst_scored_pairs(tiny_run: Path, tmp_path: Path) -> None:
    """kd (de-en) scored by the en-de teacher per token and per sentence, bt (en-de) by the de-en teacher; the
    per-sentence cost is the per-token cost times the real sentence's length in BPE tokens; a dataset
    of a filtered part is its concatenation like any other."""
    targets = [f"tiny/data/distill/{d}/{p}/report.json" for d, p in
               (("de-en", "kd-filtered"), ("de-en", "kd-filtered-sent"), ("en-de", "bt-filtered"))]
    run_workflow(tiny_run.parent, *targets, "tiny/data/text/base+kd-filtered/train.en", configfiles=(TINY,),
                 config=FILTERS)
    per_token = check_filtered(tiny_run, "de-en", "kd-filtered", FILTERS["parts"]["kd-filtered"])
    per_sentence = check_filtered(tiny_run, "de-en", "kd-filtered-sent", FILTERS["parts"]["kd-filtered-sent"])
    check_filtered(tiny_run, "en-de", "bt-filtered", FILTERS["parts"]["bt-filtered"])
    # the scorer read the hypothesis (English) and scored the real German, in the teachers' BPE
    log = (tiny_run / "logs/score_part/de-en.kd.length.log").read_text()
    assert "--model tiny/models/teacher/en-de" in log and "--source tiny/data/distill/de-en/kd/bpe.en" in log
    assert "--target tiny/data/distill/de-en/kd/bpe.de" in log and "--length-penalty-alpha 1.0" in log
    log = (tiny_run / "logs/score_part/en-de.bt.length.log").read_text()
    assert "--model tiny/models/teacher/de-en" in log and "--target tiny/data/distill/en-de/bt/bpe.en" in log
    from bpe import apply

    codes = tiny_run / f"data/bpe/codes.de.{load_config(TINY)['architectures']['LARGE']['num-words']}"
    apply(codes, tiny_run / "data/distill/de-en/kd/train.de", tmp_path / "kd.bpe.de")
    for token, sentence, line in zip(per_token, per_sentence, lines(tmp_path / "kd.bpe.de"), strict=True):
        length = len(line.split())  # Sockeye 1.18 divides by the target's length without </s>
        assert sentence == pytest.approx(token * length, abs=0.0005 * length + 0.0005)
    dataset = lines(tiny_run / "data/text/base+kd-filtered/train.en")
    assert dataset == lines(tiny_run / "data/text/base/train.en") + lines(
        tiny_run / "data/distill/de-en/kd-filtered/train.en")


@pytest.mark.workflow
def test_a_transformer_teacher_scores_through_sockeye3(tiny_transformer_run: Path, tmp_path: Path) -> None:
    """Sockeye 3's sockeye.score, per token and per sentence: the per-sentence cost is the per-token cost times
    the real sentence's length in BPE tokens plus </s> (Sockeye 3 counts it; Sockeye 1.18 does not)."""
    specs = {"kd-f": {"filter": "kd", "drop": 0.1, "normalize": "length"},
             "kd-g": {"filter": "kd", "drop": 0.1, "normalize": "none"}}
    run_workflow(tiny_transformer_run.parent, *(f"tiny-transformer/data/distill/de-en/{p}/report.json" for p in specs),
                 configfiles=TINY_TRANSFORMER, config={"parts": specs})
    per_token, per_sentence = (check_filtered(tiny_transformer_run, "de-en", p, s) for p, s in specs.items())
    log = (tiny_transformer_run / "logs/score_part/de-en.kd.length.log").read_text()
    assert "scripts/sockeye3_entry.py score --model tiny-transformer/models/teacher/en-de" in log
    from bpe import apply

    config = load_config(*TINY_TRANSFORMER)
    size = config["architectures"][config["teacher"]["architecture"]]["num-words"]
    apply(tiny_transformer_run / f"data/bpe/codes.de.{size}", tiny_transformer_run / "data/distill/de-en/kd/train.de",
          tmp_path / "kd.bpe.de")
    for token, sentence, line in zip(per_token, per_sentence, lines(tmp_path / "kd.bpe.de"), strict=True):
        length = len(line.split()) + 1
        assert sentence == pytest.approx(token * length, abs=0.0005 * length + 0.0005)
