"""Run and variant states: not converged, collapsed and healthy apart, and the ranking that follows them."""

from __future__ import annotations

import math

import pandas as pd

from ganbench import verdicts
from ganbench.metrics import metric_catalog
from ganbench.report import tables
from ganbench.results import Results
from ganbench.store import RunStore


def results(runs: list[dict]) -> Results:
    """``runs``: variant, seed, status, high_quality per evaluation, final mode_coverage, event kinds."""
    frame = pd.DataFrame([{"run_id": f"{r['variant']}{r['seed']}", "variant": r["variant"], "dataset": "ring",
                           "seed": r["seed"], "status": r.get("status", "completed"), "step": 300, "time_s": 1.0,
                           "error": None, "device": "cpu"} for r in runs])
    metrics, events = [], []
    for r in runs:
        keys = {"run_id": f"{r['variant']}{r['seed']}", "variant": r["variant"], "dataset": "ring", "seed": r["seed"]}
        for i, hq in enumerate(r["hq"]):
            metrics.append({**keys, "step": 100 * (i + 1), "name": "high_quality", "value": hq})
        metrics.append({**keys, "step": 100 * len(r["hq"]), "name": "mode_coverage", "value": r["coverage"]})
        events += [{**keys, "kind": k, "step": 200, "evidence": {}} for k in r.get("events", [])]
    return Results(RunStore.at("/nonexistent/s"), frame, pd.DataFrame(metrics),
                   pd.DataFrame(events, columns=["run_id", "variant", "dataset", "seed", "kind", "step", "evidence"]),
                   {})


RUNS = [
    {"variant": "unlearned", "seed": 0, "hq": [0.01, 0.05, 0.03], "coverage": 0.25},  # never reached the modes
    {"variant": "unlearned", "seed": 1, "hq": [0.0, 0.02, 0.1], "coverage": 0.125},
    {"variant": "collapsing", "seed": 0, "hq": [0.3, 0.8, 0.9], "coverage": 0.125, "events": ["mode_collapse"]},
    {"variant": "collapsing", "seed": 1, "hq": [0.3, 0.8, 0.9], "coverage": 0.25, "events": ["d_overpowering"]},
    {"variant": "good", "seed": 0, "hq": [0.2, 0.5, 0.7], "coverage": 1.0},
    {"variant": "good", "seed": 1, "hq": [0.1, 0.6, 0.7], "coverage": 0.875},
    {"variant": "boom", "seed": 0, "hq": [0.1], "coverage": 0.0, "status": "diverged"},
]


def test_each_run_gets_its_state():
    states = verdicts.run_states(results(RUNS))
    assert states.to_dict() == {"unlearned0": "not converged", "unlearned1": "not converged",
                                "collapsing0": "collapsed", "collapsing1": "collapsed", "good0": "healthy",
                                "good1": "healthy", "boom0": "diverged"}
    assert verdicts.variant_state(["healthy", "not converged"]) == "not converged"  # a tie goes to the worse
    assert verdicts.describe(["healthy", "collapsed", "healthy"]) == "2 healthy, 1 collapsed"


def test_the_ranking_groups_by_state_and_never_ranks_an_unlearned_run_as_measured():
    res = results(RUNS)
    final = tables.final_metrics(res)
    rank = tables.ranking(final, tables.event_rates(res), metric_catalog()).set_index("variant")
    assert list(rank.index) == ["good", "collapsing", "unlearned", "boom"]
    assert rank.loc["good", "verdict"] == "healthy: covers 94% of modes (IQM)"
    assert rank.loc["collapsing", "state"] == "collapsed"
    assert "D overpowers G in 50%" in rank.loc["collapsing", "verdict"]
    assert rank.loc["unlearned", "verdict"].startswith("not converged at this budget (2 not converged)")
    assert math.isnan(rank.loc["unlearned", "mode_coverage"])  # 0.25 and 0.125 measured the budget, not the recipe
