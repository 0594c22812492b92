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
    default_architecture = {"name": "mlp", "width": 128, "depth": 3}
    weights: Tensor | None = None  # (K,) each mode's share of the training samples; None: even

    def __init__(self, modes: Tensor, std: float, weights: list[float] | None = None) -> None:
        if std <= 0:
            raise GanbenchError(f"dataset std must be > 0, got {std}")
        self.modes = modes.to(torch.float32)  # (K, 2)
        self.mode_std = float(std)
        self.num_modes = self.num_classes = len(modes)  # each mode is a class: "which mode" is the label
        self.weights = None if weights is None else _weights(weights, len(modes))

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        return self.sample_labeled(n, generator)[0]

    def sample_labeled(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        return self._draw(n, generator, self.weights)

    def reference(self, n: int, generator: torch.Generator) -> Tensor:
        # ``sample``'s draw where the modes are even: tracking's own data overrides ``sample`` alone
        return self.sample(n, generator) if self.weights is None else self.reference_labeled(n, generator)[0]

    def reference_labeled(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """Evaluation reads every mode evenly, whatever share of the training samples a mode has (``weights``)."""
        return self._draw(n, generator, None)

    def _draw(self, n: int, generator: torch.Generator, weights: Tensor | None) -> tuple[Tensor, Tensor]:
        """n samples (n, 2) and their modes (n,): modes even (drawn as before weights existed: the same numbers) or
        by ``weights``."""
        if weights is None:
            idx = torch.randint(len(self.modes), (n,), generator=generator)
        else:
            idx = torch.multinomial(weights, n, replacement=True, generator=generator)
        noise = torch.randn(n, 2, generator=generator)
        return self.modes[idx] + self.mode_std * noise, idx

    def label_prior(self) -> Tensor:
        return torch.full((len(self.modes),), 1.0 / len(self.modes)) if self.weights is None else self.weights

    def assign_modes(self, samples: Tensor, quality_std: float = 3.0) -> tuple[Tensor, Tensor]:
        """Nearest centre; high quality within ``quality_std`` standard deviations of it (VEEGAN, PacGAN)."""
        samples = samples.flatten(1).double()
        dist, nearest = torch.cdist(samples, self.modes.double().to(samples.device)).min(dim=1)  # (N,), (N,)
        return nearest, torch.isfinite(samples).all(dim=1) & (dist <= quality_std * self.mode_std)


def _weights(weights: list[float], k: int) -> Tensor:
    """Relative mode weights as probabilities (K,)."""
    if not isinstance(weights, (list, tuple)) or len(weights) != k or any(
            not isinstance(w, (int, float)) or w < 0 for w in weights) or not sum(weights) > 0:
        raise GanbenchError(f"weights must be {k} numbers >= 0, one per mode, not all 0; got {weights!r}")
    w = torch.tensor(weights, dtype=torch.float64)
    return (w / w.sum()).float()


@DATASETS.register("ring")
class Ring(GaussianMixture2D):
    """``modes`` Gaussians evenly spaced on a circle of ``radius``; ``weights``: each mode's relative share of the
    training samples (default even; a 0 cuts a class's data, as a calibration injects it). Evaluation reads every
    mode evenly."""

    def __init__(self, modes: int = 8, radius: float = 2.0, std: float = 0.02, weights: list[float] | None = None
                 ) -> None:
        if not isinstance(modes, int) or modes < 1:
            raise GanbenchError(f"ring modes must be a positive integer, got {modes!r}")
        angles = torch.arange(modes, dtype=torch.float64) * (2 * math.pi / modes)
        super().__init__(radius * torch.stack([angles.cos(), angles.sin()], dim=1), std, weights)


@DATASETS.register("grid")
class Grid(GaussianMixture2D):
    """``side`` x ``side`` Gaussians evenly spaced over [-extent, extent]^2; ``weights`` as the ring's."""

    def __init__(self, side: int = 5, extent: float = 4.0, std: float = 0.05, weights: list[float] | None = None
                 ) -> None:
        if not isinstance(side, int) or side < 1:
            raise GanbenchError(f"grid side must be a positive integer, got {side!r}")
        ticks = torch.linspace(-extent, extent, side, dtype=torch.float64) if side > 1 else torch.zeros(1)
        xs, ys = torch.meshgrid(ticks, ticks, indexing="ij")
        super().__init__(torch.stack([xs.flatten(), ys.flatten()], dim=1), std, weights)


@DATASETS.register("overlapping_gaussians")
class OverlappingGaussians(Dataset):
    """A 1-D mixture whose components overlap, each component a class: TAC-GAN's synthetic set (Gong et al.
    2019), means 0, 3, 6 and standard deviations 1, 2, 3, equally likely. A sample's class is the component most
    likely to have drawn it (the Bayes classifier), so even the real data's label fidelity is below 1; it is a
    high-quality member of that class within ``quality_std`` of its mean."""

    sample_shape = (1,)
    default_architecture = {"name": "mlp", "width": 32, "depth": 2}

    def __init__(self, means: list[float] = (0.0, 3.0, 6.0), stds: list[float] = (1.0, 2.0, 3.0),
                 quality_std: float = 3.0) -> None:
        means, stds = list(means), list(stds)
        if len(means) != len(stds) or len(means) < 2:
            raise GanbenchError(f"overlapping_gaussians needs as many means as stds, at least 2; got {means!r} and "
                                f"{stds!r}")
        if any(not isinstance(s, (int, float)) or s <= 0 for s in stds):
            raise GanbenchError(f"overlapping_gaussians stds must be > 0, got {stds!r}")
        self.means = torch.tensor(means, dtype=torch.float64)
        self.stds = torch.tensor(stds, dtype=torch.float64)
        self.num_modes = self.num_classes = len(means)
        self.quality_std = float(quality_std)

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        return self.sample_labeled(n, generator)[0]

    def sample_labeled(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        idx = torch.randint(len(self.means), (n,), generator=generator)
        noise = torch.randn(n, 1, generator=generator, dtype=torch.float64)
        return (self.means[idx, None] + self.stds[idx, None] * noise).float(), idx

    def reference_labeled(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        return self.sample_labeled(n, generator)

    def label_prior(self) -> Tensor:
        return torch.full((len(self.means),), 1.0 / len(self.means))

    def assign_modes(self, samples: Tensor) -> tuple[Tensor, Tensor]:
        """The most likely component of each sample, and whether it lies within ``quality_std`` of its mean."""
        x = samples.flatten(1)[:, :1].double().cpu()
        z = (x - self.means) / self.stds  # (N, K)
        likely = (-0.5 * z.square() - self.stds.log()).argmax(dim=1)
        near = z.abs().gather(1, likely[:, None]).squeeze(1) <= self.quality_std
        return likely, torch.isfinite(x).all(dim=1) & near
