"""Differentiable augmentation of everything D sees, real and generated, in D's and G's steps: the three
DiffAugment policies of Zhao et al. (2020) -- ``color`` (brightness +-0.5, saturation x[0, 2], contrast
x[0.5, 1.5]), ``translation`` (up to 1/8 of the image, zero-filled) and ``cutout`` (a zeroed square of half the
image) -- each applied to a sample with probability ``p``: 1 is DiffAugment, and ADA's controller (Karras et al.
2020) moves ``p`` (``AdaptiveP``).

Written here rather than taken from a library: kornia's augmentations are differentiable but are other
operations (its ColorJitter is not DiffAugment's colour policy), and the reference implementations are training
scripts, not packages. Every random number comes from the run's own augmentation stream, drawn through
``uniform(*shape)`` -> U(0, 1) of shape (N, *shape) for the N samples, so runs stay deterministic and a seed
ensemble's members draw their own.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

Uniform = Callable[..., Tensor]


def _color(x: Tensor, uniform: Uniform) -> Tensor:
    x = x + (uniform(1, 1, 1) - 0.5)  # brightness
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (uniform(1, 1, 1) * 2) + mean  # saturation
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (uniform(1, 1, 1) + 0.5) + mean  # contrast


def _offsets(u: Tensor, span: int) -> Tensor:
    """Integers in [-span, span], uniformly, from U(0, 1) draws."""
    return (u * (2 * span + 1)).floor().long().clamp(max=2 * span) - span


def _translation(x: Tensor, uniform: Uniform, ratio: float = 0.125) -> Tensor:
    n, _, h, w = x.shape
    span_y, span_x = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty, tx = _offsets(uniform(1).view(n), span_y), _offsets(uniform(1).view(n), span_x)
    # out[:, :, i, j] = x[:, :, i - ty, j - tx], zero where that falls outside the image
    padded = F.pad(x, (span_x, span_x, span_y, span_y))
    rows = (torch.arange(h, device=x.device)[None, :] - ty[:, None] + span_y)  # (N, H)
    cols = (torch.arange(w, device=x.device)[None, :] - tx[:, None] + span_x)  # (N, W)
    batch = torch.arange(n, device=x.device)[:, None, None]
    return padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def _cutout(x: Tensor, uniform: Uniform, ratio: float = 0.5) -> Tensor:
    n, _, h, w = x.shape
    size_y, size_x = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = (uniform(1).view(n) * (h + (1 - size_y % 2))).floor().long()
    cx = (uniform(1).view(n) * (w + (1 - size_x % 2))).floor().long()
    ys, xs = torch.arange(h, device=x.device), torch.arange(w, device=x.device)
    inside_y = (ys[None, :] >= (cy - size_y // 2)[:, None]) & (ys[None, :] < (cy - size_y // 2 + size_y)[:, None])
    inside_x = (xs[None, :] >= (cx - size_x // 2)[:, None]) & (xs[None, :] < (cx - size_x // 2 + size_x)[:, None])
    keep = ~(inside_y[:, :, None] & inside_x[:, None, :])  # (N, H, W)
    return x * keep[:, None].to(x.dtype)


OPS = {"color": _color, "translation": _translation, "cutout": _cutout}


def augment(x: Tensor, policy: tuple[str, ...], p: Tensor | float, uniform: Uniform) -> Tensor:
    """``x`` (N, C, H, W) with each op of ``policy`` applied to each sample with probability ``p`` (a number, or
    one per sample (N,)). An empty policy or p = 0 returns ``x`` itself and draws nothing."""
    if not policy or (not isinstance(p, Tensor) and p <= 0):
        return x
    for name in policy:
        changed = OPS[name](x, uniform)
        if isinstance(p, Tensor) or p < 1:
            chosen = uniform(1, 1, 1) < (p.view(-1, 1, 1, 1) if isinstance(p, Tensor) else p)
            changed = torch.where(chosen, changed, x)
        x = changed
    return x


class AdaptiveP:
    """ADA's controller: every ``interval`` D steps, p moves by sign(r_t - target) * (batch * interval) /
    (speed_kimg * 1000), clipped to [0, 1], where r_t = E[sign(D(x))] over the interval's real batches (D's raw
    outputs): D that is too sure of the real data gets more augmentation. Karras et al. (2020): target 0.6,
    interval 4, speed 500k images from 0 to 1. One p per ensemble member (``shape``)."""

    def __init__(self, target: float, batch_size: int, shape: tuple[int, ...] = (), interval: int = 4,
                 speed_kimg: float = 500.0) -> None:
        self.target, self.interval = target, interval
        self.step_size = batch_size * interval / (speed_kimg * 1000)
        self.p = torch.zeros(shape)
        self._signs, self._count = torch.zeros(shape), 0

    def observe(self, real_out: Tensor) -> None:
        """One D step's raw outputs on real data (*shape, B, 1)."""
        lead = self.p.dim()
        self._signs = self._signs + real_out.detach().sign().reshape(*real_out.shape[:lead], -1).mean(dim=-1).cpu()
        self._count += 1
        if self._count == self.interval:
            r_t = self._signs / self._count
            self.p = (self.p + torch.sign(r_t - self.target) * self.step_size).clamp(0.0, 1.0)
            self._signs, self._count = torch.zeros_like(self._signs), 0

    def state(self) -> dict[str, Tensor]:
        return {"p": self.p.clone(), "signs": self._signs.clone(), "count": torch.tensor(self._count)}

    def load_state(self, state: dict[str, Tensor]) -> None:
        # an ensemble's members share the count (they train in lockstep): stacked, every entry is the same
        self.p, self._signs = state["p"].clone(), state["signs"].clone()
        self._count = int(state["count"].flatten()[0])
