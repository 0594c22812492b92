"""Sweep selection: each trial's score over the selection seeds, and each variant's best trial."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ganbench.errors import GanbenchError
from ganbench.evidence import statistics as stats
from ganbench.evidence.finals import final_metrics, primary_metric


def trial_scores(results, names: list[str], metric: str | None = None) -> tuple[dict[str, float], str, bool]:
    """Each trial's score in ``results`` (loaded with its trials): the IQM of its runs' final ``metric`` over the
    selection seeds and datasets, NaN where none is finite. Also returns the metric (default: the ranking's
    key) and whether higher is better."""
    final = final_metrics(results)
    catalog = results.metric_info()
    metric = metric or primary_metric(final, catalog)
    if metric is None or metric not in final:
        raise GanbenchError(f"sweep: the trials logged no {metric or 'rankable metric'} to choose by")
    scores = {}
    for name in names:
        values = final.loc[final.variant == name, metric].to_numpy(dtype=float)
        scores[name] = stats.iqm(values[np.isfinite(values)])  # NaN when empty
    return scores, metric, bool(catalog[metric].higher_is_better)


def select(suite, results) -> tuple[dict[str, Any], str]:
    """Each variant's best trial by its score (``trial_scores``); a trial with no finite value cannot win unless
    none has one (then the first). Returns the winners and the metric that chose them."""
    trials = suite.trials()
    scores, metric, higher = trial_scores(results, [t.name for t in trials], suite.sweep.metric)
    best = {}
    for variant, _ in suite.variants:
        candidates = [t for t in trials if t.variant == variant]
        keyed = [(scores[t.name] if higher else -scores[t.name], -i) for i, t in enumerate(candidates)
                 if math.isfinite(scores[t.name])]
        best[variant] = candidates[-max(keyed)[1]] if keyed else candidates[0]  # ties: the earlier trial
    return best, metric
