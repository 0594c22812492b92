"""The real data the corpus loops train on, loaded the way a user would: the 8-Gaussian ring (std 0.1) drawn once, and
scikit-learn's digits upsampled to 28 x 28 in [-1, 1] (the images ganbench's ``digits`` set at size 28 holds)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def ring(n: int = 10_000) -> torch.Tensor:
    gen = torch.Generator().manual_seed(1234)
    angles = torch.randint(8, (n,), generator=gen) * (2 * math.pi / 8)
    return 2.0 * torch.stack([angles.cos(), angles.sin()], 1) + 0.1 * torch.randn(n, 2, generator=gen)


def digits28() -> torch.Tensor:
    from sklearn.datasets import load_digits

    images = torch.from_numpy(load_digits().images).float().unsqueeze(1) / 16.0
    images = F.interpolate(images, size=(28, 28), mode="bilinear", align_corners=False, antialias=True)
    return images.clamp(0, 1) * 2 - 1


def load(name: str) -> torch.Tensor:
    return {"ring": ring, "digits": digits28}[name]()


# what ganbench.track evaluates against: its own copy of the same data
TRACK_DATA = {"ring": {"name": "ring", "std": 0.1}, "digits": {"name": "digits", "size": 28}}
