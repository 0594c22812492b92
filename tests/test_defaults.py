"""Registered variants on the ring and the grid train with the settings equal-budget sweeps chose there
(recipes.variants.TUNED), unless a suite sets their rates; `show` and the report say which recipe ran where."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ganbench.catalog import VARIANTS
from ganbench.execution.calibrate import parse_injection
from ganbench.recipes import variants as registry
from ganbench.spec.suite import load_suite, parse_suite
from tests.conftest import tiny_suite

SUITES = Path(__file__).parent.parent / "suites"
RATES = {"d_lr": 3e-3, "g_lr": 1e-3, "lr_schedule": "linear", "lr_decay_start": 0.5}


@pytest.fixture
def tuned(monkeypatch):
    """lsgan's ring and grid rates set to RATES, whatever the sweeps chose: the rules below do not depend on them."""
    for data in ("ring", "grid"):
        monkeypatch.setitem(registry.TUNED, data, {**registry.TUNED[data], "lsgan": RATES})


def _recipes(suite, variant):
    return {spec.dataset.name: spec.recipe for spec in suite.expand() if spec.variant == variant}


def test_a_registered_name_on_2d_data_takes_the_tuned_rates_and_keeps_the_papers_elsewhere(tuned):
    suite = parse_suite(tiny_suite(datasets=["ring", "grid", "digits"], architecture=None, variants=["lsgan"]))
    on = _recipes(suite, "lsgan")
    for name in ("ring", "grid"):
        assert {axis: getattr(on[name], axis) for axis in RATES} == RATES
        assert f"on {name}: d_lr 0.003" in on[name].description
    assert on["digits"] == VARIANTS.get("lsgan")


def test_other_axes_compose_on_the_tuned_rates_and_any_rate_set_drops_them(tuned):
    suite = parse_suite(tiny_suite(variants=[
        {"name": "lsgan-nc2", "base": "lsgan", "n_critic": 2},
        {"name": "lsgan-own", "base": "lsgan", "d_lr": 1e-3},
        {"name": "lsgan-decay", "base": "lsgan", "lr_schedule": "cosine"}]))
    nc2 = _recipes(suite, "lsgan-nc2")["ring"]
    assert nc2.n_critic == 2 and nc2.d_lr == RATES["d_lr"] and nc2.lr_schedule == "linear"
    own = _recipes(suite, "lsgan-own")["ring"]
    assert own.d_lr == 1e-3 and own.g_lr == VARIANTS.get("lsgan").g_lr and own.lr_schedule == "constant"
    decay = _recipes(suite, "lsgan-decay")["ring"]
    assert decay.lr_schedule == "cosine" and decay.d_lr == VARIANTS.get("lsgan").d_lr


def test_a_sweep_over_rates_starts_from_the_papers_and_one_over_other_axes_from_the_tuned(tuned):
    doc = tiny_suite(variants=["lsgan"], seeds=[5], sweep={"trials": 2, "method": "random", "selection_seeds": [9]})
    rates = parse_suite({**doc, "sweep": {**doc["sweep"], "space": {"g_lr": [1e-4, 1e-3]}}})
    assert {spec.recipe.d_lr for spec in rates.expand()} == {VARIANTS.get("lsgan").d_lr}
    critic = parse_suite({**doc, "sweep": {**doc["sweep"], "space": {"n_critic": [1, 2]}}})
    assert {(spec.recipe.d_lr, spec.recipe.lr_schedule) for spec in critic.expand()} == {(3e-3, "linear")}
    assert {spec.recipe.d_lr for spec in critic.winners({"lsgan": critic.trials()[1]})} == {3e-3}


def test_the_shipped_suites_that_set_their_rates_train_as_before():
    """ci.yaml's null rates, quick.yaml's sweep winners and the papers' protocols were measured with these rates."""
    for name in ("ci", "quick", "papers/ring-grid"):
        suite = load_suite(SUITES / f"{name}.yaml")
        for spec in suite.expand():
            assert spec.recipe == dict(suite.variants)[spec.variant], (name, spec.variant)


def test_show_prints_the_tuned_rates_and_where_they_apply(tuned, invoke, write_suite):
    result = invoke("show", "lsgan")
    assert json.loads(result.stdout)["tuned"] == {"ring": RATES, "grid": RATES}
    assert "unless a suite sets any of d_lr, g_lr, lr_schedule, lr_decay_start" in result.stderr
    path = write_suite(tiny_suite(datasets=["ring", "digits"], architecture=None, variants=["lsgan"]))
    shown = json.loads(invoke("show", "lsgan", "--suite", path).stdout)
    assert shown["d_lr"] == VARIANTS.get("lsgan").d_lr and shown["tuned"] == {"ring": RATES}


def test_an_injection_scales_the_rates_a_variant_trains_with(tuned, write_suite):
    from ganbench.execution.calibrate import _injected

    suite = parse_suite(tiny_suite(variants=["lsgan"]))
    overrides = _injected(suite, "lsgan", parse_injection("faster-d: d_lr=x10"))
    assert overrides == {**RATES, "d_lr": pytest.approx(3e-2)}  # the decay stays: only D's rate changed
    mixed = parse_suite(tiny_suite(datasets=["ring", "digits"], architecture=None, variants=["lsgan"]))
    with pytest.raises(Exception, match="trains with other rates on each of the suite's datasets"):
        _injected(mixed, "lsgan", parse_injection("faster-d: d_lr=x10"))
    assert _injected(mixed, "lsgan", parse_injection("critic: n_critic=3")) == {"n_critic": 3}


def test_a_setting_tuned_with_other_axes_yields_to_the_suites_and_goes_whole_when_a_rate_is_set(monkeypatch):
    """A retuned setting may hold D steps per G step: the suite's own n_critic wins, and its rates drop it all."""
    setting = {**RATES, "n_critic": 5}
    monkeypatch.setitem(registry.TUNED, "ring", {**registry.TUNED["ring"], "sngan": setting})
    suite = parse_suite(tiny_suite(variants=["sngan", {"name": "sngan-nc2", "base": "sngan", "n_critic": 2},
                                             {"name": "sngan-own", "base": "sngan", "g_lr": 1e-3}]))
    tuned, nc2, own = (_recipes(suite, name)["ring"] for name in ("sngan", "sngan-nc2", "sngan-own"))
    assert (tuned.n_critic, tuned.d_lr, tuned.lr_schedule) == (5, RATES["d_lr"], "linear")
    assert (nc2.n_critic, nc2.d_lr) == (2, RATES["d_lr"])
    assert (own.n_critic, own.g_lr, own.d_lr) == (1, 1e-3, VARIANTS.get("sngan").d_lr)


def _trials(name: str) -> set[tuple[str, tuple]]:
    sweep = load_suite(SUITES / f"{name}.yaml")
    return {(t.variant, _setting(t.settings)) for t in sweep.trials()}


def _setting(axes: dict) -> tuple:
    """Hashable and as the recipe holds it: a pair of Adam betas is a tuple there, a list in the suite."""
    return tuple(sorted((k, tuple(x) if isinstance(x, list) else x) for k, x in axes.items()))


def test_every_tuned_setting_is_a_trial_of_the_sweep_that_chose_it():
    """The 2D rates are suites/sweep-defaults.yaml's winners; a dataset's retuned ones are its own sweep's: each is
    one of their trials, not a hand-set value."""
    sweep = load_suite(SUITES / "sweep-defaults.yaml")
    assert set(registry.RATES_2D) == set(VARIANTS) == {name for name, _ in sweep.variants}
    trials = _trials("sweep-defaults")
    for name, rates in registry.RATES_2D.items():
        assert (name, _setting(rates)) in trials, name
    for data, retuned in registry.RETUNED.items():  # a dataset's sweep, or a later round of it (-2)
        trials = set().union(*(_trials(path.stem) for path in SUITES.glob(f"sweep-defaults-{data}*.yaml")))
        for name, setting in retuned.items():
            assert (name, _setting(setting)) in trials, (data, name)
        assert registry.TUNED[data] == {**registry.RATES_2D, **retuned}


def test_the_sweeps_that_chose_the_defaults_use_seeds_no_other_suite_trains():
    import yaml

    from ganbench.spec.suite import _seeds

    def seeds(doc):
        used = set(_seeds(doc.get("seeds", 1)))
        chosen = (doc.get("sweep") or {}).get("selection_seeds", [])  # a count is numbered after the seeds
        return used | set(range(max(used) + 1, max(used) + 1 + chosen) if isinstance(chosen, int) else chosen)

    defaults = {path.stem: seeds(yaml.safe_load(path.read_text())) for path in SUITES.glob("sweep-defaults*.yaml")}
    assert len(defaults) == 5
    used = set().union(*defaults.values())
    for other in SUITES.rglob("*.yaml"):  # read without loading data sets
        if other.stem not in defaults:
            assert not used & seeds(yaml.safe_load(other.read_text())), other


def test_the_grid_trains_its_own_budget_unless_the_suite_sets_steps(invoke, write_suite):
    """At 2000 steps most registered variants never reach the grid's modes: a suite without train.steps gives it
    6000 (docs/variants.md), other data the suite default; a suite that sets steps trains every dataset that
    long, with the same run ids as before the grid had a budget of its own."""
    doc = {"name": "mine", "datasets": ["ring", "grid", "digits"], "variants": ["hinge"], "seeds": 1}
    steps = {spec.dataset.name: spec.train.steps for spec in parse_suite(doc).expand()}
    assert steps == {"ring": 2000, "grid": 6000, "digits": 2000}
    given = parse_suite({**doc, "train": {"steps": 2000}}).expand()
    assert {spec.train.steps for spec in given} == {2000}
    assert [given[0].run_id, given[2].run_id] == [parse_suite(doc).expand()[i].run_id for i in (0, 2)]
    assert [s.run_id for s in given] == [s.run_id for s in parse_suite(
        {**doc, "train": {"steps": 2000, "batch_size": 256}}).expand()]
    assert "grid               6000 steps unless the suite sets train.steps" in invoke("list", "datasets").stdout
    shown = json.loads(invoke("show", "hinge", "--suite", write_suite(doc)).stdout)
    assert shown["tuned"]["grid"]["steps"] == 6000 and "steps" not in shown["tuned"]["ring"]
    assert "steps" not in shown.get("tuned", {}).get("digits", {})
    assert "budget: grid 6000 steps" in invoke("show", "hinge").stderr


def test_the_sweeps_that_chose_the_defaults_train_their_datasets_budgets():
    """The 2D sweep set its 2000 steps before the grid had a budget of its own; the grid's own sweep trains 6000."""
    for name, steps in (("sweep-defaults", 2000), ("sweep-defaults-ring", 2000), ("sweep-defaults-ring-2", 2000),
                        ("sweep-defaults-grid", 6000), ("sweep-defaults-grid-2", 6000)):
        assert {spec.train.steps for spec in load_suite(SUITES / f"{name}.yaml").expand()} == {steps}, name
