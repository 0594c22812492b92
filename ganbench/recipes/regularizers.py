"""Discriminator regularizers: a penalty added to the D loss (on D's inputs, or on its outputs in that step),
and/or a hook after each D update.

All share one shape: ``penalty(D, real, fake, uniform, batch_dims)`` -> the penalty (already multiplied by
the variant's ``regularizer_weight``) and ``after_d_step(D)``. ``real`` and ``fake`` are (*batch, *sample)
with ``batch_dims`` leading batch dimensions: (B,) for one run, (K, B) for a seed ensemble of K members,
whose penalty is then one value per member (K,). ``uniform(*shape)`` draws U(0, 1) of shape
``(*batch, *shape)`` from the run's (or each member's) data stream, where a penalty samples (WGAN-GP's
interpolation points, DRAGAN's perturbations), so penalties stay deterministic. A regularizer with memory
(LeCam's anchors) keeps it as tensors with the batch's leading member shape, in ``state()``, which checkpoints
carry per member.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from ganbench.catalog import REGULARIZERS


@dataclass(frozen=True)
class Regularizer:
    weight: float  # lambda for penalties; the clip bound c for weight_clip
    images_only = False  # True: needs samples (C, H, W), which the suite checks before any run

    def penalty(self, d: nn.Module, real: Tensor, fake: Tensor, uniform: Callable[..., Tensor],
                batch_dims: int = 1) -> Tensor | None:
        return None

    def output_penalty(self, real_out: Tensor, fake_out: Tensor, batch_dims: int = 1) -> Tensor | None:
        """A penalty on D's raw outputs (*batch, 1) in this D step, already weighted; one value per member."""
        return None

    def after_d_step(self, d: nn.Module) -> None:
        return None

    def state(self) -> dict[str, Tensor]:
        """What the regularizer remembers between steps (leading member shape: () for a run, (K,) for K)."""
        return {}

    def load_state(self, state: dict[str, Tensor]) -> None:
        return None


def _input_grad(d: nn.Module, x: Tensor, batch_dims: int) -> Tensor:
    """dD/dx for each input D judges, (*batch, ...) -> (*batch / pack, pack x features), kept in the graph so the
    penalty can be backpropagated: per sample, or per pack of a PacGAN D (``d.pack`` samples in one input).
    Inputs (and ensemble members) are independent, so the gradient of the sum is per input."""
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(d(x).sum(), x, create_graph=True)
    grad = grad.flatten(batch_dims)
    pack = getattr(d, "pack", 1)
    return grad if pack == 1 else grad.reshape(*grad.shape[:-2], -1, pack * grad.shape[-1])


@REGULARIZERS.register("gradient_penalty")
@dataclass(frozen=True)
class GradientPenalty(Regularizer):
    """WGAN-GP, Gulrajani et al. (2017) eq. (3): lambda * E[(||grad D(x_hat)||_2 - 1)^2] on random interpolates."""

    weight: float = 10.0

    def penalty(self, d: nn.Module, real: Tensor, fake: Tensor, uniform: Callable[..., Tensor],
                batch_dims: int = 1) -> Tensor:
        alpha = uniform().view(real.shape[:batch_dims] + (1,) * (real.dim() - batch_dims))
        x_hat = alpha * real + (1 - alpha) * fake
        return self.weight * ((_input_grad(d, x_hat, batch_dims).norm(dim=-1) - 1) ** 2).mean(dim=-1)


@REGULARIZERS.register("dragan")
@dataclass(frozen=True)
class DRAGAN(Regularizer):
    """DRAGAN, Kodali et al. (2017): lambda * E[(||grad D(x_hat)||_2 - 1)^2] around the real data only. As in
    the authors' code: x_hat = x + alpha * delta with delta = 0.5 * std(x) * U[0, 1) per coordinate (std over
    the whole real batch) and alpha ~ U[0, 1) per sample."""

    weight: float = 10.0

    def penalty(self, d: nn.Module, real: Tensor, fake: Tensor, uniform: Callable[..., Tensor],
                batch_dims: int = 1) -> Tensor:
        per_sample = (1,) * (real.dim() - batch_dims)
        std = real.flatten(batch_dims - 1).std(dim=-1)  # () for a run, (K,) for an ensemble: each member's own
        std = std.view(std.shape + (1,) * (real.dim() - std.dim()))
        delta = 0.5 * std * uniform(*real.shape[batch_dims:])  # (*batch, *sample)
        alpha = uniform().view(real.shape[:batch_dims] + per_sample)
        x_hat = real + alpha * delta
        return self.weight * ((_input_grad(d, x_hat, batch_dims).norm(dim=-1) - 1) ** 2).mean(dim=-1)


@REGULARIZERS.register("r1")
@dataclass(frozen=True)
class R1(Regularizer):
    """R1, Mescheder et al. (2018) eq. (9): gamma/2 * E[||grad D(x)||^2] on real data."""

    weight: float = 10.0

    def penalty(self, d: nn.Module, real: Tensor, fake: Tensor, uniform: Callable[..., Tensor],
                batch_dims: int = 1) -> Tensor:
        return self.weight / 2 * _input_grad(d, real, batch_dims).pow(2).sum(dim=-1).mean(dim=-1)


@REGULARIZERS.register("r2")
@dataclass(frozen=True)
class R2(Regularizer):
    """R2, Mescheder et al. (2018) eq. (10): gamma/2 * E[||grad D(x)||^2] on generated samples; with R1, the
    pair R3GAN (Huang et al. 2025) pairs with the relativistic loss."""

    weight: float = 10.0

    def penalty(self, d: nn.Module, real: Tensor, fake: Tensor, uniform: Callable[..., Tensor],
                batch_dims: int = 1) -> Tensor:
        return self.weight / 2 * _input_grad(d, fake, batch_dims).pow(2).sum(dim=-1).mean(dim=-1)


@REGULARIZERS.register("lecam")
@dataclass(frozen=True)
class LeCam(Regularizer):
    """LeCam regularization, Tseng et al. (2021) eq. (3): weight * (E[(D(x) - a_F)^2] + E[(D(G(z)) - a_R)^2]),
    pulling D's outputs toward anchors a_R, a_F: moving averages (``decay``) of its mean output on real and on
    generated data, updated with this step's (detached) means before the penalty reads them, and started at the
    first step's means. The paper tunes the weight per dataset; 0.1 here is a starting point, not theirs."""

    weight: float = 0.1
    decay: float = 0.99
    anchors: dict = field(default_factory=dict, compare=False)  # "real", "fake" -> (member shape)

    def output_penalty(self, real_out: Tensor, fake_out: Tensor, batch_dims: int = 1) -> Tensor:
        lead = real_out.shape[:batch_dims - 1]  # () for a run, (K,) for an ensemble
        means = {"real": real_out.detach().reshape(*lead, -1).mean(dim=-1),
                 "fake": fake_out.detach().reshape(*lead, -1).mean(dim=-1)}
        for side, mean in means.items():
            old = self.anchors.get(side)
            self.anchors[side] = mean if old is None else self.decay * old + (1 - self.decay) * mean
        shape = (*lead, *(1,) * (real_out.dim() - len(lead)))
        real_term = (real_out - self.anchors["fake"].view(shape)).pow(2).reshape(*lead, -1).mean(dim=-1)
        fake_term = (fake_out - self.anchors["real"].view(shape)).pow(2).reshape(*lead, -1).mean(dim=-1)
        return self.weight * (real_term + fake_term)

    def state(self) -> dict[str, Tensor]:
        return dict(self.anchors)

    def load_state(self, state: dict[str, Tensor]) -> None:
        self.anchors.clear()
        self.anchors.update(state)


@REGULARIZERS.register("bcr")
@dataclass(frozen=True)
class BalancedConsistency(Regularizer):
    """Balanced consistency regularization, Zhao et al. (2020, "Improved consistency regularization for GANs"):
    weight * (E[(D(x) - D(T(x)))^2] + E[(D(G(z)) - D(T(G(z))))^2]), T a random horizontal flip and a
    translation by up to 1/8 of the image (their CIFAR-10 augmentation), drawn from the run's data stream.
    Images only; weight 10 is the paper's lambda_real = lambda_fake."""

    weight: float = 10.0
    images_only = True

    def penalty(self, d: nn.Module, real: Tensor, fake: Tensor, uniform: Callable[..., Tensor],
                batch_dims: int = 1) -> Tensor:
        from ganbench.recipes.augment import OPS

        if real.dim() - batch_dims != 3:
            raise ValueError("bcr augments images (C, H, W)")
        batch = real.shape[:batch_dims]  # (B,) for a run, (K, B) for an ensemble
        n = batch.numel()
        flat = lambda *shape: uniform(*shape).reshape(n, *shape)  # noqa: E731

        def transformed(x: Tensor) -> Tensor:
            x = x.reshape(n, *x.shape[batch_dims:])
            flip = flat(1, 1, 1) < 0.5
            x = torch.where(flip, x.flip(-1), x)
            return OPS["translation"](x, flat).reshape(*batch, *x.shape[1:])

        def gap(x: Tensor) -> Tensor:  # one value per member: () for a run, (K,) for an ensemble
            x = x.detach()
            return (d(x) - d(transformed(x))).pow(2).reshape(*batch[:-1], -1).mean(dim=-1)

        return self.weight * (gap(real) + gap(fake))


@REGULARIZERS.register("weight_clip")
@dataclass(frozen=True)
class WeightClip(Regularizer):
    """WGAN, Arjovsky et al. (2017): clamp every critic weight to [-c, c] after each update."""

    weight: float = 0.01

    @torch.no_grad()
    def after_d_step(self, d: nn.Module) -> None:
        for p in d.parameters():
            p.clamp_(-self.weight, self.weight)


@dataclass(frozen=True)
class Several(Regularizer):
    """Several regularizers at once: the sum of their penalties, each hook after each D update in turn."""

    parts: tuple[Regularizer, ...] = ()

    def penalty(self, d: nn.Module, real: Tensor, fake: Tensor, uniform: Callable[..., Tensor],
                batch_dims: int = 1) -> Tensor | None:
        penalties = [p for p in (r.penalty(d, real, fake, uniform, batch_dims) for r in self.parts) if p is not None]
        return sum(penalties[1:], penalties[0]) if penalties else None

    def output_penalty(self, real_out: Tensor, fake_out: Tensor, batch_dims: int = 1) -> Tensor | None:
        penalties = [p for p in (r.output_penalty(real_out, fake_out, batch_dims) for r in self.parts)
                     if p is not None]
        return sum(penalties[1:], penalties[0]) if penalties else None

    def after_d_step(self, d: nn.Module) -> None:
        for part in self.parts:
            part.after_d_step(d)

    def state(self) -> dict[str, Tensor]:
        return {f"{i}.{key}": t for i, part in enumerate(self.parts) for key, t in part.state().items()}

    def load_state(self, state: dict[str, Tensor]) -> None:
        for i, part in enumerate(self.parts):
            part.load_state({key.partition(".")[2]: t for key, t in state.items() if key.startswith(f"{i}.")})


def make_regularizer(name: str | tuple[str, ...] | list[str] | None,
                     weight: float | tuple[float | None, ...] | list[float | None] | None) -> Regularizer:
    """One regularizer by name (None: none), or several: names and weights as equally long sequences (a weight
    of None takes that regularizer's default)."""
    if name is None:
        return Regularizer(weight=0.0)
    if isinstance(name, str):
        cls = REGULARIZERS.get(name)
        return cls() if weight is None else cls(weight=weight)
    weights = [None] * len(name) if weight is None else list(weight)
    return Several(weight=0.0, parts=tuple(make_regularizer(n, w) for n, w in zip(name, weights)))
