"""Verdicts on claims about translation systems: a pooled paired bootstrap over the test sentences of several
trials, the effect's confidence interval, and the verdict that the interval gives.

A claim compares systems trial by trial (trial t of one against trial t of the other: the same seed, the same test
sentences). Its effect is a contrast of corpus scores in each trial, averaged over the trials: system − reference
(`paired_effect`), or a difference of gains, (X − base) without dropout − (X − base) with it (`gain_difference`).
The bootstrap resamples the n test sentences `samples` times; each resample (one vector of sentence counts) is
applied to every system of every trial, so that the systems stay paired on the same sentences, and the mean
contrast on each resample is one draw of the effect's distribution. The interval is that distribution's percentile
interval, by the order-statistic rule of sacrebleu's own paired bootstrap (`estimate_ci`: at 95 % and 1000
resamples, the 26th smallest and the 26th largest). The resamples are drawn as sacrebleu draws them
(`numpy.random.default_rng(seed).choice(n, size=(samples, n))`), so that with one trial a system's resampled scores
are those of sacrebleu's paired bootstrap with the same seed (sacrebleu computes them from float32 statistics,
these from float64 ones: they agree to 1e-4 points or better, and exactly given float32 statistics).

What the interval covers: the sampling of the test sentences, for the trials at hand. The variation between trials
(seeds) enters only through the trials present, whose contrasts are averaged, not resampled: with few trials, the
interval can be narrower than the spread of the effect from one seed to another.

Scores come from per-sentence sufficient statistics (sacrebleu 2.x's `_extract_corpus_statistics` and
`_compute_score_from_stats`, as its paired bootstrap uses them), so that a full-corpus score is exactly the metric
object's corpus score (scripts/evaluate.py's `metric` builds the objects).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sacrebleu.metrics.base import Metric

SUPPORTED, CONTRADICTED, UNDECIDED = "supported", "contradicted", "undecided"
PAIRED = (1.0, -1.0)  # system − reference
GAINS = (1.0, -1.0, -1.0, 1.0)  # (X − base) without dropout − (X − base) with dropout
DIGITS = 9  # contrasts are rounded to this many decimals (floating-point noise is about 1e-14 points)


@dataclass(frozen=True)
class Estimate:
    """A claim's effect: `effect` observed (mean over trials of the full-corpus contrast), its percentile interval
    [`low`, `high`] at `confidence` from `samples` resamples, over `trials` trials of `sentences` sentences."""

    effect: float
    low: float
    high: float
    trials: int
    sentences: int
    samples: int
    confidence: float


def sentence_stats(scorer: Metric, hypotheses: Sequence[str], references: Sequence[str]) -> np.ndarray:
    """The metric's sufficient statistics of each sentence, shape [sentences, statistics] (float64: counts)."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references")
    if not hypotheses:
        raise ValueError("no sentences")
    return np.asarray(scorer._extract_corpus_statistics(list(hypotheses), [list(references)]), dtype=np.float64)


def corpus_score(scorer: Metric, totals: np.ndarray) -> float:
    """The corpus score of summed statistics, scored as a copy (BLEU's add-k smoothing writes into them): float64
    ones as Python floats (the same arithmetic, twice as fast), others as they are (sacrebleu's float32)."""
    return float(scorer._compute_score_from_stats(totals.tolist() if totals.dtype == np.float64
                                                  else totals.copy()).score)


def resample_counts(sentences: int, samples: int, seed: int | None) -> np.ndarray:
    """How often each sentence is drawn in each resample, shape [samples, sentences]: sacrebleu's draw of
    `samples` × `sentences` indices with replacement from numpy.random.default_rng(seed), counted."""
    if sentences < 1 or samples < 1:
        raise ValueError(f"cannot resample {sentences} sentences {samples} times")
    indices = np.random.default_rng(seed).choice(sentences, size=(samples, sentences), replace=True)
    flat = (indices + sentences * np.arange(samples)[:, None]).ravel()
    return np.bincount(flat, minlength=samples * sentences).reshape(samples, sentences)


def bootstrap_scores(scorer: Metric, stats: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """A system's corpus score on each resample (`counts`: resample_counts), its statistics' dtype kept."""
    totals = counts.astype(stats.dtype) @ stats
    return np.array([corpus_score(scorer, row) for row in totals])


def percentile_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """The central `confidence` interval of a bootstrap distribution by sacrebleu's rule: of the sorted values, the
    one at index floor(N (1 − confidence) / 2) and the one as far from the end."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence {confidence} is not between 0 and 1")
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    lower = math.floor(len(ordered) * (1 - confidence) / 2 + 1e-9)
    return float(ordered[lower]), float(ordered[len(ordered) - lower - 1])


def contrast_draws(scorer: Metric, trials: Sequence[Sequence[np.ndarray]], weights: Sequence[float],
                   counts: np.ndarray) -> tuple[float, np.ndarray]:
    """The observed mean over trials of Σ_i weights[i] × score(system i) and its value on each resample (`counts`:
    resample_counts): `trials` holds each trial's systems' sentence statistics (as many as `weights`, all on the
    sentences that `counts` counts), and every resample is applied to every system of every trial."""
    if not trials:
        raise ValueError("no trials")
    for t, systems in enumerate(trials):
        if len(systems) != len(weights):
            raise ValueError(f"trial {t}: {len(systems)} systems for {len(weights)} weights")
        if any(len(stats) != counts.shape[1] for stats in systems):
            raise ValueError(f"trial {t}: systems on {[len(s) for s in systems]} sentences, not {counts.shape[1]}")
    observed, draws = 0.0, np.zeros(len(counts))
    for systems in trials:
        for w, stats in zip(weights, systems, strict=True):
            observed += w * corpus_score(scorer, stats.sum(axis=0, dtype=np.float64))
            draws += w * bootstrap_scores(scorer, stats, counts)
    # to 1e-9 points: a contrast of identical systems is then exactly 0, whatever the order of the additions
    return round(observed / len(trials), DIGITS), np.round(draws / len(trials), DIGITS)


def pooled_contrast(scorer: Metric, trials: Sequence[Sequence[np.ndarray]], weights: Sequence[float],
                    samples: int = 1000, seed: int | None = 12345, confidence: float = 0.95) -> Estimate:
    """The mean over trials of Σ_i weights[i] × score(system i) (contrast_draws) and its percentile interval from
    `samples` resamples of the test sentences drawn with `seed`."""
    if not trials or not trials[0]:
        raise ValueError("no trials")
    sentences = len(trials[0][0])
    observed, draws = contrast_draws(scorer, trials, weights, resample_counts(sentences, samples, seed))
    low, high = percentile_interval(draws, confidence)
    return Estimate(observed, low, high, len(trials), sentences, samples, confidence)


def paired_effect(scorer: Metric, pairs: Sequence[tuple[np.ndarray, np.ndarray]], samples: int = 1000,
                  seed: int | None = 12345, confidence: float = 0.95) -> Estimate:
    """System − reference, averaged over trials: `pairs` holds each trial's (system, reference) statistics."""
    return pooled_contrast(scorer, pairs, PAIRED, samples, seed, confidence)


def gain_difference(scorer: Metric, trials: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
                    samples: int = 1000, seed: int | None = 12345, confidence: float = 0.95) -> Estimate:
    """(X − base) without dropout − (X − base) with dropout, averaged over trials: `trials` holds each trial's
    (X without dropout, base without dropout, X with dropout, base with dropout) statistics."""
    return pooled_contrast(scorer, trials, GAINS, samples, seed, confidence)


def decide(estimate: Estimate, margin: float = 0.0) -> str:
    """The verdict on "the effect is above −margin": margin 0, a superiority claim (the effect is positive);
    margin m > 0, a non-inferiority claim (the system is worse by less than m points). Supported when the whole
    interval is above −margin, contradicted when it is all below, undecided when it contains −margin."""
    if estimate.low > -margin:
        return SUPPORTED
    if estimate.high < -margin:
        return CONTRADICTED
    return UNDECIDED
