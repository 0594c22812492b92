"""Equal-budget sweeps: expansion, honest selection, the expected-max curve, the report and the gate."""

from __future__ import annotations

import json
import math

import pytest
import yaml

from ganbench.errors import GanbenchError
from ganbench.evidence.statistics import expected_max
from ganbench.execution.runner import run_suite
from ganbench.results import load_results
from ganbench.spec.suite import parse_suite
from tests.conftest import tiny_suite

SWEEP = {"trials": 3, "selection_seeds": 2,
         "space": {"d_lr": {"log_uniform": [1.0e-4, 2.0e-3]}, "n_critic": [1, 2]},
         "variants": {"wgan-gp": {"regularizer_weight": {"log_uniform": [0.1, 10.0]}}}}


def swept(**overrides) -> dict:
    return tiny_suite(variants=["nonsaturating", "wgan-gp"], seeds=2, sweep={**SWEEP, **overrides})


def trials_of(doc) -> list[tuple[str, str, dict]]:
    return [(t.name, t.variant, t.settings) for t in parse_suite(doc).trials()]


def test_the_same_sweep_expands_to_the_same_trials_with_equal_counts():
    first, again = trials_of(swept()), trials_of(yaml.safe_load(yaml.safe_dump(swept())))
    assert first == again
    assert [v for _, v, _ in first].count("nonsaturating") == [v for _, v, _ in first].count("wgan-gp") == 3
    assert all("regularizer_weight" in s for _, v, s in first if v == "wgan-gp")
    assert first[0][0].startswith("nonsaturating.t00.dlr")  # the name shows what was set
    assert trials_of(swept(seed=1)) != first


def test_a_grid_gives_every_variant_its_points_and_refuses_unequal_budgets():
    doc = swept(method="grid", space={"d_lr": [1.0e-4, 1.0e-3], "n_critic": [1, 2]}, variants={})
    doc.pop("trials", None)
    del doc["sweep"]["trials"]
    trials = trials_of(doc)
    assert len(trials) == 8 and {s["n_critic"] for _, _, s in trials} == {1, 2}
    doc["sweep"]["variants"] = {"wgan-gp": {"regularizer_weight": [1.0, 10.0]}}
    with pytest.raises(GanbenchError, match="unequal budgets: nonsaturating 4, wgan-gp 8"):
        parse_suite(doc)


def test_sobol_trials_cover_every_stratum_of_each_axis_and_stay_reproducible():
    doc = swept(method="sobol", trials=8, space={"d_lr": {"log_uniform": [1.0e-4, 1.0e-2]}, "n_critic": [1, 2]},
                variants={})
    trials = trials_of(doc)
    assert trials == trials_of(yaml.safe_load(yaml.safe_dump(doc)))
    for variant in ("nonsaturating", "wgan-gp"):
        settings = [s for _, v, s in trials if v == variant]
        # a balanced Sobol set of 8 puts exactly one point in each eighth of every axis (log scale for d_lr)
        eighths = sorted(int(8 * math.log(s["d_lr"] / 1.0e-4) / math.log(100)) for s in settings)
        assert eighths == list(range(8))
        assert [s["n_critic"] for s in settings].count(1) == 4
    assert trials_of(swept(method="sobol", trials=8, seed=1)) != trials_of(swept(method="sobol", trials=8))


@pytest.mark.parametrize("sweep, message", [
    ({"trials": 3, "space": {"d_lrr": [1.0]}}, "unknown key 'd_lrr'"),
    ({"trials": 3, "space": {"d_lr": {"normal": [0, 1]}}}, "sweep.space.d_lr: give a list of values or one of"),
    ({"trials": 3, "space": {"d_lr": {"log_uniform": [0, 1]}}}, "need 0 < low < high for log_uniform"),
    ({"space": {"d_lr": {"log_uniform": [1e-4, 1e-3]}}}, "sweep.trials: how many random trials"),
    ({"trials": 3, "space": {"n_critic": [0, 1]}}, "n_critic"),
    ({"trials": 6, "method": "sobol", "space": {"d_lr": [1e-3]}}, "powers of 2 (4, 8, 16, ...), not 6"),
    ({"trials": 3, "space": {"d_lr": [1e-3]}, "selection_seeds": [0, 5]}, "overlap at [0]"),
    ({"trials": 3, "space": {"d_lr": [1e-3]}, "variants": {"lsgan": {"d_lr": [1e-3]}}}, "sweep.variants.lsgan"),
])
def test_bad_sweep_input_is_one_line_naming_the_field(sweep, message, write_suite, invoke):
    result = invoke("run", write_suite(tiny_suite(variants=["nonsaturating"], seeds=2, sweep=sweep)))
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_expected_max_by_hand():
    scores = [0.2, 0.9, 0.5, 0.4]
    assert expected_max(scores, 1)[0] == pytest.approx(0.5)  # the mean
    assert expected_max(scores, 4) == pytest.approx((0.9, 0.0))  # the observed best
    # k = 2 over the six pairs: maxima 0.4 0.5 0.9 0.5 0.9 0.9 -> mean 4.1 / 6
    mean, var = expected_max(scores, 2)
    maxima = [0.4, 0.5, 0.9, 0.5, 0.9, 0.9]
    assert mean == pytest.approx(sum(maxima) / 6)
    assert var == pytest.approx(sum(m * m for m in maxima) / 6 - (sum(maxima) / 6) ** 2)
    with pytest.raises(ValueError):
        expected_max(scores, 5)


@pytest.mark.parametrize("executor", ["sequential", "processes"])
def test_a_sweep_chooses_on_selection_seeds_and_scores_on_fresh_ones(tmp_path, executor, invoke):
    doc = swept()
    doc["train"] = {**doc["train"], "ensemble": True}
    doc["check"] = {"require_learning": False}  # at this tiny budget no winner learns the ring
    result = run_suite(parse_suite(doc), out=tmp_path, executor=executor, workers=2)
    assert all(r["status"] == "completed" for r in result.runs)
    sweep = json.loads((result.root / "sweep.json").read_text())
    everything = load_results(result.root, trials=True).runs
    trial_names = {t["name"] for v in sweep["variants"].values() for t in v["trials"]}
    trial_runs = everything[everything.variant.isin(trial_names)]
    assert len(trial_runs) == 2 * 3 * 2 and set(trial_runs.seed) == set(sweep["selection_seeds"]) == {2, 3}
    headline = load_results(result.root)  # what report and check read: the winners only
    assert set(headline.runs.variant) == {"nonsaturating", "wgan-gp"} and set(headline.runs.seed) == {0, 1}
    assert not set(sweep["selection_seeds"]) & set(sweep["reporting_seeds"])
    for variant, info in sweep["variants"].items():
        assert info["best"] in {t["name"] for t in info["trials"]} and info["best"].startswith(variant + ".t")
        config = next(c for c in headline.configs.values() if c["spec"]["variant"] == variant)
        assert config["spec"]["recipe"]["description"] == f"best of 3 trials: {info['best']}"
    assert [t["name"] for t in sweep["variants"]["wgan-gp"]["trials"]] == [n for n, v, _ in trials_of(doc)
                                                                          if v == "wgan-gp"]
    report = invoke("report", str(result.root))
    text = (result.root / "report" / "report.md").read_text()
    assert report.exit_code == 0 and "## Equal-budget sweep" in text and "best trial" in text
    assert "img/sweep-expected-max.png" in text and "img/sweep-trials.png" in text
    check = invoke("check", str(result.root))
    assert check.exit_code == 0 and ".t0" not in check.output  # trials are not gated; winners are


def test_rerunning_a_sweep_skips_everything_done(tmp_path):
    suite = parse_suite(swept())
    first = run_suite(suite, out=tmp_path)
    sweep = (first.root / "sweep.json").read_text()
    again = run_suite(suite, out=tmp_path)
    assert [r["id"] for r in again.runs] == [r["id"] for r in first.runs]
    assert (first.root / "sweep.json").read_text() == sweep
    assert not math.isnan(len(again.runs))
