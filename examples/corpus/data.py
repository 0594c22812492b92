"""The real data the corpus loops train on, loaded the way a user would: the 8-Gaussian ring (std 0.1) drawn once, and
scikit-learn's digits upsampled to 28 x 28 in [-1, 1] (the images ganbench's ``digits`` set at size 28 holds)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def ring(n: int = 10_000) -> torch.Tensor:
    return ring_labeled(n)[0]


def ring_labeled(n: int = 10_000) -> tuple[torch.Tensor, torch.Tensor]:
    """The ring's points and the mode each was drawn from (its class, for a conditional GAN)."""
    gen = torch.Generator().manual_seed(1234)
    modes = torch.randint(8, (n,), generator=gen)
    angles = modes * (2 * math.pi / 8)
    return 2.0 * torch.stack([angles.cos(), angles.sin()], 1) + 0.1 * torch.randn(n, 2, generator=gen), modes


def digits28() -> torch.Tensor:
    from sklearn.datasets import load_digits

    images = torch.from_numpy(load_digits().images).float().unsqueeze(1) / 16.0
    images = F.interpolate(images, size=(28, 28), mode="bilinear", align_corners=False, antialias=True)
    return images.clamp(0, 1) * 2 - 1


def load(name: str) -> torch.Tensor:
    return {"ring": ring, "digits": digits28}[name]()


# what ganbench.track evaluates against: its own copy of the same data
TRACK_DATA = {"ring": {"name": "ring", "std": 0.1}, "digits": {"name": "digits", "size": 28}}


class OneLatent(nn.Module):
    """An injected collapse (``latent="constant"``): G fed one fixed latent whatever z it is given, so every sample
    it draws, in training and in evaluation, is the same."""

    def __init__(self, g: nn.Module, latent_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.g = g
        self.register_buffer("z0", torch.randn(1, *latent_shape, generator=torch.Generator().manual_seed(0)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.g(self.z0.expand(z.shape[0], *self.z0.shape[1:]))


def with_latent(g: nn.Module, latent: str, latent_shape: tuple[int, ...]) -> nn.Module:
    """G as the ``latent`` knob makes it: ``random`` (unchanged) or ``constant`` (:class:`OneLatent`)."""
    if latent not in ("random", "constant"):
        raise ValueError(f"latent must be random or constant, not {latent!r}")
    return OneLatent(g, latent_shape) if latent == "constant" else g
