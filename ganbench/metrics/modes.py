"""Mode coverage on data with known modes, as in VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018):
the dataset assigns each sample to a mode and says whether it is a *high-quality* member (2D mixtures:
within 3 standard deviations of the nearest centre; images: the domain classifier is confident); a mode
is *covered* when it holds at least ``min_share`` of the high-quality samples a uniform generator would put
there."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from ganbench.meta import MetricInfo
from ganbench.metrics.base import COLLECTORS, Collector, EvalContext


def assigned_modes(ctx: EvalContext) -> tuple[Tensor, Tensor]:
    """The dataset's ``assign_modes`` of the generated samples, computed once per evaluation for every collector
    that reads it (mode coverage, the conditional metrics): on images it is a classifier pass and a k-NN test."""
    key = ("assigned modes",)
    if key not in ctx.shared:
        ctx.shared[key] = ctx.dataset.assign_modes(ctx.fake)
    return ctx.shared[key]


def mode_statistics(nearest: Tensor, good: Tensor, k: int, min_share: float = 0.2) -> dict[str, Any]:
    """nearest (N,) mode index, good (N,) high-quality mask, K modes -> coverage statistics and the per-mode
    counts of high-quality samples."""
    n = nearest.shape[0]
    counts = torch.bincount(nearest[good].cpu(), minlength=k).double()  # (K,)
    covered = counts >= min_share * n / k
    total = counts.sum()
    if total > 0:
        p = counts / total
        nz = p > 0
        mode_kl = float((p[nz] * (p[nz] * k).log()).sum())  # KL(p || uniform) = sum p log(p K)
        dominant = int(counts.argmax())
        dominant_share = float(p.max())
    else:  # no high-quality sample: the histogram is undefined
        mode_kl, dominant, dominant_share = math.nan, -1, math.nan
    return {
        "modes_covered": float(covered.sum()),
        "modes_hit": float((counts > 0).sum()),
        "mode_coverage": float(covered.double().mean()),
        "high_quality": float(good.double().mean()),
        "mode_kl": mode_kl,
        "dominant_mode": float(dominant),
        "dominant_mode_share": dominant_share,
        "counts": counts,
    }


@COLLECTORS.register("mode_coverage")
class ModeCoverage(Collector):
    """modes_covered, mode_coverage, modes_hit, high_quality, mode_kl, dominant_mode(_share) and mode_share/<k>
    (the per-mode histogram, for up to ``max_histogram`` modes)."""

    min_share = 0.2
    max_histogram = 100
    metrics = (
        MetricInfo("mode_coverage", "share of the known modes covered by high-quality samples", True, 1, True),
        MetricInfo("modes_covered", "number of known modes covered by high-quality samples", True, None, True),
        MetricInfo("modes_hit", "number of known modes with at least one high-quality sample (PacGAN's count)",
                   True, None, True),
        MetricInfo("high_quality", "share of samples that are high-quality members of a mode", True, 5, True),
        MetricInfo("mode_kl", "KL divergence of the high-quality samples' mode histogram from uniform", False,
                   None, True),
        MetricInfo("dominant_mode", "the mode holding most high-quality samples", None, None, True),
        MetricInfo("dominant_mode_share", "share of high-quality samples on the dominant mode", None, None, True),
        MetricInfo("mode_share/*", "share of all samples that are high-quality members of this mode", None, None,
                   True))

    def evaluate(self, ctx: EvalContext) -> dict[str, float]:
        k = ctx.dataset.num_modes
        if k is None:
            return {}
        nearest, good = assigned_modes(ctx)
        stats = mode_statistics(nearest, good, k, self.min_share)
        counts = stats.pop("counts")
        if k <= self.max_histogram:
            n = ctx.fake.shape[0]
            stats.update({f"mode_share/{i}": float(c) / n for i, c in enumerate(counts.tolist())})
        return stats

    def describe(self) -> dict[str, Any]:
        return {"mode_coverage": {"min_share": self.min_share, "modes": self.dataset.num_modes}}
