"""Sliced Wasserstein: known answers, POT as the reference implementation, and the blurred ring that FID
cannot tell from the real one."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from ganbench.data import make_dataset
from ganbench.metrics import EvalContext, metric_catalog
from ganbench.metrics.distances import random_projections, sliced_wasserstein
from ganbench.recipes.objectives import make_objective
from ganbench.report import tables

CPU = torch.device("cpu")


def test_identical_sets_are_at_distance_zero():
    """0 up to rounding: the estimator has no bias between a set and itself (sorted projections coincide). Not
    exactly 0: a BLAS may take a row through another kernel (a tile's remainder) once the rows are reordered."""
    x = torch.randn(500, 3, generator=torch.Generator().manual_seed(1))
    order = torch.randperm(500, generator=torch.Generator().manual_seed(2))
    assert sliced_wasserstein(x, x, random_projections(3)) == 0.0
    assert sliced_wasserstein(x, x[order], random_projections(3)) == pytest.approx(0.0, abs=1e-15)


def test_point_masses_have_the_closed_form():
    # SW_1(delta_a, delta_b) = E_theta |<theta, a - b>| = |a - b| E|cos phi| = |a - b| 2 / pi  in 2-D
    a, b = torch.zeros(50, 2), torch.tensor([[3.0, 4.0]]).expand(50, 2)
    assert sliced_wasserstein(a, b, random_projections(2, 20000)) == pytest.approx(5 * 2 / math.pi, rel=0.01)


def test_matches_pot_on_the_same_projections():
    ot = pytest.importorskip("ot", reason="POT, the reference implementation, comes with the test extra")
    rng = torch.Generator().manual_seed(2)
    x, y = torch.randn(300, 5, generator=rng), 1.5 * torch.randn(300, 5, generator=rng) + 0.3
    theta = random_projections(5, 64)
    reference = ot.sliced_wasserstein_distance(x.double().numpy(), y.double().numpy(), projections=theta.numpy(),
                                               p=1)
    assert sliced_wasserstein(x, y, theta) == pytest.approx(float(reference), rel=1e-10)


def _evaluate(names: list[str], fake: torch.Tensor, real: torch.Tensor, ring) -> dict[str, float]:
    from ganbench.metrics import make_collectors

    values = {}
    for collector in make_collectors(tuple(names), ring, make_objective("nonsaturating", {}), CPU):
        values.update(collector.evaluate(EvalContext(1, fake, real, ring, "")))
    return values


def test_a_blurred_ring_loses_on_sliced_wasserstein_and_is_not_ranked_first():
    ring = make_dataset("ring", {})
    draw = lambda seed: ring.sample(2500, torch.Generator().manual_seed(seed))  # noqa: E731
    real = draw(0)
    names = ["fid", "sliced_wasserstein", "mode_coverage"]
    rows = []
    for seed in (1, 2, 3):
        fresh = _evaluate(names, draw(seed), real, ring)
        blurred = draw(seed) + 0.3 * torch.randn(2500, 2, generator=torch.Generator().manual_seed(10 + seed))
        blur = _evaluate(names, blurred, real, ring)
        assert blur["sliced_wasserstein"] > 3 * fresh["sliced_wasserstein"]
        rows += [{"variant": "fresh", "dataset": "ring", "seed": seed, **fresh},
                 {"variant": "blurred", "dataset": "ring", "seed": seed, **blur}]
    final = pd.DataFrame(rows)
    # FID in raw coordinates barely minds the blur (same mean, covariance + 0.09 I): that is the problem
    assert final[final.variant == "blurred"].fid.max() < 0.25
    rates = pd.DataFrame({"variant": ["fresh", "blurred"], "dataset": "ring", "seeds": 3, "collapse_rate": 0.0,
                          "instability_rate": 0.0, "d_overpowering_rate": 0.0, "mode_collapse_rate": 0.0,
                          "divergence_rate": 0.0, "time_to_collapse": np.nan, "failed": 0})
    catalog = metric_catalog()
    assert list(tables.ranking(final, rates, catalog).variant) == ["fresh", "blurred"]
    without_modes = final.drop(columns=["mode_coverage"])  # data with no known modes: the distance heads
    assert tables.primary_metric(without_modes, catalog) == "sliced_wasserstein"
    assert list(tables.ranking(without_modes, rates, catalog).variant) == ["fresh", "blurred"]
