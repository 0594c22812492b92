"""What a class-conditional generator does per class, on the fixed evaluation samples: G(z_i, y_i) with the
evaluation labels y_i spread evenly over the K classes, against the fixed real samples and their classes.

- ``intra_fid`` (Miyato & Koyama 2018): the mean over classes of the Fréchet distance between the class's
  generated and real samples, in FID's feature space; ``class_fid/<c>`` each. With N evaluation samples a class
  has N / K of each (the config states it): a per-class FID on a few hundred samples is biased upwards, and
  compares only between runs with the same N and K.
- ``label_fidelity``: the share of G(z, y) the dataset's own mode assignment (nearest centre on 2-D mixtures,
  the domain classifier on images) puts in class y; ``label_fidelity_real``, the same of the real samples with
  their labels (below 1 where classes overlap: a G above it made its classes more separable than the data's);
  ``label_dependence`` rescales it so that 0 is what a generator that ignores y scores (1/K, the evaluation
  labels being even) and 1 is every sample in its class.
- ``class_recall/<c>`` and ``class_precision/<c>``: improved precision and recall (Kynkäänniemi et al. 2019,
  k = 3) of class c's generated samples against class c's real ones: the class's variety and fidelity apart.
- ``class_coverage/<c>``: the share of G(z, c) that are high-quality members of class c by the dataset's own test
  (the mode coverage collector's): 0 for a class whose samples all went to other classes.
- ``cas``: the Classifier Accuracy Score (Ravuri & Vinyals 2019) -- a classifier fitted on G(z, y) with labels y,
  its accuracy on the real samples; ``cas_reverse`` fits on the real samples and reads G(z, y) (GAN-test,
  Shmelkov et al. 2018). Here the classifier is k-nearest neighbours (k = 25) in FID's feature space, where the
  papers train a network on pixels: nothing to tune or train per evaluation, and the same space as the rest.
  A G that ignores y scores 1/K on both; one that matches the data scores what the real data would.
- ``class_spread_ratio``: the mean over classes of the generated samples' total variance over the real ones'
  (1 matches the data's variety within a class; AC-GAN's bias drives it down while label fidelity stays high).
- ``sample_quality``: the share of samples that are high-quality members of some class, whatever their label.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganbench.errors import GanbenchError
from ganbench.meta import MetricInfo
from ganbench.metrics.base import COLLECTORS, Collector, EvalContext
from ganbench.metrics.fid import fake_features, feature_extractor, frechet_distance, gaussian
from ganbench.metrics.manifold import manifold_metrics
from ganbench.metrics.modes import assigned_modes


def intra_fid(real: Tensor, real_y: Tensor, fake: Tensor, fake_y: Tensor, classes: int) -> tuple[float, list[float]]:
    """The mean over classes of FID(fake of class c, real of class c), and each class's, from features (N, F)."""
    per_class = [frechet_distance(*gaussian(fake[fake_y == c]), *gaussian(real[real_y == c])) for c in range(classes)]
    return sum(per_class) / classes, per_class


def classifier_accuracy(train: Tensor, train_y: Tensor, test: Tensor, test_y: Tensor, k: int) -> float:
    """The accuracy on ``test`` (N, F) of a k-nearest-neighbour classifier fitted on ``train`` (M, F): a classifier
    with no training to tune, in whatever feature space the samples are given (scikit-learn's, Euclidean)."""
    from sklearn.neighbors import KNeighborsClassifier

    model = KNeighborsClassifier(n_neighbors=min(k, len(train))).fit(train.cpu().numpy(), train_y.cpu().numpy())
    return float((model.predict(test.cpu().numpy()) == test_y.cpu().numpy()).mean())


def label_dependence(fidelity: float, classes: int) -> float:
    """Label fidelity rescaled: 0 at chance (1/K: what a generator ignoring y scores on even labels), 1 at all."""
    chance = 1.0 / classes
    return (fidelity - chance) / (1.0 - chance)


@COLLECTORS.register("conditional")
class Conditional(Collector):
    """Per-class metrics of a conditional run (module docstring); nothing on an unconditional one."""

    k = 3
    cas_k = 25  # neighbours of the classifier the Classifier Accuracy Scores fit
    metrics = (
        MetricInfo("intra_fid", "mean over classes of the FID between a class's generated and real samples", False,
                   None, True),
        MetricInfo("label_fidelity", "share of G(z, y) that the dataset's classes put in class y", True, None, True),
        MetricInfo("label_fidelity_real", "label fidelity of the real evaluation samples with their own labels (1 "
                                          "where classes do not overlap)", None, None, True),
        MetricInfo("label_dependence", "label fidelity rescaled: 0 = G ignores y (chance, 1/K), 1 = always class y",
                   True, None, True),
        MetricInfo("cas", "Classifier Accuracy Score: accuracy on the real samples of a k-NN classifier fitted on "
                          "G(z, y) with labels y (Ravuri & Vinyals 2019)", True, None, True),
        MetricInfo("cas_reverse", "accuracy on G(z, y) of a k-NN classifier fitted on the real samples (GAN-test, "
                                  "Shmelkov et al. 2018)", True, None, True),
        MetricInfo("class_spread_ratio", "mean over classes of generated over real total variance (1: the data's "
                                         "variety within a class)", None, None, True),
        MetricInfo("sample_quality", "share of generated samples that are high-quality members of some class", True,
                   None, True),
        MetricInfo("class_fid/*", "FID between this class's generated and real samples", False, None, True),
        MetricInfo("class_recall/*", "recall of this class's generated samples against its real ones (variety)",
                   True, None, True),
        MetricInfo("class_precision/*", "precision of this class's generated samples against its real ones "
                                        "(fidelity)", True, None, True),
        MetricInfo("class_coverage/*", "share of G(z, c) that are good samples of class c (what the mode coverage "
                                       "test counts, per class)", True, None, True))

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.check(self.dataset)
        self.features, self.feature_space = feature_extractor(self.dataset, self.device)
        self._real: Tensor | None = None
        self._real_fidelity: float | None = None

    @staticmethod
    def check(dataset) -> None:
        if not dataset.num_classes:
            raise GanbenchError(f"the conditional collector measures per class; {type(dataset).__name__} has no "
                                "class labels")

    @torch.no_grad()
    def evaluate(self, ctx: EvalContext) -> dict[str, float]:
        if ctx.fake_labels is None:
            return {}
        k = self.dataset.num_classes
        names = ["intra_fid", "label_fidelity", "label_dependence", "class_spread_ratio", "sample_quality", "cas",
                 "cas_reverse"]
        if not torch.isfinite(ctx.fake).all():
            return dict.fromkeys(names, float("nan"))
        if self._real is None:
            self._real = self.features(ctx.real).double()
            assigned = self.dataset.assign_modes(ctx.real)[0].to(ctx.real_labels.device)
            self._real_fidelity = float((assigned == ctx.real_labels).double().mean())
        real, real_y = self._real, ctx.real_labels
        fake, fake_y = fake_features(ctx, self.features, self.feature_space).double(), ctx.fake_labels
        mean_fid, per_class = intra_fid(real, real_y, fake, fake_y, k)
        assigned, good = assigned_modes(ctx)
        assigned, good = assigned.to(fake_y.device), good.to(fake_y.device)
        fidelity = float((assigned == fake_y).double().mean())
        covered = (assigned == fake_y) & good  # a good sample of the class it was asked for
        values = {"intra_fid": mean_fid, "label_fidelity": fidelity, "label_fidelity_real": self._real_fidelity,
                  "label_dependence": label_dependence(fidelity, k),
                  "sample_quality": float(good.double().mean()),
                  "cas": classifier_accuracy(fake, fake_y, real, real_y, self.cas_k),
                  "cas_reverse": classifier_accuracy(real, real_y, fake, fake_y, self.cas_k)}
        spreads = []
        for c in range(k):
            own_real, own_fake = real[real_y == c], fake[fake_y == c]
            pr = manifold_metrics(own_real, own_fake, self.k)
            values.update({f"class_fid/{c}": per_class[c], f"class_recall/{c}": pr["recall"],
                           f"class_precision/{c}": pr["precision"],
                           f"class_coverage/{c}": float(covered[fake_y == c].double().mean())})
            spreads.append(float(own_fake.var(dim=0).sum() / own_real.var(dim=0).sum()))
        values["class_spread_ratio"] = sum(spreads) / k
        return values

    def describe(self) -> dict[str, Any]:
        return {"conditional": {"feature_space": self.feature_space, "classes": self.dataset.num_classes, "k": self.k,
                                "cas_classifier": f"{self.cas_k}-nearest neighbours (scikit-learn)",
                                "samples_per_class": "evaluation samples / classes (even labels)"}}
