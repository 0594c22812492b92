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
    assert events[0].evidence["collapse"] == "to a few modes"


def test_few_modes_needs_quality_at_every_evaluation_of_the_streak():
    """The boundary of the documented rule: high_quality >= quality at each of `patience` evaluations in a row.
    A run that touched 0.2 now and then (issue #51's healthy digits run: 0.167 / 0.198 / 0.230 / 0.183 / 0.196 /
    0.218 with coverage at most 0.4) is not collapsed; at exactly 0.2 three times in a row it is."""
    steps = [250, 500, 750, 1000, 1250, 1500]
    cov = [0.4, 0.4, 0.4, 0.3, 0.4, 0.3]
    assert run_detectors(stream({"mode_coverage": cov, "high_quality": [0.167, 0.198, 0.230, 0.183, 0.196, 0.218]},
                                steps)) == []
    events = run_detectors(stream({"mode_coverage": cov, "high_quality": [0.19, 0.2, 0.2, 0.2, 0.19, 0.19]}, steps))
    assert kinds(events) == [("mode_collapse", 500)]
    assert run_detectors(stream({"mode_coverage": cov, "high_quality": [0.19, 0.2, 0.2, 0.199, 0.2, 0.19]},
                                steps)) == []


@pytest.mark.parametrize("quality", [0.0, 0.05, 0.9])
def test_collapse_to_one_point_fires_sharp_or_blurred(quality):
    """G draws one picture for every latent (sample_spread ~ 0): collapsed whatever its samples' quality, from
    the first evaluation that shows it; the evidence names the kind."""
    steps = [250, 500, 750, 1000, 1250]
    rows = {"sample_spread": [0.9, 0.0, 0.0, 0.01, 0.0], "mode_coverage": [0.5, 0.0, 0.0, 0.0, 0.0],
            "high_quality": [0.3, quality, quality, quality, quality]}
    events = [e for e in run_detectors(stream(rows, steps)) if e.kind == "mode_collapse"]
    assert kinds(events) == [("mode_collapse", 500)]
    assert events[0].evidence["collapse"] == "to one point" and events[0].evidence["sample_spread"] == 0.01
    # without known modes or manifold metrics the spread alone decides
    assert kinds(run_detectors(stream({"sample_spread": rows["sample_spread"]}, steps))) == [("mode_collapse", 500)]


def test_a_tight_cluster_still_learning_is_not_one_point():
    """Healthy ring runs pass through a cluster a tenth of the data's spread or less early on (suites/ci.yaml's
    non-saturating seeds: 0.01-0.1 at steps 250-750) before they spread out: above a hundredth, not one point."""
    steps = [250, 500, 750, 1000]
    assert run_detectors(stream({"sample_spread": [0.039, 0.044, 0.095, 0.177]}, steps)) == []
    assert run_detectors(stream({"sample_spread": [0.9, 0.02, 0.011, 0.05]}, steps)) == []


def test_patience_counts_evaluations_at_least_eval_every_apart():
    """A tracked loop's closing evaluation two steps after the last periodic one replaces it: two evaluations
    showing a one-point collapse are not three."""
    rows = {"sample_spread": [0.9, 0.9, 0.9, 0.0, 0.0, 0.0]}
    assert run_detectors(stream(rows, [250, 500, 750, 1000, 1250, 1252])) == []
    assert kinds(run_detectors(stream(rows, [250, 500, 750, 1000, 1250, 1500]))) == [("mode_collapse", 1000)]
    far = {"sliced_wasserstein_rel": [0.2, 0.2, 0.2, 0.2, 0.9, 0.9], "sliced_wasserstein": [1, 2, 3, 4, 5, 6]}
    assert run_detectors(stream(far, [250, 500, 750, 1000, 1250, 1252])) == []


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
    assert events[0].evidence["collapse"] == "dropped modes"


def test_class_coverage_of_images_needs_recall_to_agree_before_it_is_collapse():
    """A varied digits G whose samples are not yet sharp: few pass the per-class quality test, so class coverage
    reads 0.4-0.5, while recall sees the data covered -- not collapse (the unlabelled benchmark's healthy seed 0).
    The same coverage with recall gone too is."""
    steps = [400, 500, 600, 700, 800, 900]
    cov, hq = [0.5, 0.5, 0.5, 0.4, 0.4, 0.6], [0.178, 0.205, 0.212, 0.206, 0.21, 0.198]
    assert kinds(run_detectors(stream({"mode_coverage": cov, "high_quality": hq}, steps))) == [("mode_collapse", 500)]
    varied = stream({"mode_coverage": cov, "high_quality": hq, "recall": [0.64, 0.73, 0.74, 0.77, 0.77, 0.82]}, steps)
    assert run_detectors(varied) == []
    lost = stream({"mode_coverage": cov, "high_quality": hq, "recall": [0.3, 0.2, 0.1, 0.1, 0.05, 0.05]}, steps)
    events = run_detectors(lost)
    assert kinds(events) == [("mode_collapse", 500)] and events[0].evidence["recall"] == 0.05


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


def test_a_stalled_generator_far_from_the_data_is_flagged_where_it_stopped_moving():
    evals = [250, 500, 750, 1000, 1250, 1500]
    sw = [0.90, 0.60, 0.601, 0.6012, 0.6011, 0.6013]  # moves once, then sits still
    events = run_detectors(stream({"sliced_wasserstein": sw, "sliced_wasserstein_rel": [0.95, 0.7, 0.7, 0.7, 0.7, 0.7],
                                   "sample_spread": [0.05] * 6}, evals))
    assert kinds(events) == [("generator_stalled", 500)]
    assert events[0].evidence["sliced_wasserstein_rel"] == pytest.approx(0.7)


def test_a_converged_generator_sits_still_close_to_the_data_and_is_not_stalled():
    evals = [250, 500, 750, 1000, 1250]
    events = run_detectors(stream({"sliced_wasserstein": [0.5, 0.1, 0.1, 0.1, 0.1],
                                   "sliced_wasserstein_rel": [0.8, 0.15, 0.15, 0.15, 0.15]}, evals))
    assert events == []


def test_a_generator_still_moving_far_from_the_data_is_not_stalled():
    evals = [250, 500, 750, 1000, 1250]
    events = run_detectors(stream({"sliced_wasserstein": [0.9, 0.85, 0.8, 0.76, 0.7],
                                   "sliced_wasserstein_rel": [0.9] * 5}, evals))
    assert "generator_stalled" not in {e.kind for e in events}  # (it ends far from the data: far_from_data)


def test_a_pinned_discriminator_answers_every_input_alike():
    steps = healthy_steps(10)
    std = [0.5, 0.4, 0.3] + [0.0] * 7  # D's outputs stop depending on the input at step 40
    events = run_detectors(stream({"d_out_std": std, "grad_norm_g": [0.3] * 10}, steps))
    assert kinds(events) == [("d_pinned", 40)] and events[0].evidence["d_out_std"] == 0.0


def test_no_gradient_reaching_g_is_its_own_kind_while_d_varies():
    """A dead G under a D whose outputs vary widely (issue #51: d_out_std 12) is not a pinned D."""
    steps = healthy_steps(10)
    events = run_detectors(stream({"d_out_std": [12.0] * 10, "grad_norm_g": [1.0] * 4 + [0.0] * 6,
                                   "d_accuracy": [1.0] * 10}, steps))
    assert kinds(events) == [("g_no_gradient", 50)]
    assert events[0].evidence == {"window": [50, 100], "grad_norm_g": 0.0, "d_out_std": 12.0, "d_accuracy": 1.0}


def test_a_short_flat_spell_does_not_pin_d():
    steps = healthy_steps(10)
    events = run_detectors(stream({"d_out_std": [0.5, 0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.5, 0.5],
                                   "grad_norm_g": [1.0] * 10}, steps))
    assert events == []


def test_a_blow_up_under_a_bounded_loss_is_divergence():
    """nn.BCELoss caps each term at 100: the loss stays bounded while the weights explode."""
    steps = healthy_steps(10)
    rms = [0.05, 0.06, 0.4, 3.0, 40.0, 300.0, 300.0, 300.0, 300.0, 300.0]
    events = run_detectors(stream({"loss_d": [1.3] * 4 + [50.0] * 6, "loss_g": [0.7] * 4 + [0.0] * 6,
                                   "param_rms_d": rms, "param_rms_g": [0.05] * 10}, steps))
    assert kinds(events) == [("divergence", 50)]  # the first past 100 x the first logged 0.05 and past rms 10
    assert events[0].evidence["metric"] == "param_rms_d" and events[0].evidence["value"] == 40.0


def test_parameters_that_grew_a_hundredfold_or_went_non_finite_are_divergence():
    steps = healthy_steps(5)
    grew = run_detectors(stream({"param_rms_g": [0.01, 0.02, 0.5, 1.2, 1.2]}, steps))
    assert kinds(grew) == [("divergence", 40)]  # 1.2 >= 100 x 0.01, though below rms 10
    nan = run_detectors(stream({"param_rms_d": [0.1, 0.1, float("nan"), 0.1, 0.1]}, steps))
    assert kinds(nan) == [("divergence", 30)]


def test_parameters_initialised_to_zero_have_not_blown_up():
    events = run_detectors(stream({"param_rms_d": [0.0, 0.0, 1e-3, 0.01, 0.02]}, healthy_steps(5)))
    assert events == []


def test_a_run_that_ends_far_from_the_data_is_flagged_from_its_final_far_streak():
    evals = [250, 500, 750, 1000, 1250]
    rel = [0.9, 0.6, 0.8, 0.95, 0.9]  # came closer, then drifted away for good
    events = run_detectors(stream({"sliced_wasserstein_rel": rel}, evals))
    assert kinds(events) == [("far_from_data", 750)] and events[0].evidence["evaluations_far"] == 3


def test_being_far_early_on_is_learning_not_failing():
    events = run_detectors(stream({"sliced_wasserstein_rel": [1.0, 0.9, 0.7, 0.3, 0.2]}, [1, 2, 3, 4, 5]))
    assert events == []
