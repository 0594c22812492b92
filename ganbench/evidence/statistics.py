"""Every statistic behind ganbench's verdicts, in one torch-free module: the gate's exact one-sided tests, the
comparison of a build with its baseline that both the gate and the report state, the report's robust summaries
across seeds (IQM with bootstrap intervals, probability of improvement, pairwise tests, as rliable -- Agarwal
et al. 2021 -- recommends for few-run comparisons), sweep selection's expected maximum, and the exact intervals
of a calibration's rates.

Each test also returns the smallest p it could give at its sample sizes: a test that cannot reach alpha there
decides nothing (the gate calls it inconclusive, the report "too few seeds"). scipy.stats does the arithmetic;
it is imported when a test first runs, as it takes a noticeable share of a CLI's start.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 2000
SEED = 0  # bootstrap resampling is seeded: the same results always give the same report


def binomial(k: int, n: int, rate: float) -> tuple[float, float]:
    """P(X >= k) for X ~ Binomial(n, rate): how surprising k events in n seeds are if each seed has an event
    with probability ``rate`` (at most). Returns (p, smallest p possible: all n seeds)."""
    from scipy import stats  # scipy.stats takes a noticeable share of a CLI's start: loaded when a test runs

    return float(stats.binom.sf(k - 1, n, rate)), float(rate**n)


def fisher(k: int, n: int, k_base: int, n_base: int) -> tuple[float, float]:
    """Fisher's exact test, one-sided: is the share of seeds with an event now (k of n) greater than in the
    baseline (k_base of n_base)? Returns (p, smallest p possible: k = n)."""
    from scipy import stats

    def p(k_now: int) -> float:
        table = [[k_now, n - k_now], [k_base, n_base - k_base]]
        return float(stats.fisher_exact(table, alternative="greater").pvalue)

    return p(k), p(n)


def mann_whitney_worse(now: list[float], then: list[float], higher_is_better: bool) -> tuple[float, float]:
    """One-sided Mann-Whitney U: are the values now worse than the baseline's? Returns (p, smallest p possible
    at these sizes: 1 / C(n + m, n), every value now worse than every baseline value)."""
    p_min = 1 / math.comb(len(now) + len(then), len(now))
    if len(set(now) | set(then)) == 1:  # every value equal: no evidence of a difference
        return 1.0, p_min
    from scipy import stats

    alternative = "less" if higher_is_better else "greater"
    return float(stats.mannwhitneyu(now, then, alternative=alternative).pvalue), p_min


REGRESSED, IMPROVED, UNCHANGED, TOO_FEW = "regressed", "improved", "no clear change", "too few seeds"


@dataclass(frozen=True)
class Shift:
    """A metric now against its baseline, as the gate's regression rule judges it and the report states it:
    the medians, how much the median got better (positive) or worse, the change allowed either way, and the
    one-sided Mann-Whitney U p for "worse" and for "better" (with the smallest p these seed counts allow)."""

    now: float
    then: float
    better_by: float  # median change in the metric's better direction
    allowed: float
    p_worse: float
    p_better: float
    p_min: float
    seeds: tuple[int, int]  # (now, baseline)

    def direction(self, alpha: float) -> str:
        """regressed | improved: past the allowed change and significant at ``alpha``; too few seeds: past it,
        but no p at these seeds could reach ``alpha``; else no clear change."""
        past = -self.better_by > self.allowed or self.better_by > self.allowed
        if not past:
            return UNCHANGED
        if self.p_min >= alpha:
            return TOO_FEW
        p = self.p_worse if self.better_by < 0 else self.p_better
        return (REGRESSED if self.better_by < 0 else IMPROVED) if p < alpha else UNCHANGED


def shift(now: list[float], then: list[float], higher_is_better: bool, allowed: float = 0.0) -> Shift:
    """Compare final values now with the baseline's (both non-empty): the one comparison behind the gate's
    regression rule and the report's baseline table."""
    now, then = [float(x) for x in now], [float(x) for x in then]
    median_now, median_then = float(np.median(now)), float(np.median(then))
    better_by = (median_now - median_then) if higher_is_better else (median_then - median_now)
    p_worse, p_min = mann_whitney_worse(now, then, higher_is_better)
    p_better, _ = mann_whitney_worse(now, then, not higher_is_better)
    return Shift(median_now, median_then, better_by, allowed, p_worse, p_better, p_min, (len(now), len(then)))


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down; monotone; capped at 1)."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adjusted[i] = running
    return adjusted.tolist()


@functools.lru_cache(maxsize=4096)  # a gate asks the same few counts' interval once per rule and cell
def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact confidence interval of a rate k / n (scipy's binomtest)."""
    from scipy import stats

    ci = stats.binomtest(k, n).proportion_ci(confidence, method="exact")
    return float(ci.low), float(ci.high)


def iqm(x: np.ndarray, axis: int | None = None) -> float | np.ndarray:
    """Interquartile mean: the mean of the middle 50 % (robust to one wild seed, less noisy than the median)."""
    from scipy import stats

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
    from scipy import stats

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


def _counts(draws: np.ndarray, n: int) -> np.ndarray:
    """How often each of n values is drawn in each row of ``draws`` (rows, k) -> (rows, n)."""
    rows = len(draws)
    flat = (draws + n * np.arange(rows)[:, None]).ravel()
    return np.bincount(flat, minlength=rows * n).reshape(rows, n).astype(float)


def probability_of_improvement(a: np.ndarray, b: np.ndarray, higher_is_better: bool) -> float:
    """P(X_a better than X_b) over all seed pairs, ties counting half (the Mann-Whitney U statistic / n_a n_b)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if not len(a) or not len(b):
        return math.nan
    return float(_wins(a, b, np.ones((1, len(a))), np.ones((1, len(b))), higher_is_better)[0])


def _wins(a: np.ndarray, b: np.ndarray, counts_a: np.ndarray, counts_b: np.ndarray,
          higher_is_better: bool) -> np.ndarray:
    """P(a beats b) over all drawn pairs, ties counting half, in each of R draws of n_a values of a and n_b of b,
    given as how often each value is drawn: (R, n_a), (R, n_b); all ones for the samples themselves. For each b
    value, the a-draws above (or below) it and tied with it are read off cumulative counts over sorted a:
    R x (n_a + n_b) work, not every pair. Exact: every term is a multiple of one half."""
    order = np.argsort(a, kind="stable")
    low, high = np.searchsorted(a[order], b, "left"), np.searchsorted(a[order], b, "right")
    cumulative = np.zeros((len(counts_a), len(a) + 1))
    np.cumsum(counts_a[:, order], axis=1, out=cumulative[:, 1:])
    below, up_to = cumulative[:, low], cumulative[:, high]  # a-draws under each b value; under or equal
    better = len(a) - up_to if higher_is_better else below
    return ((better + 0.5 * (up_to - below)) * counts_b).sum(axis=1) / (len(a) * len(b))


def probability_ci(a_groups: list[np.ndarray], b_groups: list[np.ndarray], higher_is_better: bool
                   ) -> tuple[float, float, float]:
    """P(a beats b) averaged over datasets, with a stratified bootstrap CI (resampling seeds within datasets)."""
    pairs = [(a[np.isfinite(a)], b[np.isfinite(b)]) for a, b in
             ((np.asarray(a, float), np.asarray(b, float)) for a, b in zip(a_groups, b_groups))]
    pairs = [(a, b) for a, b in pairs if len(a) and len(b)]
    if not pairs:
        return (math.nan, math.nan, math.nan)
    point = float(np.mean([probability_of_improvement(a, b, higher_is_better) for a, b in pairs]))
    rng = np.random.default_rng(SEED)
    samples = []
    for a, b in pairs:
        counts_a = _counts(rng.integers(0, len(a), (RESAMPLES, len(a))), len(a))
        counts_b = _counts(rng.integers(0, len(b), (RESAMPLES, len(b))), len(b))
        samples.append(_wins(a, b, counts_a, counts_b, higher_is_better))
    samples = np.mean(samples, axis=0)  # (RESAMPLES,)
    alpha = (1 - CONFIDENCE) / 2
    return point, float(np.quantile(samples, alpha)), float(np.quantile(samples, 1 - alpha))


def mann_whitney_two_sided(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided Mann-Whitney U p between two samples (1 when every value is equal)."""
    if len(np.unique(np.r_[a, b])) == 1:  # every value equal: no evidence of a difference
        return 1.0
    from scipy import stats

    return float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)


def pairwise_tests(final, metric: str):
    """Two-sided Mann-Whitney U between every pair of variants on each dataset, Holm-corrected per dataset: a
    DataFrame of dataset, a, b, n_a, n_b, p, p_holm."""
    import pandas as pd  # the gate (which a suite's validation imports) needs no pandas

    rows = []
    for dataset, frame in final.groupby("dataset"):
        by_variant = {v: g[metric].dropna().to_numpy() for v, g in frame.groupby("variant")}
        pairs = [(a, b) for a, b in itertools.combinations(sorted(by_variant), 2)
                 if len(by_variant[a]) >= 2 and len(by_variant[b]) >= 2]
        p_values = [mann_whitney_two_sided(by_variant[a], by_variant[b]) for a, b in pairs]
        for (a, b), p, p_holm in zip(pairs, p_values, holm(p_values) if p_values else []):
            rows.append({"dataset": dataset, "a": a, "b": b, "n_a": len(by_variant[a]), "n_b": len(by_variant[b]),
                         "p": p, "p_holm": p_holm})
    return pd.DataFrame(rows, columns=["dataset", "a", "b", "n_a", "n_b", "p", "p_holm"])


def min_attainable_p(n_a: int, n_b: int) -> float:
    """The smallest two-sided p a Mann-Whitney test can give with these sample sizes: 2 / C(n_a + n_b, n_a)."""
    return min(1.0, 2 / math.comb(n_a + n_b, n_a))


def expected_max(scores, k: int) -> tuple[float, float]:
    """Mean and variance of the best of k trials drawn without replacement from the N trials run (Dodge et al.
    2019's expected validation performance, over the trials actually run): with the scores sorted ascending,
    P(best = s_i) = C(i-1, k-1) / C(N, k). k = 1 gives their mean, k = N their maximum."""
    s = np.sort(np.asarray(scores, dtype=float))
    n = len(s)
    if not 1 <= k <= n:
        raise ValueError(f"k must be in 1..{n}, got {k}")
    weights = np.array([math.comb(i, k - 1) for i in range(n)], dtype=float) / math.comb(n, k)  # i = rank - 1
    mean = float((weights * s).sum())
    return mean, float(max((weights * s**2).sum() - mean**2, 0.0))
