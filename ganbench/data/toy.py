"""The standard 2D mode-collapse benchmarks: a ring and a grid of Gaussians (Metz et al. 2017;
Srivastava et al. 2017, VEEGAN; Lin et al. 2018, PacGAN). Mixtures are uniform over their modes."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ganbench.data.base import DATASETS, Dataset
from ganbench.errors import GanbenchError


class GaussianMixture2D(Dataset):
    sample_shape = (2,)
    tuning = "2d"
    default_architecture = {"name": "mlp", "width": 128, "depth": 3}

    def __init__(self, modes: Tensor, std: float) -> None:
        if std <= 0:
            raise GanbenchError(f"dataset std must be > 0, got {std}")
        self.modes = modes.to(torch.float32)  # (K, 2)
        self.mode_std = float(std)
        self.num_modes = len(modes)

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        idx = torch.randint(len(self.modes), (n,), generator=generator)
        noise = torch.randn(n, 2, generator=generator)
        return self.modes[idx] + self.mode_std * noise  # (n, 2)


    def assign_modes(self, samples: Tensor, quality_std: float = 3.0) -> tuple[Tensor, Tensor]:
        """Nearest centre; high quality within ``quality_std`` standard deviations of it (VEEGAN, PacGAN)."""
        samples = samples.flatten(1).double()
        dist, nearest = torch.cdist(samples, self.modes.double().to(samples.device)).min(dim=1)  # (N,), (N,)
        return nearest, torch.isfinite(samples).all(dim=1) & (dist <= quality_std * self.mode_std)


@DATASETS.register("ring")
class Ring(GaussianMixture2D):
    """``modes`` Gaussians evenly spaced on a circle of ``radius``."""

    def __init__(self, modes: int = 8, radius: float = 2.0, std: float = 0.02) -> None:
        if not isinstance(modes, int) or modes < 1:
            raise GanbenchError(f"ring modes must be a positive integer, got {modes!r}")
        angles = torch.arange(modes, dtype=torch.float64) * (2 * math.pi / modes)
        super().__init__(radius * torch.stack([angles.cos(), angles.sin()], dim=1), std)


@DATASETS.register("grid")
class Grid(GaussianMixture2D):
    """``side`` x ``side`` Gaussians evenly spaced over [-extent, extent]^2."""

    def __init__(self, side: int = 5, extent: float = 4.0, std: float = 0.05) -> None:
        if not isinstance(side, int) or side < 1:
            raise GanbenchError(f"grid side must be a positive integer, got {side!r}")
        ticks = torch.linspace(-extent, extent, side, dtype=torch.float64) if side > 1 else torch.zeros(1)
        xs, ys = torch.meshgrid(ticks, ticks, indexing="ij")
        super().__init__(torch.stack([xs.flatten(), ys.flatten()], dim=1), std)
