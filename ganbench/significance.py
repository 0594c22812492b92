"""Exact tests behind the gate's rules and the report's comparisons, each with the smallest p it could give
at its sample sizes (a test that cannot reach alpha there decides nothing: the gate calls it inconclusive).
One-sided throughout the gate: the alternative is always "this build is worse"."""

from __future__ import annotations

import math

import numpy as np


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


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact confidence interval of a rate k / n (scipy's binomtest)."""
    from scipy import stats

    ci = stats.binomtest(k, n).proportion_ci(confidence, method="exact")
    return float(ci.low), float(ci.high)
