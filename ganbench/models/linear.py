"""The Dirac-GAN's models (Mescheder et al. 2018): G(z) = theta whatever z, D(x) = psi * x."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganbench.errors import GanbenchError
from ganbench.models.base import ARCHITECTURES


class PointGenerator(nn.Module):
    def __init__(self, theta: float) -> None:
        super().__init__()
        self.theta = nn.Parameter(torch.tensor([theta]))

    def forward(self, z: Tensor) -> Tensor:  # (B, z_dim) -> (B, 1), every sample at theta
        return self.theta.expand(z.shape[0], 1)


class LinearDiscriminator(nn.Module):
    def __init__(self, psi: float) -> None:
        super().__init__()
        self.psi = nn.Linear(1, 1, bias=False)
        with torch.no_grad():
            self.psi.weight.fill_(psi)

    def forward(self, x: Tensor) -> Tensor:  # (B, 1) -> (B, 1) raw output psi * x
        return self.psi(x)


@ARCHITECTURES.register("linear")
def linear(sample_shape: tuple[int, ...], z_dim: int, theta: float = 1.0, psi: float = 1.0
           ) -> tuple[nn.Module, nn.Module]:
    """The Dirac-GAN's G and D, starting at (theta, psi) = (1, 1) as in the paper."""
    if tuple(sample_shape) != (1,):
        raise GanbenchError(f"the linear architecture is for 1-D data (the dirac dataset), got {sample_shape}")
    return PointGenerator(float(theta)), LinearDiscriminator(float(psi))
