"""Statistics across seeds, as rliable (Agarwal et al. 2021) recommends for few-run comparisons: IQM with
percentile-bootstrap confidence intervals (stratified over datasets for aggregates), the probability that
one variant beats another, and pairwise Mann-Whitney U tests with Holm's correction."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
from scipy import stats

from ganbench.significance import holm

CONFIDENCE = 0.95
RESAMPLES = 2000
SEED = 0  # bootstrap resampling is seeded: the same results always give the same report


def iqm(x: np.ndarray, axis: int | None = None) -> float | np.ndarray:
    """Interquartile mean: the mean of the middle 50 % (robust to one wild seed, less noisy than the median)."""
    x = np.asarray(x, dtype=float)
    if axis is None and not len(x):
        return math.nan
    result = stats.trim_mean(x, 0.25, axis=axis)
    return float(result) if axis is None else result


def bootstrap_ci(x: np.ndarray) -> tuple[float, float]:
    """95 % percentile-bootstrap CI of the IQM (scipy.stats.bootstrap); NaN with fewer than 2 values."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return (math.nan, math.nan)
    if np.all(x == x[0]):
        return (float(x[0]), float(x[0]))
    res = stats.bootstrap((x,), lambda s, axis: iqm(s, axis=axis), vectorized=True, n_resamples=RESAMPLES,
                          confidence_level=CONFIDENCE, method="percentile", random_state=np.random.default_rng(SEED))
    return (float(res.confidence_interval.low), float(res.confidence_interval.high))


def stratified_bootstrap_ci(groups: list[np.ndarray]) -> tuple[float, float]:
    """CI of the IQM over the pooled values, resampling within each group (dataset) separately."""
    groups = [np.asarray(g, dtype=float)[np.isfinite(g)] for g in groups]
    groups = [g for g in groups if len(g)]
    if sum(len(g) for g in groups) < 2:
        return (math.nan, math.nan)
    rng = np.random.default_rng(SEED)
    resampled = np.concatenate([g[rng.integers(0, len(g), (RESAMPLES, len(g)))] for g in groups], axis=1)
    values = iqm(resampled, axis=1)  # (RESAMPLES,)
    alpha = (1 - CONFIDENCE) / 2
    return (float(np.quantile(values, alpha)), float(np.quantile(values, 1 - alpha)))


def summarize(values: np.ndarray) -> dict[str, float]:
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    low, high = bootstrap_ci(x)
    return {"n": len(x), "mean": float(x.mean()) if len(x) else math.nan,
            "median": float(np.median(x)) if len(x) else math.nan, "iqm": iqm(x), "ci_low": low, "ci_high": high}


def _wins(a: np.ndarray, b: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """P(a better than b) over all pairs along the last two axes: a (..., n_a), b (..., n_b) -> (...)."""
    diff = a[..., :, None] - b[..., None, :]
    if not higher_is_better:
        diff = -diff
    return ((diff > 0) + 0.5 * (diff == 0)).mean(axis=(-2, -1))


def probability_of_improvement(a: np.ndarray, b: np.ndarray, higher_is_better: bool) -> float:
    """P(X_a better than X_b) over all seed pairs, ties counting half (the Mann-Whitney U statistic / n_a n_b)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if not len(a) or not len(b):
        return math.nan
    return float(_wins(a, b, higher_is_better))


def probability_ci(a_groups: list[np.ndarray], b_groups: list[np.ndarray], higher_is_better: bool
                   ) -> tuple[float, float, float]:
    """P(a beats b) averaged over datasets, with a stratified bootstrap CI (resampling seeds within datasets)."""
    pairs = [(a[np.isfinite(a)], b[np.isfinite(b)]) for a, b in
             ((np.asarray(a, float), np.asarray(b, float)) for a, b in zip(a_groups, b_groups))]
    pairs = [(a, b) for a, b in pairs if len(a) and len(b)]
    if not pairs:
        return (math.nan, math.nan, math.nan)
    point = float(np.mean([_wins(a, b, higher_is_better) for a, b in pairs]))
    rng = np.random.default_rng(SEED)
    samples = np.mean([_wins(a[rng.integers(0, len(a), (RESAMPLES, len(a)))],
                             b[rng.integers(0, len(b), (RESAMPLES, len(b)))], higher_is_better)
                       for a, b in pairs], axis=0)  # (RESAMPLES,)
    alpha = (1 - CONFIDENCE) / 2
    return point, float(np.quantile(samples, alpha)), float(np.quantile(samples, 1 - alpha))


def _mann_whitney(a: np.ndarray, b: np.ndarray) -> float:
    if len(np.unique(np.r_[a, b])) == 1:  # every value equal: no evidence of a difference
        return 1.0
    return float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)


def pairwise_tests(final: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Two-sided Mann-Whitney U between every pair of variants on each dataset, Holm-corrected per dataset."""
    rows = []
    for dataset, frame in final.groupby("dataset"):
        by_variant = {v: g[metric].dropna().to_numpy() for v, g in frame.groupby("variant")}
        pairs = [(a, b) for a, b in itertools.combinations(sorted(by_variant), 2)
                 if len(by_variant[a]) >= 2 and len(by_variant[b]) >= 2]
        p_values = [_mann_whitney(by_variant[a], by_variant[b]) for a, b in pairs]
        for (a, b), p, p_holm in zip(pairs, p_values, holm(p_values) if p_values else []):
            rows.append({"dataset": dataset, "a": a, "b": b, "n_a": len(by_variant[a]), "n_b": len(by_variant[b]),
                         "p": p, "p_holm": p_holm})
    return pd.DataFrame(rows, columns=["dataset", "a", "b", "n_a", "n_b", "p", "p_holm"])


def min_attainable_p(n_a: int, n_b: int) -> float:
    """The smallest two-sided p a Mann-Whitney test can give with these sample sizes: 2 / C(n_a + n_b, n_a)."""
    return min(1.0, 2 / math.comb(n_a + n_b, n_a))
