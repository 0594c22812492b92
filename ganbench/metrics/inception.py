"""Inception Score (Salimans et al. 2016), exp E_x KL(p(y|x) || p(y)), as torchmetrics computes it, over the
dataset's class logits: Inception-v3's 1008 logits from local weights (``inception_weights``: the number papers report),
otherwise the domain classifier's (a "classifier score" over the set's own classes, at most their number).
Scores from the two never compare: the run's config names the classifier."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganbench.errors import GanbenchError
from ganbench.meta import MetricInfo
from ganbench.metrics.base import COLLECTORS, Collector, EvalContext


def inception_scores(logits: Tensor, splits: int, seed: int = 0) -> Tensor:
    """(splits,) exp E_x KL(p(y|x) || p(y)) per split of the rows of ``logits`` (N, classes), shuffled by a
    generator seeded ``seed`` -- torchmetrics' InceptionScore step for step (the tests hold the two equal),
    without importing torchmetrics in every training process (as for FID)."""
    logits = logits[torch.randperm(len(logits), generator=torch.Generator().manual_seed(seed))]
    scores = []
    for part in logits.chunk(splits):
        p, log_p = part.softmax(dim=1), part.log_softmax(dim=1)
        scores.append((p * (log_p - p.mean(dim=0, keepdim=True).log())).sum(dim=1).mean().exp())
    return torch.stack(scores)


@COLLECTORS.register("inception_score")
class InceptionScore(Collector):
    """``inception_score`` and ``inception_score_std`` over ``splits`` splits of the evaluation samples, as the
    paper (10 splits); the split order is drawn from a fixed seed."""

    splits = 10
    metrics = (MetricInfo("inception_score", "exp of the mean KL divergence of each sample's class distribution "
                                             "from the marginal: confident and varied classes score high",
                          True, None, True),
               MetricInfo("inception_score_std", "spread of inception_score over its splits", None, None, True))

    @staticmethod
    def check(dataset) -> None:
        if not dataset.has_class_logits:
            raise GanbenchError("inception_score needs images with classes, or inception_weights on the dataset")

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.check(self.dataset)
        self.logits, self.classifier = self.dataset.class_logits(self.device)

    @torch.no_grad()
    def evaluate(self, ctx: EvalContext) -> dict[str, float]:
        if not torch.isfinite(ctx.fake).all():
            return {"inception_score": float("nan")}
        scores = inception_scores(self.logits(ctx.fake).double(), self.splits)
        return {"inception_score": float(scores.mean()), "inception_score_std": float(scores.std())}

    def describe(self) -> dict[str, Any]:
        return {"inception_score": {"classifier": self.classifier, "splits": self.splits,
                                    "implementation": "ganbench.metrics.inception (torchmetrics' "
                                    "InceptionScore, checked against it in the tests)"}}
