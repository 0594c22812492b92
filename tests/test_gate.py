"""The gate's statistics, pinned against values computed by hand on fixed small samples (no training)."""

from __future__ import annotations

import math
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from ganbench.cli.gate_output import annotations, counts, junit_xml, markdown
from ganbench.evidence import statistics as sig
from ganbench.evidence.baseline import Baseline, from_results
from ganbench.evidence.gate import FAIL, INCONCLUSIVE, NOT_COMPARABLE, PASS, SEEN, Rules, Tolerance, evaluate, reach
from ganbench.evidence.null_rates import NullRates
from ganbench.results import Results
from ganbench.results.store import RunStore

CONFIG = {"spec": {"train": {"eval_samples": 2500, "steps": 2000}, "dataset": {"name": "ring", "params": {}},
                   "architecture": {"name": "mlp", "params": {}}},
          "collectors": {"fid": {"feature_space": "coordinates"}}}


def results(values: dict[str, list[float]], events: dict[int, list[str]] | None = None, config=CONFIG) -> Results:
    """One variant on one dataset: final ``values`` per seed (seed = position), ``events`` by seed."""
    n = len(next(iter(values.values())))
    runs = pd.DataFrame({"run_id": [f"r{s}" for s in range(n)], "variant": "v", "dataset": "ring", "seed": range(n),
                         "status": "completed", "step": 100, "time_s": 1.0, "error": None, "device": "cpu"})
    metrics = pd.DataFrame([{"run_id": f"r{s}", "variant": "v", "dataset": "ring", "seed": s, "step": 100,
                             "name": m, "value": x} for m, xs in values.items() for s, x in enumerate(xs)])
    ev = pd.DataFrame([{"run_id": f"r{s}", "variant": "v", "dataset": "ring", "seed": s, "kind": k, "step": 50,
                        "evidence": {}} for s, kinds in (events or {}).items() for k in kinds],
                      columns=["run_id", "variant", "dataset", "seed", "kind", "step", "evidence"])
    return Results(RunStore.at("/nonexistent/suite"), runs, metrics, ev, {f"r{s}": config for s in range(n)})


def rules(**kw) -> Rules:
    """The rules these hand-computed tests use: a flat 10 % null rate unless told otherwise."""
    return Rules(**{"fail_on": ("mode_collapse",), "higher_is_better": {"mode_coverage": True, "kid": False},
                    "event_rate": 0.1, **kw})


def only(verdicts, rule):
    (v,) = [v for v in verdicts if v.rule == rule]
    return v


def test_binomial_event_test_by_hand():
    # P(X >= 3), X ~ Bin(16, 0.1) = 1 - sum_{j<3} C(16, j) 0.1^j 0.9^(16-j)
    by_hand = 1 - sum(math.comb(16, j) * 0.1**j * 0.9 ** (16 - j) for j in range(3))
    assert sig.binomial(3, 16, 0.1) == pytest.approx((by_hand, 0.1**16))
    cov = {"mode_coverage": [1.0] * 16}
    three = only(evaluate(results(cov, {0: ["mode_collapse"], 5: ["mode_collapse"], 9: ["mode_collapse"]}),
                          rules()), "events:mode_collapse")
    assert three.status == SEEN and f"p = {by_hand:.3g}" in three.evidence and "3 of 16 seeds" in three.evidence
    six = {s: ["mode_collapse"] for s in range(6)}  # P(X >= 6) = 0.0033
    assert only(evaluate(results(cov, six), rules()), "events:mode_collapse").status == FAIL


def test_fisher_event_test_against_the_baseline_by_hand():
    # [[5, 11], [0, 16]], one-sided: P(X = 5) = C(16, 5) C(16, 0) / C(32, 5), the only table as extreme
    by_hand = math.comb(16, 5) / math.comb(32, 5)
    assert sig.fisher(5, 16, 0, 16)[0] == pytest.approx(by_hand)
    base = from_results(results({"mode_coverage": [1.0] * 16}))
    now = results({"mode_coverage": [1.0] * 16}, {s: ["mode_collapse"] for s in range(5)})
    verdict = only(evaluate(now, rules(), base), "events:mode_collapse")
    assert verdict.status == FAIL and "against the baseline's 0 of 16 seeds" in verdict.evidence
    # the same five events against a baseline that had four: no evidence of a higher rate
    worse_base = from_results(results({"mode_coverage": [1.0] * 16}, {s: ["mode_collapse"] for s in range(4)}))
    assert only(evaluate(now, rules(), worse_base), "events:mode_collapse").status == SEEN


def test_sign_test_threshold_by_hand():
    # 5 of 5 seeds below the bound: p = 0.5^5 = 1/32 < 0.05; 4 of 5: p = 6/32
    low = results({"mode_coverage": [0.1, 0.2, 0.1, 0.3, 0.2]})
    bounds = {"mode_coverage": {"min": 0.5}}
    verdict = only(evaluate(low, rules(thresholds=bounds)), "threshold:mode_coverage")
    assert verdict.status == FAIL and "p = 0.0312" in verdict.evidence
    assert "5 of 5 seeds outside min 0.5" in verdict.evidence
    mixed = results({"mode_coverage": [0.1, 0.2, 0.1, 0.3, 0.9]})
    verdict = only(evaluate(mixed, rules(thresholds=bounds)), "threshold:mode_coverage")
    assert verdict.status == SEEN and "p = 0.188" in verdict.evidence  # the median is past the bound


def test_mann_whitney_regression_by_hand():
    # every value now below every baseline value: exact one-sided p = 1 / C(8, 4)
    base = from_results(results({"mode_coverage": [0.9, 0.95, 1.0, 0.85]}))
    now = results({"mode_coverage": [0.1, 0.2, 0.3, 0.15]})
    verdict = only(evaluate(now, rules(regression={"mode_coverage": Tolerance(rel=0.1)}), base),
                   "regression:mode_coverage")
    assert sig.mann_whitney_worse([0.1, 0.2, 0.3, 0.15], [0.9, 0.95, 1.0, 0.85], True)[0] == pytest.approx(1 / 70)
    assert verdict.status == FAIL and f"p = {1 / 70:.3g}" in verdict.evidence


def test_too_few_seeds_is_inconclusive_never_a_failure():
    base = from_results(results({"mode_coverage": [1.0, 1.0]}))
    now = results({"mode_coverage": [0.0, 0.1]})
    verdicts = evaluate(now, rules(regression={"mode_coverage": Tolerance(rel=0.1)},
                                   thresholds={"mode_coverage": {"min": 0.5}}), base)
    for rule in ("regression:mode_coverage", "threshold:mode_coverage"):
        verdict = only(verdicts, rule)
        assert verdict.status == SEEN and "cannot go below" in verdict.evidence
        assert not rules().fails(verdict) and rules(strict=True).fails(verdict)


def test_absolute_floor_at_a_zero_baseline():
    base = from_results(results({"kid": [0.0] * 6}))
    now = results({"kid": [0.001, 0.002, 0.001, 0.003, 0.002, 0.001]})
    relative_only = only(evaluate(now, rules(regression={"kid": Tolerance(rel=0.5)}), base), "regression:kid")
    assert relative_only.status == FAIL  # 50 % of 0 allows nothing: any worsening counts
    floored = only(evaluate(now, rules(regression={"kid": Tolerance(rel=0.5, abs=0.01)}), base), "regression:kid")
    assert floored.status == PASS and "allowed worsening 0.01" in floored.evidence


def test_hard_events_fail_on_one_seed():
    verdict = only(evaluate(results({"mode_coverage": [1.0] * 16}, {3: ["divergence"]}),
                            rules(fail_on=("divergence",))), "events:divergence")
    assert verdict.status == FAIL and "hard rule" in verdict.evidence


def test_a_baseline_measured_differently_is_not_comparable():
    other = {**CONFIG, "spec": {**CONFIG["spec"], "train": {"eval_samples": 2500, "steps": 3000}}}
    base = from_results(results({"mode_coverage": [1.0] * 6}, config=other))
    verdicts = evaluate(results({"mode_coverage": [0.0] * 6}), rules(regression={"mode_coverage": Tolerance()}), base)
    verdict = only(verdicts, "baseline")
    assert verdict.status == NOT_COMPARABLE and "steps 3000 (now 2000)" in verdict.evidence
    assert not any(v.rule.startswith("regression") for v in verdicts)  # never compared
    assert isinstance(base, Baseline) and base.measured[("v", "ring")]["steps"] == 3000


def test_outputs_show_the_new_verdicts():
    base = from_results(results({"mode_coverage": [1.0, 1.0]}))
    verdicts = evaluate(results({"mode_coverage": [0.0, 0.0]}, {0: ["divergence"]}),
                        rules(fail_on=("mode_collapse", "divergence"),
                              regression={"mode_coverage": Tolerance(rel=0.1)}), base)
    # runs: pass; divergence: fail; mode_collapse, learning (Fisher at 2 vs 2 seeds): nothing seen, undecidable;
    # regression: seen (worse), not significant
    assert counts(verdicts) == "1 passed, 1 failed, 1 seen, not significant, 2 inconclusive"
    cases = ET.fromstring(junit_xml(verdicts, "s", rules())).iter("testcase")
    kinds = {c.get("name"): [(child.tag, child.get("type")) for child in c] for c in cases}
    assert kinds["ring: regression:mode_coverage"] == [("skipped", SEEN)]
    assert kinds["ring: events:mode_collapse"] == [("skipped", INCONCLUSIVE)]
    assert kinds["ring: events:divergence"] == [("failure", FAIL)]
    strict = ET.fromstring(junit_xml(verdicts, "s", rules(strict=True)))
    assert strict.find("testsuite").get("failures") == "4"
    text = markdown(verdicts, "s", rules())
    assert "❔ | inconclusive" in text and "❌ | fail" in text and "⚠️ | seen, not significant" in text


def test_seen_not_significant_and_not_seen_differ_and_the_suite_says_what_they_do():
    """issue #44: a rule that saw its event but could not decide is not one that saw nothing. One seed of one,
    against a flat 10 % rate (p = 0.1 >= alpha): "seen, not significant"; no event: "inconclusive" (p cannot go
    below 0.1). `inconclusive: warn` (the default) shows the first as a warning annotation and the second as a
    notice; `fail` fails both; `pass` neither warns nor fails."""
    seen = only(evaluate(results({"mode_coverage": [1.0]}, {0: ["mode_collapse"]}), rules()), "events:mode_collapse")
    unseen = only(evaluate(results({"mode_coverage": [1.0]}), rules()), "events:mode_collapse")
    assert (seen.status, unseen.status) == (SEEN, INCONCLUSIVE)
    assert "mode_collapse in 1 of 1 seeds" in seen.evidence and "mode_collapse in 0 of 1 seeds" in unseen.evidence
    warn = rules()
    assert [a.split(" ")[0] for a in annotations([seen, unseen], warn)] == ["::warning", "::notice"]
    assert "::seen, not significant: mode_collapse in 1 of 1 seeds" in annotations([seen], warn)[0]
    assert not warn.fails(seen) and not warn.fails(unseen) and warn.warns(seen) and warn.warns(unseen)
    failing = rules(inconclusive="fail")
    assert failing.fails(seen) and failing.fails(unseen)
    assert [a.split(" ")[0] for a in annotations([seen, unseen], failing)] == ["::error", "::error"]
    quiet = rules(inconclusive="pass")
    assert not quiet.fails(seen) and not quiet.warns(seen) and annotations([seen, unseen], quiet) == []


def test_a_one_seed_build_that_did_not_learn_fails_against_a_measured_null_rate():
    """issue #44: with the old flat 10 % one seed cannot reach alpha (p >= 0.1), so a run that did not learn
    passed. Against a measured rate of not learning of (0 + 1/2) / (200 + 1) = 0.25 %, p = 0.0025 < alpha: the
    build fails, and the verdict says which rate it was tested against and where that came from."""
    stuck = results({"mode_coverage": [0.0], "high_quality": [0.01]})
    measured = NullRates("calibration of a test suite", {"not_learned": (0, 200)})
    verdict = only(evaluate(stuck, rules(event_rate=None, null_rates=measured)), "learning")
    assert verdict.status == FAIL and f"p = {0.5 / 201:.3g} < alpha" in verdict.evidence
    assert "0.2% [0.0%, 1.8%] (0 of 200 runs; calibration of a test suite)" in verdict.evidence
    assert verdict.null_rate == "calibration of a test suite"
    flat = only(evaluate(stuck, rules()), "learning")
    assert flat.status == SEEN and "an allowed rate of 10%" in flat.evidence
    assert flat.null_rate == "the suite's event_rate, assumed"
    xml = junit_xml([verdict], "s", rules())
    assert 'name="null_rate_source" value="calibration of a test suite"' in xml
    assert "calibration of a test suite" in markdown([verdict], "s", rules())


def test_the_shipped_calibration_is_read_not_written_into_the_rules(monkeypatch):
    """Without the suite's own rates or event_rate, a verdict reads the shipped file: change the file, and the
    verdict follows it. A dataset's own counts come before the pooled ones."""
    import json

    from ganbench.evidence import null_rates

    doc = {"source": "a shipped calibration", "counts": {"mode_collapse": [50, 100]},
           "datasets": {"ring": {"mode_collapse": [0, 1000]}}}
    path = Path(tempfile.mkdtemp()) / "null_rates.json"
    path.write_text(json.dumps(doc))
    monkeypatch.setattr(null_rates, "SHIPPED", path)
    null_rates.shipped.cache_clear()
    try:
        one = results({"mode_coverage": [1.0]}, {0: ["mode_collapse"]})
        verdict = only(evaluate(one, rules(event_rate=None)), "events:mode_collapse")
        assert verdict.status == FAIL and "(0 of 1000 runs; a shipped calibration, on ring)" in verdict.evidence
        doc["datasets"] = {}
        path.write_text(json.dumps(doc))
        null_rates.shipped.cache_clear()
        verdict = only(evaluate(one, rules(event_rate=None)), "events:mode_collapse")
        assert verdict.status == SEEN and "(50 of 100 runs; a shipped calibration)" in verdict.evidence
    finally:
        null_rates.shipped.cache_clear()


def test_what_a_build_can_decide_at_its_seeds():
    """The power statement ``ganbench check`` opens with: at one seed against a flat 10 % the rate rules cannot
    fail; against 0.25 % one seed fails them; at 16 seeds against 10 %, 5 seeds must show it."""
    one = dict(reach(rules(), 1, "ring"))
    assert one["events:mode_collapse"].startswith("cannot fail at 1 seeds")
    measured = NullRates("m", {"mode_collapse": (0, 200), "not_learned": (0, 200)})
    assert dict(reach(rules(event_rate=None, null_rates=measured), 1, "ring"))["learning"].startswith(
        "fails when >= 1 of 1 seeds show it")
    sixteen = dict(reach(rules(), 16, "ring"))["events:mode_collapse"]
    assert sixteen.startswith("fails when >= 5 of 16 seeds") and "38% of seeds with 80% power" in sixteen


def test_runs_that_did_not_learn_fail_the_learning_rule_without_a_baseline():
    """Every seed 'not converged' (no evaluation put a fifth of the samples on a mode): P = 0.1^4 < alpha."""
    stuck = results({"mode_coverage": [0.0] * 4, "high_quality": [0.05] * 4})
    verdict = only(evaluate(stuck, rules()), "learning")
    assert verdict.status == FAIL and "4 of 4 seeds did not learn" in verdict.evidence
    assert f"p = {0.1 ** 4:.3g}" in verdict.evidence
    relaxed = only(evaluate(stuck, rules(require_learning=False)), "learning")
    assert relaxed.status == PASS and "not required" in relaxed.evidence
    learned = results({"mode_coverage": [1.0] * 4, "high_quality": [0.9] * 4})
    assert only(evaluate(learned, rules()), "learning").status == PASS


def test_runs_that_stop_learning_where_the_baseline_learned_fail_by_fishers_test():
    base = from_results(results({"mode_coverage": [1.0] * 4, "high_quality": [0.9] * 4}))
    assert base.events["v", "ring"]["not_learned"] == 0
    stuck = results({"mode_coverage": [0.0] * 4, "high_quality": [0.05] * 4})
    verdict = only(evaluate(stuck, rules(require_learning=False), base), "learning")
    # [[4, 0], [0, 4]] one-sided: 1 / C(8, 4)
    assert verdict.status == FAIL and f"p = {1 / math.comb(8, 4):.3g}" in verdict.evidence
    # a baseline that did not learn either: the same runs are no evidence of a change
    stuck_base = from_results(stuck)
    assert only(evaluate(stuck, rules(), stuck_base), "learning").status != FAIL


def test_stalled_generator_and_pinned_discriminator_are_default_gate_events():
    from ganbench.diagnostics import event_kinds
    from ganbench.evidence.gate import DEFAULT_FAIL_ON

    kinds = event_kinds()
    assert {"generator_stalled", "d_pinned"} <= set(DEFAULT_FAIL_ON)
    assert kinds["generator_stalled"].nonconvergence and kinds["d_pinned"].nonconvergence


def test_the_report_states_the_gates_regression_test_on_the_same_pair():
    """The report's baseline table is the gate's regression rule, at the suite's alpha and tolerance: a pair the
    gate fails is called regressed, a pair it passes is not called significant either way."""
    from ganbench.report.tables import baseline_deltas

    gate = rules(regression={"mode_coverage": Tolerance(abs=0.1)}, alpha=0.01)
    base = results({"mode_coverage": [0.90, 0.92, 0.88, 0.95, 0.91, 0.89, 0.93, 0.94]})
    cases = {  # final coverages now -> (gate's status, the report's reading)
        "much worse": ([0.50, 0.55, 0.45, 0.60, 0.52, 0.48, 0.58, 0.51], FAIL, "regressed"),
        # the median dropped past the tolerance, but two seeds still beat the baseline: p = 0.0104 >= 0.01
        "worse, not significantly": ([0.50, 0.55, 0.45, 0.60, 0.52, 0.48, 0.96, 0.97], SEEN, "no clear change"),
        "within tolerance": ([0.85, 0.86, 0.84, 0.83, 0.87, 0.82, 0.88, 0.81], PASS, "no clear change"),
    }
    for name, (now, status, change) in cases.items():
        found = results({"mode_coverage": now})
        verdict = only(evaluate(found, gate, from_results(base)), "regression:mode_coverage")
        row = baseline_deltas(found, base, gate).set_index("metric").loc["mode_coverage"]
        assert (verdict.status, row.change) == (status, change), name
        assert f"p = {row.p_worse:.3g}" in verdict.evidence or status == PASS and row.change == "no clear change"
    # the mirror image is an improvement, by the same test in the other direction
    row = baseline_deltas(base, results({"mode_coverage": cases["much worse"][0]}), gate).set_index("metric")
    assert row.loc["mode_coverage", "change"] == "improved"


def test_a_baseline_measured_differently_is_not_compared_by_the_report_either():
    from ganbench.report.tables import baseline_deltas

    other = {**CONFIG, "spec": {**CONFIG["spec"], "train": {"eval_samples": 2500, "steps": 500}}}
    base = results({"mode_coverage": [0.9] * 8}, config=other)
    now = results({"mode_coverage": [0.1] * 8})
    assert only(evaluate(now, rules(regression={"mode_coverage": Tolerance(abs=0.1)}), from_results(base)),
                "baseline").status == NOT_COMPARABLE
    assert set(baseline_deltas(now, base, rules()).change) == {"not comparable"}


def test_null_rates_pool_by_adding_counts_per_kind_and_dataset():
    from ganbench.evidence.null_rates import pooled

    a = NullRates("a", {"mode_collapse": (1, 10)}, {"ring": {"mode_collapse": (1, 10)}})
    b = NullRates("b", {"mode_collapse": (0, 5), "not_learned": (2, 5)}, {"digits": {"not_learned": (2, 5)}})
    both = pooled([a, b], "both")
    assert both.counts == {"mode_collapse": (1, 15), "not_learned": (2, 5)}
    assert both.datasets == {"ring": {"mode_collapse": (1, 10)}, "digits": {"not_learned": (2, 5)}}
    assert both.get("not_learned", "ring").k == 2 and both.get("not_learned", "digits").source == "both, on digits"
