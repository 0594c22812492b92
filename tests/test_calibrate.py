"""ganbench calibrate: disjoint seed sets, injected regressions, and the table, on a tiny suite."""

from __future__ import annotations

import pytest

from ganbench.calibrate import Injection, calibrate, parse_injection, seed_sets, table
from ganbench.errors import GanbenchError
from ganbench.suite import parse_suite
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
    assert calibration.clean.failing(strict=False) == 0  # nothing changed but the seeds
    text = table(calibration)
    assert "| events:divergence | 0/2 = 0%" in text and "| **whole gate** |" in text
    assert "| blowup |" in text
    with pytest.raises(GanbenchError, match="--sets"):
        calibrate(write_suite(doc), sets=0, out=tmp_path)
