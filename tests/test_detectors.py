"""Detectors on synthetic metric streams whose answer is known."""

import json

import numpy as np
import pandas as pd
import pytest

from ganbench.diagnostics import run_detectors


def stream(rows: dict[str, list[float]], steps: list[int]) -> pd.DataFrame:
    return pd.DataFrame([(s, name, float(v)) for name, values in rows.items() for s, v in zip(steps, values)],
                        columns=["step", "name", "value"])


def kinds(events):
    return [(e.kind, e.step) for e in events]


def healthy_steps(n=40):
    return list(range(10, 10 * n + 1, 10))


def test_d_overpowering_fires_where_d_wins_and_g_gradient_vanishes():
    steps = healthy_steps()
    acc = [0.7] * 20 + [1.0] * 20
    g = [1.0] * 20 + [0.01] * 20
    events = run_detectors(stream({"d_accuracy": acc, "grad_norm_g": g, "loss_d": [1] * 40, "loss_g": [1] * 40},
                                  steps))
    assert kinds(events) == [("d_overpowering", 210)]
    assert events[0].evidence["grad_norm_g_rel"] == pytest.approx(0.01)


def test_no_overpowering_evidence_over_a_zero_early_gradient():
    """A run that blew up at once: G's early gradient median is 0, so 'relative to it' means nothing."""
    steps = healthy_steps()
    g = [0.0] * 10 + [1e3] * 30
    events = run_detectors(stream({"d_accuracy": [1.0] * 40, "grad_norm_g": g}, steps))
    assert [e for e in events if e.kind == "d_overpowering"] == []


def test_d_winning_while_g_still_gets_gradient_is_not_overpowering():
    steps = healthy_steps()
    events = run_detectors(stream({"d_accuracy": [1.0] * 40, "grad_norm_g": [1.0] * 40}, steps))
    assert events == []


def test_a_two_evaluation_dip_is_not_collapse():
    steps = [250, 500, 750, 1000, 1250]
    assert run_detectors(stream({"mode_coverage": [0.5, 0.75, 0.5, 0.5, 0.75],
                                 "high_quality": [0.6] * 5}, steps)) == []


def test_short_blip_is_not_overpowering():
    steps = healthy_steps()
    acc = [0.7] * 20 + [1.0] * 3 + [0.7] * 17
    g = [1.0] * 20 + [0.01] * 3 + [1.0] * 17
    assert run_detectors(stream({"d_accuracy": acc, "grad_norm_g": g}, steps)) == []


def test_mode_collapse_sharp_but_concentrated():
    steps = [250, 500, 750, 1000, 1250]
    cov = [0.125, 0.125, 0.125, 0.125, 0.125]
    hq = [0.1, 0.6, 0.9, 0.9, 0.95]
    events = run_detectors(stream({"mode_coverage": cov, "high_quality": hq}, steps))
    assert kinds(events) == [("mode_collapse", 500)]
    assert events[0].evidence["reason"] == "sharp but concentrated"


def test_not_learned_yet_is_not_collapse():
    steps = [250, 500, 750, 1000]
    assert run_detectors(stream({"mode_coverage": [0, 0, 0, 0.125], "high_quality": [0, 0.01, 0.02, 0.05]},
                                steps)) == []


def test_still_spreading_is_not_collapse():
    steps = [250, 500, 750, 1000]
    events = run_detectors(stream({"mode_coverage": [0.125, 0.25, 0.375, 0.5],
                                   "high_quality": [0.8, 0.8, 0.8, 0.8]}, steps))
    assert events == []


def test_coverage_falling_from_its_peak_is_collapse():
    steps = [250, 500, 750, 1000, 1250, 1500]
    events = run_detectors(stream({"mode_coverage": [0.5, 1.0, 1.0, 0.25, 0.25, 0.375],
                                   "high_quality": [0.2, 0.3, 0.3, 0.1, 0.1, 0.1]}, steps))
    assert kinds(events) == [("mode_collapse", 1000)]
    assert events[0].evidence["reason"] == "coverage fell from its peak"


def test_divergence_at_first_nonfinite_or_exploding_loss():
    steps = [10, 20, 30, 40]
    events = run_detectors(stream({"loss_d": [1, 2, np.nan, 3], "loss_g": [1, 2, 3, 4]}, steps))
    assert kinds(events) == [("divergence", 30)]
    events = run_detectors(stream({"loss_d": [1, 2, 3, 4], "loss_g": [1, 5e6, np.inf, 4]}, steps))
    assert kinds(events) == [("divergence", 20)]
    assert json.dumps(events[0].to_json())  # evidence is valid JSON


def test_oscillation_when_dominant_mode_keeps_hopping():
    steps = [100, 200, 300, 400, 500, 600]
    events = run_detectors(stream({"dominant_mode": [0, 0, 3, 5, 1, 6], "high_quality": [0.8] * 6,
                                   "dominant_mode_share": [0.9] * 6}, steps))
    assert kinds(events) == [("oscillation", 200)]
    assert events[0].evidence["hops"] >= 3


def test_stable_dominant_mode_is_not_oscillation():
    steps = [100, 200, 300, 400, 500, 600]
    assert run_detectors(stream({"dominant_mode": [2] * 6, "dominant_mode_share": [0.9] * 6,
                                 "high_quality": [0.8] * 6}, steps)) == []


def test_hopping_between_a_few_lucky_samples_is_not_oscillation():
    steps = [100, 200, 300, 400, 500, 600]
    assert run_detectors(stream({"dominant_mode": [0, 0, 3, 5, 1, 6], "high_quality": [0.01] * 6,
                                 "dominant_mode_share": [1.0] * 6}, steps)) == []


def test_thresholds_are_overridable():
    steps = [250, 500, 750, 1000]
    rows = {"mode_coverage": [0.6] * 4, "high_quality": [0.9] * 4}
    assert run_detectors(stream(rows, steps)) == []
    events = run_detectors(stream(rows, steps), {"mode_collapse": {"coverage": 0.7}})
    assert kinds(events) == [("mode_collapse", 500)]
