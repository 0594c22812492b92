"""Run and variant states: not converged, collapsed and healthy apart, and the ranking that follows them."""

from __future__ import annotations

import math

import pandas as pd

from ganbench.evidence import states as verdicts
from ganbench.metrics import metric_catalog
from ganbench.report import tables
from ganbench.results import Results
from ganbench.results.store import RunStore


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
    assert rank.loc["good", "summary"] == "healthy: covers 94% of modes (IQM)"
    assert rank.loc["collapsing", "state"] == "collapsed"
    assert "D overpowers G in 50%" in rank.loc["collapsing", "summary"]
    assert rank.loc["unlearned", "summary"].startswith("not converged at this budget (2 not converged)")
    assert math.isnan(rank.loc["unlearned", "mode_coverage"])  # 0.25 and 0.125 measured the budget, not the recipe


def _final(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    """(variant, state, mode_coverage, sliced_wasserstein) per seed, on one dataset."""
    return pd.DataFrame([{"run_id": f"{v}{i}", "variant": v, "dataset": "ring", "seed": i, "state": state,
                          "status": "completed", "mode_coverage": cov, "sliced_wasserstein": sw}
                         for i, (v, state, cov, sw) in enumerate(rows)])


def _rates(final: pd.DataFrame) -> pd.DataFrame:
    seeds = final.groupby("variant").size()
    return pd.DataFrame({"variant": seeds.index, "dataset": "ring", "seeds": seeds.values, "collapse_rate": 0.0,
                         "instability_rate": 0.0, "d_overpowering_rate": 0.0, "mode_collapse_rate": 0.0,
                         "divergence_rate": 0.0, "nonconvergence_rate": 0.0, "time_to_collapse": math.nan,
                         "failed": 0})


def test_the_ranking_says_no_more_than_its_tests_carry():
    """A newcomer's grid: every variant not converged, coverages of about 0.02 against 0 that rank nothing, and
    the one whose samples are plainly closest to the data (sliced Wasserstein 0.25 against 2.2-2.4) first."""
    nc = "not converged"
    final = _final([("a", nc, 0.04, 2.4), ("a", nc, 0.0, 2.3), ("a", nc, 0.08, 2.5), ("a", nc, 0.04, 2.4),
                    ("b", nc, 0.0, 2.2), ("b", nc, 0.0, 2.3), ("b", nc, 0.04, 2.1), ("b", nc, 0.0, 2.2),
                    ("c", nc, 0.0, 0.25), ("c", nc, 0.0, 0.3), ("c", nc, 0.0, 0.2), ("c", nc, 0.0, 0.26)])
    rank = tables.ranking(final, _rates(final), metric_catalog()).set_index("variant")
    assert list(rank.index)[0] == "c" and set(rank.ranked_by) == {"sliced_wasserstein"}
    # four seeds each: no Holm-corrected pair reaches 0.05 (the smallest two-sided p is 0.029), so all tie
    assert set(rank["rank"]) == {1} and rank.tied["c"] == "b, a"  # in the order shown
    assert rank.measured.sum() == 0 and rank.mode_coverage.isna().all()
    assert "ranked by sliced_wasserstein instead" in rank.summary["c"]


def test_separated_variants_get_their_own_rank_and_left_out_seeds_are_counted():
    good = [("good", "healthy", 0.9 + 0.01 * i, 0.1) for i in range(8)]
    worse = [("worse", "healthy", 0.4 + 0.01 * i, 0.5) for i in range(7)] + [("worse", "not converged", 0.0, 2.0)]
    same = [("same", "healthy", 0.4 + 0.01 * i + 0.005, 0.5) for i in range(8)]
    final = _final(good + worse + same)
    rank = tables.ranking(final, _rates(final), metric_catalog()).set_index("variant")
    assert rank["rank"].to_dict() == {"good": 1, "same": 2, "worse": 2}  # good beats both; the others tie
    assert rank.tied["same"] == "worse" and rank.tied["good"] == ""
    assert rank.measured["worse"] == 7 and "1 of 8 seeds not converged, left out" in rank.summary["worse"]
