"""Known-answer tests for every metric."""

import math

import numpy as np
import pytest
import scipy.linalg
import torch
from torch import nn

from ganbench.data import make_dataset
from ganbench.metrics import EvalContext, StepRecord
from ganbench.metrics.fid import FID, Coordinates
from ganbench.metrics.modes import mode_statistics
from ganbench.metrics.training import DOutputs, GradNorms
from ganbench.recipes.objectives import make_objective

CPU = torch.device("cpu")


def test_true_mixture_covers_every_mode_with_high_quality_near_analytic_value():
    ring = make_dataset("ring", {})
    samples = ring.sample(200_000, torch.Generator().manual_seed(0))
    stats = mode_statistics(*ring.assign_modes(samples), ring.num_modes)
    assert stats["modes_covered"] == 8 and stats["mode_coverage"] == 1.0
    # P(|N(0, s^2 I_2)| <= 3s) = 1 - exp(-9/2) for a 2D Gaussian (chi-square with 2 dof)
    assert stats["high_quality"] == pytest.approx(1 - math.exp(-4.5), abs=2e-3)
    assert stats["mode_kl"] == pytest.approx(0.0, abs=1e-3)


@pytest.mark.parametrize("dataset", ["ring", "grid"])
def test_one_mode_gives_coverage_one_over_k_and_kl_log_k(dataset):
    data = make_dataset(dataset, {})
    k = len(data.modes)
    samples = data.modes[3] + data.mode_std * torch.randn(5000, 2, generator=torch.Generator().manual_seed(1))
    stats = mode_statistics(*data.assign_modes(samples), k)
    assert stats["modes_covered"] == 1 and stats["mode_coverage"] == pytest.approx(1 / k)
    assert stats["mode_kl"] == pytest.approx(math.log(k))
    assert stats["dominant_mode"] == 3 and stats["dominant_mode_share"] == 1.0


def test_samples_far_from_every_mode_are_not_high_quality():
    ring = make_dataset("ring", {})
    stats = mode_statistics(*ring.assign_modes(torch.zeros(100, 2)), ring.num_modes)
    assert stats["high_quality"] == 0 and stats["mode_coverage"] == 0 and math.isnan(stats["mode_kl"])


def _fid(real: torch.Tensor, fake: torch.Tensor) -> float:
    data = make_dataset("ring", {})
    collector = FID(data, make_objective("nonsaturating", {}), CPU)
    return collector.evaluate(EvalContext(1, fake, real, data))["fid"]


def _reference_fid(x: np.ndarray, y: np.ndarray) -> float:
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def test_fid_matches_scipy_sqrtm_reference():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3000, 2, generator=g, dtype=torch.float64) @ torch.tensor([[1.0, 0.3], [0.0, 0.5]],
                                                                             dtype=torch.float64)
    y = torch.randn(3000, 2, generator=g, dtype=torch.float64) * 1.7 + 0.4
    assert _fid(x, y) == pytest.approx(_reference_fid(x.numpy(), y.numpy()), rel=1e-6)


@pytest.mark.parametrize("dim", [2, 16])
def test_fid_equals_torchmetrics_and_the_scipy_reference(dim):
    """ganbench computes FID itself (torchmetrics' import costs 2.2 s a process); it must give torchmetrics'
    number, which must agree with scipy's sqrtm."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    from ganbench.metrics.fid import frechet_distance, gaussian

    g = torch.Generator().manual_seed(2)
    x = torch.randn(500, dim, generator=g, dtype=torch.float64)
    y = torch.randn(500, dim, generator=g, dtype=torch.float64) @ torch.randn(dim, dim, generator=g,
                                                                              dtype=torch.float64) * 0.3
    metric = FrechetInceptionDistance(feature=Coordinates(dim))
    metric.update(x, real=True)
    metric.update(y, real=False)
    ours = frechet_distance(*gaussian(y), *gaussian(x))
    assert ours == pytest.approx(float(metric.compute()), rel=1e-9)
    assert ours == pytest.approx(_reference_fid(x.numpy(), y.numpy()), rel=1e-6)


def test_kid_equals_torchmetrics():
    """KID is computed here too (same reason as FID), with torchmetrics' subset draws."""
    from torchmetrics.image.kid import KernelInceptionDistance

    from ganbench.metrics.fid import kid_subsets

    g = torch.Generator().manual_seed(4)
    x = torch.randn(300, 8, generator=g, dtype=torch.float64)
    y = 1.3 * torch.randn(250, 8, generator=g, dtype=torch.float64) + 0.2
    metric = KernelInceptionDistance(feature=Coordinates(8), subsets=5, subset_size=100)
    metric.update(x, real=True)
    metric.update(y, real=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        mean, std = metric.compute()
    ours = kid_subsets(x, y, 5, 100)
    assert float(ours.mean()) == pytest.approx(float(mean), rel=1e-9)
    assert float(ours.std(unbiased=False)) == pytest.approx(float(std), rel=1e-9)


def test_fid_between_gaussians_matches_closed_form():
    # N(m1, s1^2 I) vs N(m2, s2^2 I) in d dims: |m1 - m2|^2 + d (s1 - s2)^2
    g = torch.Generator().manual_seed(3)
    x = torch.randn(400_000, 2, generator=g, dtype=torch.float64)
    y = 2.0 * torch.randn(400_000, 2, generator=g, dtype=torch.float64) + torch.tensor([1.0, -1.0],
                                                                                      dtype=torch.float64)
    assert _fid(x, y) == pytest.approx(2.0 + 2 * (1 - 2) ** 2, rel=1e-2)


def test_fid_keeps_real_statistics_across_evaluations():
    data = make_dataset("ring", {})
    collector = FID(data, make_objective("nonsaturating", {}), CPU)
    g = torch.Generator().manual_seed(4)
    real = torch.randn(500, 2, generator=g, dtype=torch.float64)
    first = collector.evaluate(EvalContext(1, real.clone(), real, data))["fid"]
    second = collector.evaluate(EvalContext(2, real + 1, real * 0 + 99, data))["fid"]  # real arg ignored now
    assert first == pytest.approx(0, abs=1e-8) and second == pytest.approx(2.0, rel=1e-6)


def _record(d: nn.Module, g: nn.Module, real_out, fake_out) -> StepRecord:
    return StepRecord(1, torch.tensor(1.0), torch.tensor(2.0), real_out, fake_out, d, g)


def test_d_outputs_probabilities_and_accuracy():
    collector = DOutputs(None, make_objective("nonsaturating", {}), CPU)
    real, fake = torch.tensor([[10.0], [-10.0]]), torch.tensor([[-10.0], [-10.0]])
    out = collector.on_step(_record(nn.Linear(1, 1), nn.Linear(1, 1), real, fake))
    assert float(out["d_real"]) == pytest.approx(0.5, abs=1e-4) and float(out["d_fake"]) == pytest.approx(0, abs=1e-4)
    assert float(out["d_accuracy"]) == pytest.approx(0.75)  # 1 of 2 real right, 2 of 2 fake right
    assert float(out["d_gap"]) == pytest.approx(0.5, abs=1e-4)
    raw = DOutputs(None, make_objective("wasserstein", {}), CPU).on_step(
        _record(nn.Linear(1, 1), nn.Linear(1, 1), real, fake))
    assert float(raw["d_real"]) == 0.0 and "d_gap" not in raw


def test_gradient_norms_are_total_l2_and_per_layer():
    d, g = nn.Linear(2, 1), nn.Linear(1, 1)
    d.weight.grad = torch.tensor([[3.0, 0.0]])
    d.bias.grad = torch.tensor([4.0])
    g.weight.grad, g.bias.grad = torch.tensor([[1.0]]), torch.tensor([0.0])
    record = _record(d, g, torch.zeros(2, 1), torch.zeros(2, 1))
    record.d_input_grad_real = torch.tensor([[3.0, 4.0], [0.0, 0.0]])
    record.d_input_grad_fake = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    out = GradNorms(None, None, CPU).on_step(record)
    assert float(out["grad_norm_d"]) == 5.0 and float(out["grad_norm_g"]) == 1.0
    assert float(out["grad_norm_d/weight"]) == 3.0 and float(out["grad_norm_d/bias"]) == 4.0
    assert float(out["grad_norm_d_input_real"]) == 2.5 and float(out["grad_norm_d_input_fake"]) == 1.0
    assert float(out["grad_norm_d_input"]) == 1.75


def test_trainer_input_gradient_is_dd_dx():
    """grad_norm_d_input from a run equals ||dD/dx|| recomputed by hand for a linear D."""
    from ganbench.spec.suite import parse_suite
    from ganbench.training.loop import SingleTrainer, build_run
    from tests.conftest import tiny_suite

    spec = parse_suite(tiny_suite(architecture={"name": "mlp", "width": 8, "depth": 0})).expand()[0]
    run = build_run(spec, CPU)
    weight = run.d.net[0].weight.detach().clone()  # D(x) = w x + b, so dD/dx = w for every sample
    _, _, _, (real_grad, fake_grad) = SingleTrainer([run]).d_step(input_grad=True)
    assert torch.allclose(real_grad, weight.expand_as(real_grad)) and torch.allclose(fake_grad, real_grad)


def test_fid_reuses_real_statistics_for_the_same_dataset_and_seed():
    from ganbench.metrics import fid as fid_module

    data = make_dataset("ring", {})
    g = torch.Generator().manual_seed(5)
    real = torch.randn(300, 2, generator=g, dtype=torch.float64)
    fake = torch.randn(300, 2, generator=g, dtype=torch.float64) + 1
    first = FID(data, make_objective("nonsaturating", {}), CPU).evaluate(EvalContext(1, fake, real, data, "k"))
    assert ("k", "coordinates") in fid_module._real_cache
    # a second run with the same key gets the cached statistics, even if handed other real samples
    second = FID(data, make_objective("nonsaturating", {}), CPU).evaluate(EvalContext(1, fake, real * 0, data, "k"))
    assert first == second


def test_modes_hit_counts_a_mode_from_one_high_quality_sample_where_coverage_asks_for_a_share():
    """PacGAN counts a mode as captured with any high-quality sample; mode_coverage asks for 20 % of a
    uniform generator's share. Three samples on mode 5 among 2500 on mode 0: hit, not covered."""
    ring = make_dataset("ring", {})
    samples = torch.cat([ring.modes[0].expand(2497, 2), ring.modes[5].expand(3, 2)])
    stats = mode_statistics(*ring.assign_modes(samples), ring.num_modes)
    assert stats["modes_hit"] == 2 and stats["modes_covered"] == 1
