"""Multi-layer perceptrons: the usual toy-data architecture, and the classic MLP of the original MNIST GAN."""

from __future__ import annotations

import math

from torch import Tensor, nn

from ganbench.errors import GanbenchError
from ganbench.models.base import ARCHITECTURES


def _mlp(n_in: int, n_out: int, width: int, depth: int, activation: type[nn.Module]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(n_in if i == 0 else width, width), activation()]
    layers.append(nn.Linear(width if depth else n_in, n_out))
    return nn.Sequential(*layers)


class Generator(nn.Module):
    def __init__(self, z_dim: int, sample_shape: tuple[int, ...], width: int, depth: int, out: str) -> None:
        super().__init__()
        self.sample_shape = sample_shape
        self.net = _mlp(z_dim, math.prod(sample_shape), width, depth, nn.ReLU)
        self.out = nn.Tanh() if out == "tanh" else nn.Identity()

    def forward(self, z: Tensor) -> Tensor:  # (B, z_dim) -> (B, *sample_shape)
        return self.out(self.net(z)).view(z.shape[0], *self.sample_shape)


class Discriminator(nn.Module):
    def __init__(self, sample_shape: tuple[int, ...], width: int, depth: int) -> None:
        super().__init__()
        self.net = _mlp(math.prod(sample_shape), 1, width, depth, lambda: nn.LeakyReLU(0.2))

    def forward(self, x: Tensor) -> Tensor:  # (B, *sample_shape) -> (B, 1) raw output
        return self.net(x.flatten(1))


@ARCHITECTURES.register("mlp")
def mlp(sample_shape: tuple[int, ...], z_dim: int, width: int = 128, depth: int = 3,
        output: str = "linear") -> tuple[nn.Module, nn.Module]:
    """G and D with ``depth`` hidden layers of ``width`` units; ``output: tanh`` for images in [-1, 1]."""
    if not isinstance(width, int) or width < 1 or not isinstance(depth, int) or depth < 0:
        raise GanbenchError(f"mlp width must be >= 1 and depth >= 0, got width={width!r} depth={depth!r}")
    if output not in ("linear", "tanh"):
        raise GanbenchError(f"mlp output must be 'linear' or 'tanh', got {output!r}")
    return Generator(z_dim, sample_shape, width, depth, output), Discriminator(sample_shape, width, depth)
