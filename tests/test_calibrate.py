"""ganbench calibrate: disjoint seed sets, injected regressions, and the table, on a tiny suite."""

from __future__ import annotations

import pytest
import yaml

from ganbench.errors import GanbenchError
from ganbench.evidence.null_rates import parse_null_rates
from ganbench.execution.calibrate import Injection, calibrate, parse_injection, seed_sets, table
from ganbench.spec.suite import parse_suite
from tests.conftest import TINY_TRAIN, tiny_suite


def test_seed_sets_are_disjoint_and_as_large_as_the_suites():
    groups = seed_sets((0, 1, 2), 4)
    assert groups[0] == (0, 1, 2) and all(len(g) == 3 for g in groups)
    flat = [s for g in groups for s in g]
    assert len(flat) == len(set(flat)) == 15


def test_injections_scale_or_set_a_variants_axes():
    injection = parse_injection("d-harder: d_lr=x10, n_critic=5, optimizer=sgd")
    recipe = dict(parse_suite(tiny_suite()).variants)["nonsaturating"]
    assert injection.apply(recipe) == {"d_lr": pytest.approx(recipe.d_lr * 10), "n_critic": 5, "optimizer": "sgd"}
    assert Injection("x", {"n_critic": "x2.4"}).apply(recipe) == {"n_critic": 2}


@pytest.mark.parametrize("text, message", [
    ("no-colon", "expected NAME: AXIS=VALUE"),
    ("a: d_lr", "'d_lr' is not AXIS=VALUE"),
    ("a: optimizer=x2", "can be scaled"),
    ("a: d_lr=xfast", "not a factor"),
])
def test_bad_injections_name_the_problem(text, message, write_suite, invoke, tmp_path):
    result = invoke("calibrate", write_suite(tiny_suite()), "--inject", text, "--out", tmp_path)
    assert result.exit_code == 2 and message in result.output


def test_calibrate_counts_builds_against_the_baseline(write_suite, tmp_path):
    doc = tiny_suite(seeds=2, train={**TINY_TRAIN, "ensemble": True},
                     check={"fail_on": ["divergence"], "thresholds": {"mode_coverage": {"min": 0.0}}})
    blowup = parse_injection("blowup: d_lr=1.0e+3, g_lr=1.0e+3, optimizer=sgd")
    calibration = calibrate(write_suite(doc), sets=2, injections=[blowup], out=tmp_path)
    assert len(calibration.clean.builds) == 2 and len(calibration.injected[0].builds) == 2
    assert calibration.clean.failing(calibration.rules) == 0  # nothing changed but the seeds
    text = table(calibration)
    assert "| events:divergence | 0/2 = 0%" in text and "| **whole gate** |" in text
    assert "| blowup |" in text
    # the ladder: the 4 seeds after the baseline's as builds of 1, 2 and 4 seeds, checked without a baseline
    assert [(r.seeds, r.false_alarms, r.detections["blowup"]) for r in calibration.ladder] == [
        (1, (0, 4), (4, 4)), (2, (0, 2), (2, 2)), (4, (0, 1), (1, 1))]
    assert "| 1 | 0/4 = 0% [0%, 60%] | 4/4 = 100% [40%, 100%] |" in text
    assert "every injection caught in >= 90% of builds: 1" in text
    # the null rates of the 6 seed-only runs, as a block to paste into the suite
    assert calibration.null_rates.counts["divergence"] == (0, 6) and "null_rates:" in text
    pasted = yaml.safe_load(text[text.index("```yaml") + 7:text.rindex("```")])
    assert parse_null_rates(pasted["null_rates"]).counts == calibration.null_rates.counts
    with pytest.raises(GanbenchError, match="--sets"):
        calibrate(write_suite(doc), sets=0, out=tmp_path)


def test_graded_injections_give_the_smallest_effect_caught():
    from ganbench.evidence.gate import FAIL, PASS, Rules, Verdict
    from ganbench.execution.calibrate import Calibration, Scenario

    def scenario(name: str, failed: int, overrides: dict) -> Scenario:
        builds = [[Verdict("v", "ring", "learning", FAIL if b < failed else PASS, "")] for b in range(5)]
        return Scenario(name, builds, 1.0, overrides)

    injected = [scenario("d-x2", 1, {"d_lr": "x2"}), scenario("d-x5", 4, {"d_lr": "x5"}),
                scenario("d-x3", 3, {"d_lr": "x3"}), scenario("d-x10", 5, {"d_lr": "x10"}),
                scenario("g-x0.5", 0, {"g_lr": "x0.5"}), scenario("g-x0.1", 2, {"g_lr": "x0.1"}),
                scenario("both", 5, {"d_lr": "x10", "n_critic": 3})]  # two axes: not a step of a ladder
    text = table(Calibration("s", Rules(), 4, scenario("seed change only", 0, {}), injected))
    assert "Seeds per build" not in text  # no ladder without its runs
    power = text[text.index("Power"):]
    # d_lr: 1/5, 3/5, 4/5, 5/5 from x2 to x10; x5 is the weakest with 80 % there and above
    assert "| d_lr | ×2 | 1/5 = 20% [1%, 72%] | ×5 |" in power
    assert power.index("| d_lr | ×3 |") < power.index("| d_lr | ×5 |") < power.index("| d_lr | ×10 |")
    # g_lr scaled down: the weakest step is x0.5, and no step reaches 80 %
    assert "| g_lr | ×0.5 | 0/5 = 0% [0%, 52%] | none up to ×0.1 |" in power
    assert "both" not in power and "| both |" in text


def test_a_ladder_without_injections_claims_no_detection():
    """Without --inject the ladder measures false alarms only: its table has no empty detection column, and the
    fewest-seeds line does not say that every injection was caught."""
    from ganbench.evidence.gate import PASS, Rules, Verdict
    from ganbench.execution.calibrate import Calibration, Rung, Scenario

    clean = Scenario("seed change only", [[Verdict("v", "ring", "learning", PASS, "")]], 1.0, {})
    ladder = [Rung(1, (0, 160), {}), Rung(2, (0, 80), {}), Rung(4, (1, 40), {})]
    text = table(Calibration("s", Rules(), 16, clean, [], ladder=ladder))
    assert "| seeds | false alarms |\n|---|---|\n| 1 | 0/160 = 0% [0%, 2%] |\n" in text
    assert "every injection caught" not in text
    assert "Fewest seeds with false alarms <= 5%: 1. Detection not measured" in text


def test_the_ladder_judges_builds_by_rates_of_the_baseline_set_even_where_the_suite_has_its_own(write_suite, tmp_path):
    """A suite's null_rates may have been measured on the very seeds the ladder's builds train (ci.yaml's were):
    the ladder measures its rates on the baseline set alone. Here the suite claims no run ever fails to learn;
    5-step runs never learn, so by the suite's rates every one-seed build would fail."""
    doc = tiny_suite(seeds=2, train={**TINY_TRAIN, "ensemble": True},
                     check={"fail_on": ["divergence"], "null_rates": {"source": "a claim",
                                                                      "counts": {"not_learned": [0, 100000]}}})
    calibration = calibrate(write_suite(doc), sets=1, out=tmp_path)
    assert calibration.ladder[0].seeds == 1 and calibration.ladder[0].false_alarms == (0, 2)
