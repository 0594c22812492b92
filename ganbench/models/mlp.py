"""Multi-layer perceptrons: the usual toy-data architecture, the classic MLP of the original MNIST GAN, and
the maxout discriminator with a BatchNorm generator of the ALI / PacGAN toy experiments."""

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
    """``net`` maps (B, z_dim) to (B, prod(sample_shape)); ``out`` squashes it (tanh for images)."""

    def __init__(self, net: nn.Module, sample_shape: tuple[int, ...], out: str = "linear") -> None:
        super().__init__()
        self.sample_shape = sample_shape
        self.net = net
        self.out = nn.Tanh() if out == "tanh" else nn.Identity()

    def forward(self, z: Tensor) -> Tensor:  # (B, z_dim) -> (B, *sample_shape)
        return self.out(self.net(z)).view(z.shape[0], *self.sample_shape)


class Discriminator(nn.Module):
    """``net`` maps flattened samples (B, prod(sample_shape)) to raw outputs (B, 1)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

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
    n = math.prod(sample_shape)
    return (Generator(_mlp(z_dim, n, width, depth, nn.ReLU), sample_shape, output),
            Discriminator(_mlp(n, 1, width, depth, lambda: nn.LeakyReLU(0.2))))


class Maxout(nn.Module):
    """A linear layer to ``width * pieces`` units and the max over each unit's pieces (Goodfellow et al. 2013)."""

    def __init__(self, n_in: int, width: int, pieces: int) -> None:
        super().__init__()
        self.linear, self.pieces = nn.Linear(n_in, width * pieces), pieces

    def forward(self, x: Tensor) -> Tensor:  # (B, n_in) -> (B, width)
        return self.linear(x).unflatten(-1, (-1, self.pieces)).amax(-1)


def _normal_init(module: nn.Module, std: float) -> nn.Module:
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, std)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
    return module


@ARCHITECTURES.register("maxout")
def maxout(sample_shape: tuple[int, ...], z_dim: int, g_width: int = 400, g_depth: int = 4, d_width: int = 200,
           d_depth: int = 3, pieces: int = 5, init_std: float = 0.02) -> tuple[nn.Module, nn.Module]:
    """The toy-data networks of ALI and PacGAN (Lin et al. 2018, their synthetic-data code): G has ``g_depth``
    hidden layers of ``g_width`` units, each linear without bias, BatchNorm, ReLU; D has ``d_depth`` maxout
    layers of ``d_width`` units with ``pieces`` pieces; weights N(0, ``init_std``²), biases 0."""
    for name, value in (("g_width", g_width), ("g_depth", g_depth), ("d_width", d_width), ("d_depth", d_depth),
                        ("pieces", pieces)):
        if not isinstance(value, int) or value < 1:
            raise GanbenchError(f"maxout {name} must be a positive integer, got {value!r}")
    if not isinstance(init_std, (int, float)) or init_std <= 0:
        raise GanbenchError(f"maxout init_std must be > 0, got {init_std!r}")
    g_layers: list[nn.Module] = []
    for i in range(g_depth):
        g_layers += [nn.Linear(z_dim if i == 0 else g_width, g_width, bias=False),
                     nn.BatchNorm1d(g_width, momentum=0.05), nn.ReLU()]
    n = math.prod(sample_shape)
    g = Generator(nn.Sequential(*g_layers, nn.Linear(g_width, n)), sample_shape)
    d = Discriminator(nn.Sequential(*[Maxout(n if i == 0 else d_width, d_width, pieces) for i in range(d_depth)],
                                    nn.Linear(d_width, 1)))
    return _normal_init(g, init_std), _normal_init(d, init_std)
