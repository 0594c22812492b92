"""Mode coverage on data with known modes (ring, grid), as in VEEGAN (Srivastava et al. 2017) and
PacGAN (Lin et al. 2018): each sample is assigned to its nearest mode; it is *high quality* when it lies
within ``quality_std`` standard deviations of that mode; a mode is *covered* when it holds at least
``min_share`` of the high-quality samples a uniform generator would put there."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from ganbench.metrics.base import COLLECTORS, Collector, EvalContext


def mode_statistics(samples: Tensor, modes: Tensor, std: float, quality_std: float = 3.0,
                    min_share: float = 0.2) -> dict[str, Any]:
    """samples (N, D), modes (K, D) -> coverage statistics and the per-mode counts of high-quality samples."""
    samples = samples.flatten(1).double()
    modes = modes.flatten(1).double().to(samples.device)
    n, k = samples.shape[0], modes.shape[0]
    dist, nearest = torch.cdist(samples, modes).min(dim=1)  # (N,), (N,)
    finite = torch.isfinite(samples).all(dim=1)
    good = finite & (dist <= quality_std * std)
    counts = torch.bincount(nearest[good], minlength=k).double()  # (K,)
    covered = counts >= min_share * n / k
    total = counts.sum()
    if total > 0:
        p = counts / total
        nz = p > 0
        mode_kl = float((p[nz] * (p[nz] * k).log()).sum())  # KL(p || uniform) = sum p log(p K)
        dominant = int(counts.argmax())
        dominant_share = float(p.max())
    else:  # no sample is near any mode: the histogram is undefined
        mode_kl, dominant, dominant_share = math.nan, -1, math.nan
    return {
        "modes_covered": float(covered.sum()),
        "mode_coverage": float(covered.double().mean()),
        "high_quality": float(good.double().mean()),
        "mode_kl": mode_kl,
        "dominant_mode": float(dominant),
        "dominant_mode_share": dominant_share,
        "counts": counts.cpu(),
    }


@COLLECTORS.register("mode_coverage")
class ModeCoverage(Collector):
    """modes_covered, mode_coverage, high_quality, mode_kl, dominant_mode(_share) and mode_share/<k>."""

    quality_std = 3.0
    min_share = 0.2

    def evaluate(self, ctx: EvalContext) -> dict[str, float]:
        if ctx.dataset.modes is None:
            return {}
        stats = mode_statistics(ctx.fake, ctx.dataset.modes, ctx.dataset.mode_std, self.quality_std, self.min_share)
        counts = stats.pop("counts")
        n = ctx.fake.shape[0]
        stats.update({f"mode_share/{i}": float(c) / n for i, c in enumerate(counts.tolist())})
        return stats

    def describe(self) -> dict[str, Any]:
        return {"mode_coverage": {"quality_std": self.quality_std, "min_share": self.min_share,
                                  "modes": None if self.dataset.modes is None else len(self.dataset.modes)}}
