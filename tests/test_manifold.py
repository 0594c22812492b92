"""Precision / recall (Kynkäänniemi et al. 2019), density / coverage (Naeem et al. 2020) and the Inception
Score, against known answers and the reference implementation; the label-free mode-collapse detector."""

from __future__ import annotations

import contextlib
import io

import pandas as pd
import pytest
import torch
from torch import nn

from ganbench.diagnostics.detectors import ModeCollapse
from ganbench.metrics.base import EvalContext
from ganbench.metrics.inception import InceptionScore
from ganbench.metrics.manifold import manifold_metrics
from tests.conftest import tiny_suite


def mixture(n: int, centres: torch.Tensor, std: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    which = torch.randint(len(centres), (n,), generator=g)
    return centres[which] + std * torch.randn(n, centres.shape[1], generator=g, dtype=torch.float64)


CENTRES = 10.0 * torch.eye(10, dtype=torch.float64)  # 10 well-separated modes in 10-d


@pytest.mark.parametrize("k", [3, 5])
def test_identical_sets_score_one(k):
    real = mixture(500, CENTRES, 1.0, 0)
    m = manifold_metrics(real, real.clone(), k)
    assert m["precision"] == m["recall"] == m["coverage"] == 1.0
    assert m["density"] == pytest.approx(1.0, abs=0.15)


def test_half_the_modes_halves_recall_and_coverage_but_not_precision():
    real = mixture(2000, CENTRES, 1.0, 0)
    half = mixture(2000, CENTRES[:5], 1.0, 1)
    m = manifold_metrics(real, half, 5)
    assert m["recall"] == pytest.approx(0.5, abs=0.05) and m["coverage"] == pytest.approx(0.5, abs=0.05)
    same = manifold_metrics(real, mixture(2000, CENTRES, 1.0, 1), 5)  # the control: all modes
    assert same["recall"] > 0.9 and same["coverage"] > 0.9
    # precision stays where a sample of the real distribution itself puts it (k-NN balls in 10-d leave gaps)
    assert m["precision"] == pytest.approx(same["precision"], abs=0.03) and m["precision"] > 0.85


def test_real_outliers_inflate_precision_but_not_density():
    """Naeem et al.'s case: an isolated real outlier's k-NN ball is huge, so generated samples that land in it
    pass as faithful for precision (any ball will do), while density counts them once, / k."""
    outliers = 60.0 * torch.eye(10, dtype=torch.float64)  # ten real outliers, far from the mode and each other
    real = torch.cat([mixture(1000, CENTRES[:1], 1.0, 0), outliers])
    good = mixture(500, CENTRES[:1], 1.0, 2)
    stray = mixture(500, outliers, 2.0, 3)  # generated samples near the outliers, nowhere near real density
    clean, contaminated = manifold_metrics(real, good, 5), manifold_metrics(real, torch.cat([good, stray]), 5)
    assert contaminated["precision"] >= clean["precision"]  # the strays pass as faithful
    assert contaminated["density"] == pytest.approx((clean["density"] + 1 / 5) / 2, abs=0.05)  # each: 1 ball / k


@pytest.mark.parametrize("k", [3, 5])
def test_matches_the_reference_implementation(k):
    prdc = pytest.importorskip("prdc", reason="the reference implementation (pip install prdc) is absent")
    g = torch.Generator().manual_seed(k)
    real = torch.randn(300, 16, generator=g, dtype=torch.float64)
    fake = 1.2 * torch.randn(250, 16, generator=g, dtype=torch.float64) + 0.3
    with contextlib.redirect_stdout(io.StringIO()):  # prdc prints the set sizes
        expected = prdc.compute_prdc(real.numpy(), fake.numpy(), k)
    ours = manifold_metrics(real, fake, k)
    for name in ("precision", "recall", "density", "coverage"):
        assert ours[name] == pytest.approx(float(expected[name]), abs=1e-12), name


class OneHotLogits(nn.Module):
    """The class is the first pixel's value: confident logits for it."""

    def __init__(self, classes: int) -> None:
        super().__init__()
        self.classes = classes

    def forward(self, x):
        return 30.0 * nn.functional.one_hot(x.flatten(1)[:, 0].long(), self.classes).double()


class FakeClasses:
    has_class_logits = True
    sample_shape = (1, 2, 2)

    def class_logits(self, device):
        return OneHotLogits(10), "one-hot"


@pytest.mark.parametrize("used", [10, 5, 1])
def test_inception_score_known_answers(used):
    """Confident predictions: each split's KL term is the entropy of its class histogram, so its IS is
    exp(entropy) -- the number of classes used when they are used equally (Salimans et al.'s upper bound)."""
    collector = InceptionScore(FakeClasses(), None, torch.device("cpu"))
    labels = torch.arange(2000) % used
    fake = labels.double().view(-1, 1, 1, 1).expand(-1, 1, 2, 2)
    values = collector.evaluate(EvalContext(1, fake, fake, FakeClasses()))
    # by hand: the same split order (the collector shuffles with a generator seeded 0)
    torch.manual_seed(0)
    splits = labels[torch.randperm(2000)].chunk(10)
    per_split = [torch.special.entr(torch.bincount(s, minlength=10) / len(s)).sum().exp() for s in splits]
    assert values["inception_score"] == pytest.approx(float(torch.stack(per_split).mean()), abs=1e-6)
    assert values["inception_score"] == pytest.approx(used, rel=0.04)


def test_inception_score_through_the_digits_classifier():
    from ganbench.data import make_dataset

    digits = make_dataset("digits", {"size": 16})
    collector = InceptionScore(digits, None, torch.device("cpu"))
    real = digits.test[0]
    values = collector.evaluate(EvalContext(1, real, real, digits))
    ones = real[digits.test[1] == 1]
    single = collector.evaluate(EvalContext(1, ones, ones, digits))
    assert values["inception_score"] > 7 and single["inception_score"] < 1.5
    assert collector.describe()["inception_score"]["classifier"] == "classifier:digits (10 classes)"


def test_inception_score_on_data_without_classes_is_a_usage_error(write_suite, invoke):
    result = invoke("run", write_suite(tiny_suite(collectors=["losses", "inception_score"])))
    assert result.exit_code == 2 and "inception_score needs images with classes" in result.output


def stream(**series) -> dict[str, pd.Series]:
    return {name: pd.Series(values, index=range(100, 100 * len(values) + 1, 100), dtype=float)
            for name, values in series.items()}


def test_mode_collapse_reads_recall_and_precision_without_known_modes():
    healthy = stream(recall=[0.0, 0.4, 0.7, 0.8, 0.8, 0.85], precision=[0.6, 0.3, 0.3, 0.3, 0.35, 0.35])
    collapsed = stream(recall=[0.0, 0.01, 0.0, 0.0, 0.0, 0.0], precision=[0.0, 0.9, 0.5, 0.7, 0.6, 0.5])
    fell = stream(recall=[0.3, 0.7, 0.8, 0.3, 0.2, 0.2], precision=[0.15] * 6)  # under the quality floor
    unlearned = stream(recall=[0.0] * 6, precision=[0.0] * 6)
    assert ModeCollapse().detect(healthy) == [] and ModeCollapse().detect(unlearned) == []
    (event,) = ModeCollapse().detect(collapsed)
    assert event.step == 300 and event.evidence["collapse"] == "to a few modes"
    assert "recall" in event.evidence and "precision" in event.evidence
    (event,) = ModeCollapse().detect(fell)
    assert event.step == 400 and event.evidence["collapse"] == "dropped modes"


def test_inception_score_equals_torchmetrics():
    from torchmetrics.image.inception import InceptionScore as Reference

    from ganbench.metrics.inception import inception_scores

    logits = 3 * torch.randn(1000, 10, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    reference = Reference(feature=nn.Identity(), splits=10)
    reference.update(logits)
    with torch.random.fork_rng(devices=[]):  # torchmetrics shuffles with the global RNG
        torch.manual_seed(0)
        mean, std = reference.compute()
    ours = inception_scores(logits, 10)
    assert float(ours.mean()) == pytest.approx(float(mean), rel=1e-12)
    assert float(ours.std()) == pytest.approx(float(std), rel=1e-9)
