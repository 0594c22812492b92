"""The Dirac-GAN (Mescheder et al. 2018) gives the paper's answer: the unregularized GAN, WGAN and WGAN-GP do not
converge and the nonconvergence detector says so; zero-centred penalties and instance noise converge, clean."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ganbench.execution.runner import run_suite
from ganbench.results import load_results
from ganbench.spec.suite import parse_suite

SUITE = Path(__file__).parent.parent / "suites" / "papers" / "dirac.yaml"


@pytest.fixture(scope="module")
def dirac(tmp_path_factory):
    doc = yaml.safe_load(SUITE.read_text())
    doc["seeds"] = 1  # every method but instance noise is deterministic; the shipped suite runs 5 seeds
    root = run_suite(parse_suite(doc), out=tmp_path_factory.mktemp("dirac")).root
    return load_results(root)


def test_the_paper_answer(dirac):
    final = dirac.final(["equilibrium_distance"]).set_index("variant").equilibrium_distance
    events = dirac.events.groupby("variant").kind.apply(set).to_dict()
    for method in ("gan", "wgan", "wgan-gp"):  # circle the equilibrium (alternating steps)
        assert events.get(method) == {"nonconvergence"} and final[method] > 0.5
    for method in ("gan-r1-0.3", "gan-r1-1", "gan-r2-0.3", "gan-r2-1"):  # zero-centred penalties: fast
        assert method not in events and final[method] < 1e-3
    # on a linear D, R2 (on the samples) is R1's penalty: the same path to the equilibrium
    assert final["gan-r2-1"] == pytest.approx(final["gan-r1-1"], rel=1e-5, abs=1e-12)
    assert "gan-instance-noise" not in events and final["gan-instance-noise"] < 0.05  # slow, but converging


def test_the_detector_says_when_the_orbit_stopped_approaching(dirac):
    (event,) = dirac.events[dirac.events.variant == "gan"].itertuples()
    assert 0 < event.step < 100 and event.evidence["final_distance"] > event.evidence["closest"] * 0.9
    assert event.evidence["stalled_logged_steps"] >= 50


def test_the_suite_and_its_gate(dirac):
    from ganbench.evidence.gate import evaluate, rules_of

    rules = rules_of(dirac)
    verdicts = evaluate(dirac, rules)
    assert not any(rules.fails(v) for v in verdicts)  # one seed: nothing seen fails, and the orbit is allowed
    assert all(v.passed for v in verdicts if v.evidence.startswith("allowed") or v.rule == "runs")


def test_the_report_holds_each_method_against_the_paper(dirac):
    from ganbench.report import tables
    from ganbench.report.render import build_report

    rows = tables.reproduction(dirac).set_index("variant")
    assert set(rows.index) == {"gan", "wgan", "wgan-gp", "gan-r1-0.3", "gan-r1-1", "gan-r2-0.3", "gan-r2-1",
                               "gan-instance-noise"}
    assert (rows.steps == 500).all() and (rows.seeds == 1).all()
    assert rows.measured["gan-r1-1"] < 1e-5 and rows.measured["gan"] > 0.5
    assert set(rows.outcome) == {"inconclusive at these seeds"}  # one seed here; the shipped suite runs five
    assert "Reproduction" in build_report(dirac).markdown()


def test_the_methods_that_orbit_are_not_converged_in_the_ranking(dirac):
    from ganbench.report import tables

    rank = tables.ranking(tables.final_metrics(dirac), tables.event_rates(dirac), dirac.metric_info())
    states = dict(zip(rank.variant, rank.state))
    assert {states[m] for m in ("gan", "wgan", "wgan-gp")} == {"not converged"}
    assert {states[m] for m in ("gan-r1-0.3", "gan-r1-1", "gan-r2-0.3", "gan-r2-1", "gan-instance-noise")} == {
        "healthy"}
    assert "orbit the equilibrium" in rank.set_index("variant").summary["gan"]
