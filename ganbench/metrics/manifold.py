"""Fidelity and diversity apart, on any feature space, from k-nearest-neighbour balls around samples:

- improved precision and recall (Kynkäänniemi et al. 2019): precision is the share of generated samples
  inside the real manifold (the union of balls reaching each real sample's k-th nearest real neighbour);
  recall is the share of real samples inside the generated manifold. Dropped modes lower recall, bad samples
  lower precision. Their k is 3.
- density and coverage (Naeem et al. 2020): density counts how many real balls hold each generated sample
  (/ k), so a few outliers near real outliers do not buy it as they buy precision; coverage is the share of
  real samples whose ball holds at least one generated sample -- mode coverage without class labels. Their
  k is 5.

Both in FID's feature space (coordinates for 2-D data, the domain classifier's features for images, Inception
from local weights), on the fixed evaluation samples against the fixed real samples. Computed here with
``torch.cdist`` on the run's device: the reference implementation (``prdc``, by Naeem et al.) prints on every
call, computes with numpy on the CPU and asks sklearn for 8 jobs; the tests hold this one to it on fixed sets.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganbench.meta import MetricInfo
from ganbench.metrics.base import COLLECTORS, Collector, EvalContext
from ganbench.metrics.fid import fake_features, feature_extractor


def knn_radii(distances: Tensor, k: int) -> Tensor:
    """(N,) from the pairwise distances (N, N) of a set: each sample's distance to its k-th nearest other one."""
    # the smallest is the row itself, at 0; topk is several times faster than kthvalue here
    return distances.topk(k + 1, dim=1, largest=False).values[:, -1]


def manifold_metrics(real: Tensor, fake: Tensor, k: int) -> dict[str, float]:
    """precision, recall, density and coverage of ``fake`` (M, F) against ``real`` (N, F) with k neighbours."""
    real, fake = real.double(), fake.double()
    return from_distances(torch.cdist(real, fake), torch.cdist(fake, fake), knn_radii(torch.cdist(real, real), k), k)


FOUR = ("precision", "recall", "density", "coverage")


def from_distances(real_fake: Tensor, fake_fake: Tensor | None, real_radii: Tensor, k: int,
                   names: tuple[str, ...] = FOUR) -> dict[str, float]:
    """``names`` of the four numbers from the distances real to fake (N, M) and fake to fake (M, M; only recall
    reads them), and the real samples' k-NN radii (N,)."""
    values = {}
    if "precision" in names or "density" in names:
        in_real_balls = real_fake < real_radii[:, None]  # fake j inside real i's ball
        if "precision" in names:
            values["precision"] = float(in_real_balls.any(dim=0).double().mean())
        if "density" in names:
            values["density"] = float(in_real_balls.sum(dim=0).double().mean() / k)
    if "recall" in names:
        fake_radii = knn_radii(fake_fake, k)
        values["recall"] = float((real_fake < fake_radii[None, :]).any(dim=1).double().mean())
    if "coverage" in names:
        values["coverage"] = float((real_fake.min(dim=1).values < real_radii).double().mean())
    return {name: values[name] for name in names}


class _Manifold(Collector):
    """One k and two of the four numbers, computing only those; the real radii are computed once per run, the
    distances real to fake once per evaluation for both collectors."""

    k = 0
    names: tuple[str, str] = ("", "")

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.features, self.feature_space = feature_extractor(self.dataset, self.device)
        self._real: tuple[Tensor, Tensor] | None = None  # real features, their k-NN radii

    @torch.no_grad()
    def evaluate(self, ctx: EvalContext) -> dict[str, float]:
        if not torch.isfinite(ctx.fake).all():
            return dict.fromkeys(self.names, float("nan"))
        # float32 distances: a third of float64's cost; they differ only where two distances tie to 1e-7
        if self._real is None:
            real = self.features(ctx.real).float()
            self._real = real, knn_radii(torch.cdist(real, real), self.k)
        real, radii = self._real
        fake = fake_features(ctx, self.features, self.feature_space).float()
        key = ("manifold distances", self.feature_space)
        if key not in ctx.shared:
            ctx.shared[key] = torch.cdist(real, fake)
        fake_fake = torch.cdist(fake, fake) if "recall" in self.names else None
        return from_distances(ctx.shared[key], fake_fake, radii, self.k, self.names)

    def describe(self) -> dict[str, Any]:
        return {name: {"feature_space": self.feature_space, "k": self.k} for name in self.names}


@COLLECTORS.register("precision_recall")
class PrecisionRecall(_Manifold):
    """``precision`` and ``recall`` (Kynkäänniemi et al. 2019, k = 3)."""

    k = 3
    names = ("precision", "recall")
    metrics = (
        MetricInfo("precision", "share of generated samples inside the real samples' k-NN manifold (fidelity)",
                   True, None, True),
        MetricInfo("recall", "share of real samples inside the generated samples' k-NN manifold (diversity: "
                             "falls when modes are dropped)", True, None, True))


@COLLECTORS.register("density_coverage")
class DensityCoverage(_Manifold):
    """``density`` and ``coverage`` (Naeem et al. 2020, k = 5)."""

    k = 5
    names = ("density", "coverage")
    metrics = (
        MetricInfo("density", "mean number of real k-NN balls holding a generated sample, / k (fidelity; about 1 "
                              "when the two sets match, robust to outliers)", True, None, True),
        MetricInfo("coverage", "share of real samples whose k-NN ball holds a generated sample (mode coverage "
                               "without labels)", True, None, True))
