"""Fréchet distance (Heusel et al. 2017) and KID (Binkowski et al. 2018) as torchmetrics computes them, with the
feature extractor of the dataset's domain. Values from different feature spaces do not compare: the run's
config names the space."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from ganbench.meta import MetricInfo
from ganbench.metrics.base import COLLECTORS, Collector, EvalContext


class Coordinates(nn.Module):
    """Raw coordinates as features, for low-dimensional data: (N, *shape) -> (N, prod(shape)) in float64."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features  # torchmetrics reads this instead of running a dummy forward

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(1).double()  # float64, so torchmetrics keeps the result in double precision


def feature_extractor(dataset, device: torch.device) -> tuple[nn.Module, str]:
    """The dataset's own FID features on ``device`` when it has them, otherwise its raw coordinates."""
    own = getattr(dataset, "fid_features", None)
    if own is not None:
        features, space = own(device)
        return features.to(device), space  # a no-op for the built-in datasets; a plugin's may come on the CPU
    return Coordinates(math.prod(dataset.sample_shape)), "coordinates"


def fake_features(ctx: EvalContext, features: nn.Module, space: str) -> Tensor:
    """The generated samples' features in ``space``, extracted once per evaluation for every collector reading
    that space (FID, KID, precision/recall, density/coverage)."""
    key = ("fake features", space)
    if key not in ctx.shared:
        ctx.shared[key] = features(ctx.fake)
    return ctx.shared[key]


def gaussian(features: Tensor) -> tuple[Tensor, Tensor]:
    """Mean (F,) and unbiased covariance (F, F) of features (N, F), in float64."""
    features = features.double()
    return features.mean(dim=0), torch.atleast_2d(torch.cov(features.T))


def frechet_distance(mu1: Tensor, sigma1: Tensor, mu2: Tensor, sigma2: Tensor) -> float:
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)) (Heusel et al. 2017, eq. 6), the trace of the matrix square
    root taken as the sum of the square roots of the eigenvalues of S1 S2 -- the formula torchmetrics uses, to
    which the tests hold this one. Computed here rather than through torchmetrics because importing torchmetrics
    pulls in torch._inductor: 2.2 s of every training process, a seventh of a short run."""
    trace_sqrt = torch.linalg.eigvals(sigma1 @ sigma2).sqrt().real.sum()
    return float((mu1 - mu2).square().sum() + sigma1.trace() + sigma2.trace() - 2 * trace_sqrt)


_real_cache: dict[tuple[str, str], tuple[Tensor, Tensor]] = {}  # (real_key, feature space) -> real mean, cov


@COLLECTORS.register("fid")
class FID(Collector):
    """``fid`` between the fixed evaluation samples and the fixed real samples. Real statistics are
    computed once per dataset, parameters and seed in a process (every variant with that seed reuses them)."""

    metrics = (MetricInfo("fid", "Fréchet distance of Gaussians fitted to real and generated features: compares "
                                 "two moments only (a blurred ring has the ring's mean and covariance)",
                          False, 3, True),)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.features, self.feature_space = feature_extractor(self.dataset, self.device)
        self._real_stats: tuple[Tensor, Tensor] | None = None  # kept across this run's evaluations

    @torch.no_grad()
    def _real(self, ctx: EvalContext) -> tuple[Tensor, Tensor]:
        if self._real_stats is None:
            key = (ctx.real_key, self.feature_space)
            if ctx.real_key and key in _real_cache:
                stats = _real_cache[key]
            else:
                stats = gaussian(self.features(ctx.real))
                if ctx.real_key:
                    _real_cache[key] = tuple(t.cpu() for t in stats)
            self._real_stats = tuple(t.to(self.device) for t in stats)
        return self._real_stats

    @torch.no_grad()
    def evaluate(self, ctx: EvalContext) -> dict[str, float]:
        if not torch.isfinite(ctx.fake).all():
            return {"fid": float("nan")}
        fake = fake_features(ctx, self.features, self.feature_space)
        return {"fid": frechet_distance(*gaussian(fake), *self._real(ctx))}

    def describe(self) -> dict[str, Any]:
        return {"fid": {"feature_space": self.feature_space, "implementation": "ganbench.metrics.fid "
                        "(torchmetrics' formula, checked against it in the tests)"}}


def kid_subsets(real: Tensor, fake: Tensor, subsets: int, size: int, seed: int = 0) -> Tensor:
    """(subsets,) unbiased MMD^2 estimates with the cubic polynomial kernel (x.y / d + 1)^3 (Binkowski et al.
    2018), each on ``size`` random real and fake rows; the draws come from a generator seeded ``seed``, in the
    order torchmetrics' KernelInceptionDistance draws them from the global RNG (the tests hold the two equal)."""
    order = torch.Generator().manual_seed(seed)
    kernel = lambda a, b: (a @ b.T / a.shape[1] + 1) ** 3  # noqa: E731
    scores = []
    for _ in range(subsets):
        x = real[torch.randperm(len(real), generator=order)[:size]]
        y = fake[torch.randperm(len(fake), generator=order)[:size]]
        k_xx, k_yy, k_xy = kernel(x, x), kernel(y, y), kernel(x, y)
        within = (k_xx.sum() - k_xx.diag().sum() + k_yy.sum() - k_yy.diag().sum()) / (size * (size - 1))
        scores.append(within - 2 * k_xy.sum() / size**2)
    return torch.stack(scores)


@COLLECTORS.register("kid")
class KID(Collector):
    """``kid`` (Binkowski et al. 2018, unbiased MMD with a cubic polynomial kernel) in the same feature space
    as FID, averaged over ``subsets`` random subsets; ``kid_std`` is their spread. Subsets are drawn from a
    fixed seed, so KID is as reproducible as everything else. Computed here for the same reason as FID, and
    held to torchmetrics' KernelInceptionDistance in the tests."""

    subsets = 10
    subset_size = 500  # kernel cost grows with subsets x size^2: 10 x 500 keeps an evaluation cheap
    metrics = (MetricInfo("kid", "kernel inception distance: unbiased MMD^2, cubic polynomial kernel", False, 4, True),
               MetricInfo("kid_std", "spread of kid over its random subsets", None, None, True))

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.features, self.feature_space = feature_extractor(self.dataset, self.device)
        self._real: Tensor | None = None  # the fixed real samples' features, kept across this run's evaluations

    @torch.no_grad()
    def evaluate(self, ctx: EvalContext) -> dict[str, float]:
        if not torch.isfinite(ctx.fake).all():
            return {"kid": float("nan")}
        if self._real is None:
            self._real = self.features(ctx.real).double()
        fake = fake_features(ctx, self.features, self.feature_space).double()
        scores = kid_subsets(self._real, fake, self.subsets, min(self.subset_size, len(fake), len(self._real)))
        return {"kid": float(scores.mean()), "kid_std": float(scores.std(unbiased=False))}

    def describe(self) -> dict[str, Any]:
        return {"kid": {"feature_space": self.feature_space, "subsets": self.subsets,
                        "subset_size": self.subset_size}}
