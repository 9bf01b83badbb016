"""scripts/slkd/verdict.py on translations with known answers: identical systems, systems that differ only by chance,
large shifts either way, non-inferiority within and beyond the margin, differences of gains, the pooling of
trials; and, with one trial, agreement with sacrebleu's own paired bootstrap (PairedTest)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sacrebleu.significance import PairedTest, _compute_p_value
from slkd import verdict as vd
from slkd.scoring import metric

pytestmark = pytest.mark.unit

WORDS = [f"w{i}" for i in range(200)]
BLEU = metric("bleu")  # the paper's tokenized BLEU, as the run files score it


def references(n: int, seed: int = 1) -> list[str]:
    r = random.Random(seed)
    return [" ".join(r.choices(WORDS, k=r.randint(8, 20))) for _ in range(n)]


def garble(sentence: str, seed: str) -> str:
    """About half the words replaced at random (each sentence its own seed: garbling one leaves the others)."""
    r = random.Random(seed)
    return " ".join(w if r.random() < 0.5 else r.choice(WORDS) for w in sentence.split())


def system(refs: list[str], wrong: set[int] | range, seed: int) -> list[str]:
    """The references themselves but for the sentences `wrong`, garbled."""
    return [garble(s, f"{seed}.{i}") if i in wrong else s for i, s in enumerate(refs)]


def stats(hyps: list[str], refs: list[str], scorer: object = BLEU) -> np.ndarray:
    return vd.sentence_stats(scorer, hyps, refs)


def score(hyps: list[str], refs: list[str], scorer: object = BLEU) -> float:
    """sacrebleu's corpus score, by its public API."""
    return scorer.corpus_score(hyps, [refs]).score


REFS = references(400)
POOR = system(REFS, range(400), 2)  # every sentence garbled: 18.03 BLEU


def test_sentence_statistics_sum_to_the_corpus_score() -> None:
    assert vd.corpus_score(BLEU, stats(POOR, REFS).sum(axis=0)) == pytest.approx(score(POOR, REFS), abs=1e-9)
    assert score(POOR, REFS) == pytest.approx(18.03, abs=0.01)
    chrf = metric("chrf")
    assert vd.corpus_score(chrf, stats(POOR, REFS, chrf).sum(axis=0)) == pytest.approx(score(POOR, REFS, chrf),
                                                                                      abs=1e-9)
    with pytest.raises(ValueError, match="399 hypotheses but 400 references"):
        stats(POOR[1:], REFS)


def test_resamples_are_sacrebleus_index_draw_counted() -> None:
    counts = vd.resample_counts(50, 200, 7)
    indices = np.random.default_rng(7).choice(50, size=(200, 50), replace=True)
    assert counts.shape == (200, 50) and (counts.sum(axis=1) == 50).all()
    assert all((np.bincount(row, minlength=50) == counts[i]).all() for i, row in enumerate(indices))


def test_the_percentile_interval_is_sacrebleus_order_statistics() -> None:
    values = np.random.default_rng(0).permutation(1000).astype(float)
    assert vd.percentile_interval(values, 0.95) == (25.0, 974.0)  # sacrebleu: n // 40 from either end
    assert vd.percentile_interval(values, 0.9) == (50.0, 949.0)
    assert vd.percentile_interval(values, 0.99) == (5.0, 994.0)
    with pytest.raises(ValueError):
        vd.percentile_interval(values, 1.0)


def test_identical_systems_have_no_effect_and_an_empty_interval() -> None:
    estimate = vd.paired_effect(BLEU, [(stats(POOR, REFS), stats(POOR, REFS))])
    assert (estimate.effect, estimate.low, estimate.high, estimate.trials, estimate.sentences) == (0, 0, 0, 1, 400)
    assert vd.decide(estimate) == vd.UNDECIDED  # not better: undecided, never supported
    assert vd.decide(estimate, margin=0.5) == vd.SUPPORTED  # but within any margin: not worse


def test_systems_that_differ_only_by_chance_are_undecided() -> None:
    # two halves with the same references: A right on the first, garbled on the second, B the other way round;
    # the same corpus statistics (effect exactly 0) but different sentences, so the resamples scatter around 0
    half = references(200, 5)
    garbled = [garble(s, f"7.{i}") for i, s in enumerate(half)]
    refs = half + half
    estimate = vd.paired_effect(BLEU, [(stats(half + garbled, refs), stats(garbled + half, refs))])
    assert estimate.effect == 0
    assert estimate.low == pytest.approx(-8.12, abs=0.01) and estimate.high == pytest.approx(9.23, abs=0.01)
    assert vd.decide(estimate) == vd.UNDECIDED and vd.decide(estimate, margin=0.5) == vd.UNDECIDED


def test_a_large_shift_is_supported_and_its_reverse_contradicted() -> None:
    better = vd.paired_effect(BLEU, [(stats(REFS, REFS), stats(POOR, REFS))])  # the references themselves: 100
    assert better.effect == pytest.approx(100 - score(POOR, REFS), abs=1e-9)
    assert better.low == pytest.approx(80.57, abs=0.01) and better.high == pytest.approx(83.41, abs=0.01)
    assert better.low < better.effect < better.high and vd.decide(better) == vd.SUPPORTED
    worse = vd.paired_effect(BLEU, [(stats(POOR, REFS), stats(REFS, REFS))])
    assert (worse.effect, worse.low, worse.high) == pytest.approx((-better.effect, -better.high, -better.low),
                                                                  abs=1e-9)
    assert vd.decide(worse) == vd.CONTRADICTED and vd.decide(worse, margin=0.5) == vd.CONTRADICTED


def test_non_inferiority_within_the_margin_is_supported_beyond_it_contradicted() -> None:
    refs = references(1000, 3)
    reference = system(refs, range(0, 1000, 2), 3)  # every other sentence garbled
    slightly_worse = system(refs, {*range(0, 1000, 2), 1}, 3)  # one more sentence garbled
    estimate = vd.paired_effect(BLEU, [(stats(slightly_worse, refs), stats(reference, refs))])
    assert estimate.effect == pytest.approx(score(slightly_worse, refs) - score(reference, refs), abs=1e-9)
    assert estimate.effect == pytest.approx(-0.09, abs=0.01)
    assert estimate.low == pytest.approx(-0.29, abs=0.01) and estimate.high == 0  # resamples without sentence 1
    assert vd.decide(estimate, margin=0.5) == vd.SUPPORTED
    assert vd.decide(estimate) == vd.UNDECIDED  # not shown to be better, nor worse
    much_worse = system(refs, {*range(0, 1000, 2), *range(1, 1000, 4)}, 3)  # a quarter more garbled
    estimate = vd.paired_effect(BLEU, [(stats(much_worse, refs), stats(reference, refs))])
    assert estimate.effect == pytest.approx(-20.36, abs=0.01)
    assert estimate.high == pytest.approx(-18.25, abs=0.01)
    assert vd.decide(estimate, margin=0.5) == vd.CONTRADICTED


def test_a_difference_of_gains() -> None:
    perfect, poor, other = stats(REFS, REFS), stats(POOR, REFS), stats(system(REFS, range(400), 9), REFS)
    paired = vd.paired_effect(BLEU, [(perfect, poor)])
    # without dropout X gains 100 − 18.03 over base; with dropout none (X and base translate alike)
    larger = vd.gain_difference(BLEU, [(perfect, poor, other, other)])
    assert (larger.effect, larger.low, larger.high) == pytest.approx((paired.effect, paired.low, paired.high),
                                                                     abs=1e-9)
    assert vd.decide(larger) == vd.SUPPORTED
    smaller = vd.gain_difference(BLEU, [(other, other, perfect, poor)])
    assert (smaller.effect, smaller.low, smaller.high) == pytest.approx((-paired.effect, -paired.high, -paired.low),
                                                                        abs=1e-9)
    assert vd.decide(smaller) == vd.CONTRADICTED
    same = vd.gain_difference(BLEU, [(perfect, poor, perfect, poor)])
    assert (same.effect, same.low, same.high) == (0, 0, 0) and vd.decide(same) == vd.UNDECIDED


def test_trials_are_pooled_on_the_same_resamples() -> None:
    a, b = stats(REFS, REFS), stats(POOR, REFS)
    one = vd.paired_effect(BLEU, [(a, b)])
    three = vd.paired_effect(BLEU, [(a, b)] * 3)  # the same trial thrice: the same distribution, not narrower
    assert (three.effect, three.low, three.high, three.trials) == (one.effect, one.low, one.high, 3)
    # trial 2 the reverse of trial 1: on every resample (applied to both) the effects cancel exactly
    cancelled = vd.paired_effect(BLEU, [(a, b), (b, a)])
    assert (cancelled.effect, cancelled.low, cancelled.high) == (0, 0, 0)
    # the effect is the mean of the trials' full-corpus differences
    systems = [system(REFS, range(0, 400, k), k) for k in (2, 3, 4)]
    pooled = vd.paired_effect(BLEU, [(stats(s, REFS), b) for s in systems])
    assert pooled.effect == pytest.approx(np.mean([score(s, REFS) - score(POOR, REFS) for s in systems]), abs=1e-9)
    assert pooled.low < pooled.effect < pooled.high and vd.decide(pooled) == vd.SUPPORTED
    with pytest.raises(ValueError, match="trial 1: systems on"):
        vd.paired_effect(BLEU, [(a, b), (a[1:], b[1:])])


@pytest.mark.parametrize("name", ["bleu", "chrf"])
def test_one_trial_agrees_with_sacrebleus_paired_bootstrap(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """sacrebleu's PairedTest (test_type bs) with the same seed and resamples draws the same resamples: each
    system's bootstrap mean and 95 % CI half-width and the p-value of the difference are sacrebleu's. sacrebleu
    scores the resamples from float32 statistics (and chrF in float32): given float32 statistics, the scores are
    identical; from float64 ones, within 1e-4."""
    scorer = metric(name)
    refs = references(300, 11)
    base, hyps = system(refs, range(0, 300, 2), 4), system(refs, range(0, 300, 3), 5)
    monkeypatch.setenv("SACREBLEU_SEED", "777")
    _, results = PairedTest([("baseline", base), ("system", hyps)], {name: scorer}, [refs], test_type="bs",
                            n_samples=500)()
    (key,) = [k for k in results if k != "System"]
    base_result, system_result = results[key]
    counts = vd.resample_counts(300, 500, 777)
    for dtype, tolerance in ((np.float32, 1e-6), (np.float64, 1e-4)):
        ours = {label: vd.bootstrap_scores(scorer, stats(h, refs, scorer).astype(dtype), counts)
                for label, h in (("system", hyps), ("baseline", base))}
        for label, result in (("system", system_result), ("baseline", base_result)):
            low, high = vd.percentile_interval(ours[label])
            # sacrebleu averages chrF's float32 scores in float32
            mean = ours[label].astype(np.float32).mean() if name == "chrf" else ours[label].mean()
            assert mean == pytest.approx(result.mean, abs=tolerance)
            assert (high - low) / 2 == pytest.approx(result.ci, abs=tolerance)
        effect, draws = vd.contrast_draws(scorer, [(stats(hyps, refs, scorer).astype(dtype),
                                                    stats(base, refs, scorer).astype(dtype))], vd.PAIRED, counts)
        assert effect == pytest.approx(system_result.score - base_result.score, abs=1e-9)
        assert np.allclose(draws, ours["system"] - ours["baseline"], atol=1e-9, rtol=0)
        spread = np.abs(draws)
        assert _compute_p_value(spread - spread.mean(), abs(effect)) == system_result.p_value
