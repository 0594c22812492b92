"""Fréchet distance (Heusel et al. 2017) through torchmetrics, with the feature extractor of the dataset's
domain. FIDs from different feature spaces do not compare: the run's config names the space."""

from __future__ import annotations

import math
import warnings
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
        return own(device)
    return Coordinates(math.prod(dataset.sample_shape)), "coordinates"


REAL_STATE = ("real_features_sum", "real_features_cov_sum", "real_features_num_samples")
_real_cache: dict[tuple[str, str], dict[str, Tensor]] = {}  # (real_key, feature space) -> torchmetrics' states


@COLLECTORS.register("fid")
class FID(Collector):
    """``fid`` between the fixed evaluation samples and the fixed real samples. Real statistics are
    computed once per dataset, parameters and seed in a process (every variant with that seed reuses them)
    and kept across evaluations."""

    metrics = (MetricInfo("fid", "Fréchet distance of Gaussians fitted to real and generated features: compares "
                                 "two moments only (a blurred ring has the ring's mean and covariance)",
                          False, 3, True),)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        from torchmetrics.image.fid import FrechetInceptionDistance  # torchmetrics takes ~2.5 s to import

        features, self.feature_space = feature_extractor(self.dataset, self.device)
        self.metric = FrechetInceptionDistance(feature=features, reset_real_features=False).to(self.device)
        self._real_seen = False

    def _load_real(self, ctx: EvalContext) -> None:
        key = (ctx.real_key, self.feature_space)
        if ctx.real_key and key in _real_cache:
            for name, value in _real_cache[key].items():
                setattr(self.metric, name, value.to(self.device).clone())
        else:
            self.metric.update(ctx.real, real=True)
            if ctx.real_key:
                _real_cache[key] = {n: getattr(self.metric, n).detach().cpu().clone() for n in REAL_STATE}
        self._real_seen = True

    def evaluate(self, ctx: EvalContext) -> dict[str, float]:
        if not self._real_seen:
            self._load_real(ctx)
        self.metric.reset()  # drops the previous evaluation's fake statistics, keeps the real ones
        if not torch.isfinite(ctx.fake).all():
            return {"fid": float("nan")}
        self.metric.update(ctx.fake, real=False)
        return {"fid": float(self.metric.compute())}

    def describe(self) -> dict[str, Any]:
        return {"fid": {"feature_space": self.feature_space, "implementation": "torchmetrics"}}


@COLLECTORS.register("kid")
class KID(Collector):
    """``kid`` (Binkowski et al. 2018, unbiased MMD with a cubic polynomial kernel) in the same feature space
    as FID, averaged over ``subsets`` random subsets; ``kid_std`` is their spread. Subsets are drawn from a
    fixed seed, so KID is as reproducible as everything else."""

    subsets = 10
    subset_size = 500  # kernel cost grows with subsets x size^2: 10 x 500 keeps an evaluation cheap
    metrics = (MetricInfo("kid", "kernel inception distance: unbiased MMD^2, cubic polynomial kernel", False, 4, True),
               MetricInfo("kid_std", "spread of kid over its random subsets", None, None, True))

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.features, self.feature_space = feature_extractor(self.dataset, self.device)

    def evaluate(self, ctx: EvalContext) -> dict[str, float]:
        if not torch.isfinite(ctx.fake).all():
            return {"kid": float("nan")}
        n = min(len(ctx.fake), len(ctx.real))
        from torchmetrics.image.kid import KernelInceptionDistance

        with warnings.catch_warnings():  # "KID keeps every feature in memory": known, and N is bounded here
            warnings.simplefilter("ignore", UserWarning)
            metric = KernelInceptionDistance(feature=self.features, subsets=self.subsets,
                                             subset_size=min(self.subset_size, n)).to(self.device)
        metric.update(ctx.real, real=True)
        metric.update(ctx.fake, real=False)
        with torch.random.fork_rng(devices=[]):  # torchmetrics draws subsets from the global RNG
            torch.manual_seed(0)
            mean, std = metric.compute()
        return {"kid": float(mean), "kid_std": float(std)}

    def describe(self) -> dict[str, Any]:
        return {"kid": {"feature_space": self.feature_space, "subsets": self.subsets,
                        "subset_size": self.subset_size}}
