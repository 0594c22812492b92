"""GAN objectives, all with the same shape so they are swappable (as in compare_gan).

Each objective maps discriminator outputs to losses: ``d_loss(real_out, fake_out)`` and ``g_loss(real_out,
fake_out)``, where outputs are the raw (B, 1) discriminator outputs (logits for the BCE-type objectives). G's
loss gets D's output on a real batch only when the objective sets ``g_needs_real`` (relativistic losses);
otherwise ``real_out`` is None and no real batch is drawn for G's step. ``score()`` turns
an output into what the metrics report as ``d_real``/``d_fake``: a probability where the objective has one,
the raw score otherwise; ``threshold`` splits real from fake in that space (for ``d_accuracy``).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ganbench.catalog import OBJECTIVES
from ganbench.errors import GanbenchError


@dataclass(frozen=True)
class Objective(ABC):
    probabilities = False  # whether score() is a probability (BCE-type objectives)
    smoothable = False  # whether real/fake targets (label smoothing) apply
    g_needs_real = False  # whether G's loss compares with D's output on real data
    # whether D's raw output above 0 means "real" and below 0 "fake": what ADA's r_t = E[sign D(x)] reads
    decides_at_zero = False

    @abstractmethod
    def d_loss(self, real_out: Tensor, fake_out: Tensor) -> Tensor: ...

    @abstractmethod
    def g_loss(self, real_out: Tensor | None, fake_out: Tensor) -> Tensor: ...

    def score(self, out: Tensor) -> Tensor:
        return out

    @property
    def threshold(self) -> float:
        return 0.0


def _bce(logits: Tensor, target: float) -> Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


@dataclass(frozen=True)
class _BCEObjective(Objective):
    """Shared discriminator loss of Goodfellow et al. (2014): -E[log D(x)] - E[log(1 - D(G(z)))].

    ``real_target`` < 1 is one-sided label smoothing (Salimans et al. 2016 use 0.9); ``fake_target`` > 0 smooths
    the fake side too.
    """

    real_target: float = 1.0
    fake_target: float = 0.0
    probabilities = True
    smoothable = True
    decides_at_zero = True  # a logit

    def d_loss(self, real_out: Tensor, fake_out: Tensor) -> Tensor:
        return _bce(real_out, self.real_target) + _bce(fake_out, self.fake_target)

    def score(self, out: Tensor) -> Tensor:
        return torch.sigmoid(out)

    @property
    def threshold(self) -> float:
        return 0.5


@OBJECTIVES.register("minimax")
@dataclass(frozen=True)
class Minimax(_BCEObjective):
    """The saturating generator loss: G minimizes E[log(1 - D(G(z)))] = -E[softplus(logit)]."""

    def g_loss(self, real_out: Tensor | None, fake_out: Tensor) -> Tensor:
        return -F.softplus(fake_out).mean()


@OBJECTIVES.register("nonsaturating")
@dataclass(frozen=True)
class NonSaturating(_BCEObjective):
    """The non-saturating generator loss: G minimizes -E[log D(G(z))] = E[softplus(-logit)]."""

    def g_loss(self, real_out: Tensor | None, fake_out: Tensor) -> Tensor:
        return F.softplus(-fake_out).mean()


@OBJECTIVES.register("least_squares")
@dataclass(frozen=True)
class LeastSquares(Objective):
    """LSGAN, Mao et al. (2017) eq. (2): a is the fake label, b the real label, c what G wants D to say.

    D: 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2];  G: 1/2 E[(D(G(z)) - c)^2].
    """

    a: float = 0.0
    b: float = 1.0
    c: float = 1.0

    def __post_init__(self) -> None:
        if self.a == self.b:
            raise GanbenchError(f"least_squares needs a != b (got a = b = {self.a})")

    @property
    def decides_at_zero(self) -> bool:  # the labels' midpoint is 0 only for symmetric codings (a = -b)
        return self.a == -self.b and self.b > 0

    def d_loss(self, real_out: Tensor, fake_out: Tensor) -> Tensor:
        return 0.5 * ((real_out - self.b) ** 2).mean() + 0.5 * ((fake_out - self.a) ** 2).mean()

    def g_loss(self, real_out: Tensor | None, fake_out: Tensor) -> Tensor:
        return 0.5 * ((fake_out - self.c) ** 2).mean()

    @property
    def threshold(self) -> float:
        return (self.a + self.b) / 2


@OBJECTIVES.register("wasserstein")
@dataclass(frozen=True)
class Wasserstein(Objective):
    """WGAN, Arjovsky et al. (2017): the critic maximizes E[D(x)] - E[D(G(z))]; G maximizes E[D(G(z))]."""

    def d_loss(self, real_out: Tensor, fake_out: Tensor) -> Tensor:
        return fake_out.mean() - real_out.mean()

    def g_loss(self, real_out: Tensor | None, fake_out: Tensor) -> Tensor:
        return -fake_out.mean()


@OBJECTIVES.register("hinge")
@dataclass(frozen=True)
class Hinge(Objective):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018): D: E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]; G: -E[D(G(z))]."""

    decides_at_zero = True  # the margins sit at +1 and -1

    def d_loss(self, real_out: Tensor, fake_out: Tensor) -> Tensor:
        return F.relu(1 - real_out).mean() + F.relu(1 + fake_out).mean()

    def g_loss(self, real_out: Tensor | None, fake_out: Tensor) -> Tensor:
        return -fake_out.mean()


@OBJECTIVES.register("relativistic")
@dataclass(frozen=True)
class Relativistic(Objective):
    """RSGAN, Jolicoeur-Martineau (2018) eq. (6)-(7): D estimates how much more realistic a real sample is than
    a fake one, pairing the batches sample by sample.

    D: E[softplus(-(C(x_r) - C(x_f)))];  G: E[softplus(-(C(x_f) - C(x_r)))].
    """

    g_needs_real = True

    def d_loss(self, real_out: Tensor, fake_out: Tensor) -> Tensor:
        return F.softplus(-(real_out - fake_out)).mean()

    def g_loss(self, real_out: Tensor | None, fake_out: Tensor) -> Tensor:
        return F.softplus(-(fake_out - real_out)).mean()


@OBJECTIVES.register("relativistic_average")
@dataclass(frozen=True)
class RelativisticAverage(Objective):
    """RaSGAN, Jolicoeur-Martineau (2018) eq. (11)-(12): each sample against the other side's batch mean.

    D: E[softplus(-(C(x_r) - E C(x_f)))] + E[softplus(C(x_f) - E C(x_r))];
    G: E[softplus(-(C(x_f) - E C(x_r)))] + E[softplus(C(x_r) - E C(x_f))].
    """

    g_needs_real = True

    @staticmethod
    def _terms(first: Tensor, second: Tensor) -> Tensor:  # first should look more real than the average second
        mean_first, mean_second = first.mean(dim=-2, keepdim=True), second.mean(dim=-2, keepdim=True)  # over B
        return F.softplus(-(first - mean_second)).mean() + F.softplus(second - mean_first).mean()

    def d_loss(self, real_out: Tensor, fake_out: Tensor) -> Tensor:
        return self._terms(real_out, fake_out)

    def g_loss(self, real_out: Tensor | None, fake_out: Tensor) -> Tensor:
        return self._terms(fake_out, real_out)


def param_names(objective: str) -> list[str]:
    return [f.name for f in dataclasses.fields(OBJECTIVES.get(objective))]


def make_objective(name: str, params: dict[str, float]) -> Objective:
    cls = OBJECTIVES.get(name)
    return cls(**params)
