"""Does D overfit its training reals, and does G copy them? Both compare the training set with reals kept out
of it (``Dataset.held_out``: an image dataset's test split, which no batch draws from); datasets drawn afresh
every batch (the 2D mixtures) have nothing to overfit and refuse these collectors."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from ganbench.errors import GanbenchError
from ganbench.meta import MetricInfo
from ganbench.metrics.base import COLLECTORS, Collector, EvalContext, StepRecord
from ganbench.metrics.fid import fake_features, feature_extractor
from ganbench.models.base import eval_mode


def _needs_held_out(dataset, what: str) -> None:
    if not dataset.has_held_out:
        raise GanbenchError(f"collector {what} compares training reals with held-out ones: "
                            f"{type(dataset).__name__} has none (use an image dataset)")


@COLLECTORS.register("d_heldout")
class DHeldOut(Collector):
    """D's raw outputs on a fixed batch of training reals and a fixed batch of held-out reals, and ADA's two
    overfitting heuristics (Karras et al. 2020, eq. 1): ``d_overfit_rv`` = (E[D(train)] - E[D(held-out)]) /
    (E[D(train)] - E[D(generated)]), 0 while D tells held-out reals from generated ones as well as its training
    reals, 1 when it takes them for generated; and ``d_overfit_rt`` = E[sign D(x)] over the step's real batch,
    where the objective's decision lies at 0. The fixed batches are read every ``every`` steps with D in eval
    mode and without gradients: the run trains exactly as without this collector."""

    calls_networks = True

    batch = 256
    every = 50  # G steps between readings of the fixed batches (two forward passes of D)
    metrics = (MetricInfo("d_real_train", "mean raw D output on a fixed batch of training reals"),
               MetricInfo("d_real_heldout", "mean raw D output on a fixed batch of held-out reals"),
               MetricInfo("d_overfit_gap", "d_real_train - d_real_heldout: how much more real D finds what it "
                                           "trained on", False),
               MetricInfo("d_overfit_rv", "ADA's r_v: the gap over (d_real_train - D on generated); 0 no "
                                          "overfitting, 1 held-out reals look generated", False),
               MetricInfo("d_overfit_rt", "ADA's r_t: E[sign D(x)] on the step's real batch (objectives deciding "
                                          "at 0)"),
               MetricInfo("d_overfit_auc", "probability that D scores a training real above a held-out one (ties "
                                           "half): 0.5 no overfitting, 1 complete; needs no generated samples",
                          False))

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        _needs_held_out(self.dataset, "d_heldout")
        self.train_real = self.dataset.sample(self.batch, torch.Generator().manual_seed(0)).to(self.device)
        self.held_out = self.dataset.held_out(self.batch, torch.Generator().manual_seed(1)).to(self.device)

    @staticmethod
    def check(dataset) -> None:
        _needs_held_out(dataset, "d_heldout")

    def on_step(self, record: StepRecord) -> dict[str, Tensor | float]:
        values: dict[str, Tensor | float] = {}
        if self.objective.decides_at_zero:
            values["d_overfit_rt"] = record.d_real_out.sign().mean()
        if record.step % self.every:
            return values
        pack = getattr(record.d, "pack", 1)  # a PacGAN D judges whole packs
        whole = len(self.train_real) // pack * pack
        with eval_mode(record.d) as d, torch.no_grad():
            train_out, held_out = d(self.train_real[:whole]).flatten(), d(self.held_out[:whole]).flatten()
        train, held = train_out.mean(), held_out.mean()
        gap, margin = train - held, train - record.d_fake_out.mean()
        pairs = train_out[:, None] - held_out[None, :]  # the Mann-Whitney AUC: scale-free, unlike r_v's ratio
        values.update(d_real_train=train, d_real_heldout=held, d_overfit_gap=gap,
                      d_overfit_rv=torch.where(margin > 0, gap / margin, torch.nan),
                      d_overfit_auc=(pairs > 0).double().mean() + 0.5 * (pairs == 0).double().mean())
        return values

    def describe(self) -> dict[str, Any]:
        return {"d_heldout": {"batch": self.batch, "every": self.every, "held_out": "the dataset's test split"}}


def two_nearest(queries: Tensor, keys: Tensor, chunk: int = 1024) -> tuple[Tensor, Tensor]:
    """Distances (N,) from each query to its nearest and second-nearest key, in float64."""
    first, second = [], []
    for part in queries.double().split(chunk):
        d = torch.cdist(part, keys).topk(2, dim=1, largest=False).values
        first.append(d[:, 0])
        second.append(d[:, 1])
    return torch.cat(first), torch.cat(second)


def copies(first: Tensor, second: Tensor, ratio: float) -> Tensor:
    """Near-copies (N,) bool: the nearest training sample at most ``ratio`` times as far as the second nearest
    (two identical training samples make any copy of them a copy)."""
    return torch.where(second > 0, first / second.clamp_min(1e-300), torch.zeros_like(first)) < ratio


def copy_statistics(fake: Tensor, held: Tensor, train: Tensor, ratio: float) -> dict[str, float]:
    """The copy rates of generated and held-out features against the training features, the one-sided Fisher
    exact p that generated samples are copies more often, and the Mann-Whitney z of their nearest-neighbour
    distances (negative: generated samples lie closer to the training set than fresh reals do). The distances
    are taken on the features' device; only the two tests run on the CPU."""
    from scipy.stats import fisher_exact, mannwhitneyu

    fake_first, fake_second = two_nearest(fake, train)
    held_first, held_second = two_nearest(held, train)
    fake_copies = int(copies(fake_first, fake_second, ratio).sum())
    held_copies = int(copies(held_first, held_second, ratio).sum())
    n, m = len(fake_first), len(held_first)
    table = [[fake_copies, n - fake_copies], [held_copies, m - held_copies]]
    p = float(fisher_exact(table, alternative="greater").pvalue)
    u = float(mannwhitneyu(fake_first.cpu().numpy(), held_first.cpu().numpy(), alternative="less").statistic)
    z = (u - n * m / 2) / math.sqrt(n * m * (n + m + 1) / 12)  # the normal approximation, without tie correction
    return {"copy_rate": fake_copies / n, "copy_rate_heldout": held_copies / m, "copy_p": p,
            "nn_distance_z": z}


_train_features: dict[tuple[str, str], Tensor] = {}  # (dataset key, feature space) -> training features


@COLLECTORS.register("memorization")
class Memorization(Collector):
    """Near-copies of training samples among the generated ones, against the same measure on held-out reals.
    A sample is a near-copy when its nearest training sample, in the FID feature space, is under ``ratio`` = 1/3
    of the distance to the second nearest (the ratio test of Yoon et al. 2023 and Gu et al. 2023, "On
    Memorization in Diffusion Models"). A held-out real is one only as often as the data holds near-duplicates,
    so the held-out rate is the baseline: ``copy_p`` is the one-sided Fisher exact test of the two rates.
    ``nn_distance_z`` is the Mann-Whitney test of the nearest-training distances, generated against held-out (the
    data-copying test of Meehan, Chaudhuri and Dasgupta 2020, over one cell). Up to ``max_train`` training
    samples (a seeded choice) and the distinct reals among ``held_out_count`` held-out draws."""

    ratio = 1 / 3
    max_train = 10000
    held_out_count = 1000
    metrics = (MetricInfo("copy_rate", "share of generated samples that are near-copies of a training sample "
                                       "(nearest < 1/3 of the second nearest, in the FID feature space)", False,
                          None, True),
               MetricInfo("copy_rate_heldout", "the same share among held-out reals: the data's own rate", None,
                          None, True),
               MetricInfo("copy_p", "one-sided Fisher exact p that generated samples are near-copies more often "
                                    "than held-out reals", None, None, True),
               MetricInfo("nn_distance_z", "Mann-Whitney z of nearest-training distances, generated vs held-out; "
                                           "negative: closer to the training set than fresh reals", None, None, True))

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        _needs_held_out(self.dataset, "memorization")
        self.features, self.feature_space = feature_extractor(self.dataset, self.device)
        self._train: Tensor | None = None
        self._held: Tensor | None = None

    @staticmethod
    def check(dataset) -> None:
        _needs_held_out(dataset, "memorization")
        dataset.training_set()  # a stacked set has none to compare with

    @torch.no_grad()
    def _references(self) -> tuple[Tensor, Tensor]:
        if self._train is None:
            train = self.dataset.training_set()
            key = (f"{getattr(self.dataset, 'key', type(self.dataset).__name__)!r} {len(train)}", self.feature_space)
            if key not in _train_features:
                if len(train) > self.max_train:
                    train = train[torch.randperm(len(train), generator=torch.Generator().manual_seed(0))
                                  [: self.max_train]]
                _train_features[key] = torch.cat([self.features(part.to(self.device)).double().cpu()
                                                  for part in train.split(512)])
            self._train = _train_features[key].to(self.device)
            held = self.dataset.held_out(self.held_out_count, torch.Generator().manual_seed(2))
            held = torch.unique(held.flatten(1), dim=0).view(-1, *held.shape[1:]).to(self.device)  # distinct reals
            self._held = self.features(held).double()
        return self._train, self._held

    @torch.no_grad()
    def evaluate(self, ctx: EvalContext) -> dict[str, float]:
        if not torch.isfinite(ctx.fake).all():
            return {}
        train, held = self._references()
        fake = fake_features(ctx, self.features, self.feature_space).double()
        return copy_statistics(fake, held, train, self.ratio)

    def describe(self) -> dict[str, Any]:
        return {"memorization": {"feature_space": self.feature_space, "ratio": self.ratio,
                                 "max_train": self.max_train, "held_out": self.held_out_count}}
