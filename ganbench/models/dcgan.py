"""DCGAN (Radford et al. 2015) for 16, 28, 32 and 64 px: G upsamples with stride-2 transposed convolutions
(batch norm + ReLU, tanh output), D downsamples with stride-2 convolutions (leaky ReLU 0.2). D has no batch
norm, so gradient penalties stay per-sample (Gulrajani et al. 2017); spectral norm comes from the variant."""

from __future__ import annotations

import math

from torch import Tensor, nn

from ganbench.errors import GanbenchError
from ganbench.models.base import ARCHITECTURES

SIZES = {16: 4, 28: 7, 32: 4, 64: 4}  # image size -> the spatial size G starts from and D ends at


class Generator(nn.Module):
    def __init__(self, z_dim: int, channels: int, size: int, width: int) -> None:
        super().__init__()
        self.base = SIZES[size]
        ups = int(math.log2(size // self.base))
        self.start = width * 2 ** (ups - 1)
        self.project = nn.Sequential(nn.Linear(z_dim, self.start * self.base**2, bias=False),
                                     nn.BatchNorm1d(self.start * self.base**2), nn.ReLU())
        layers: list[nn.Module] = []
        ch = self.start
        for i in range(ups):
            last = i == ups - 1
            out = channels if last else ch // 2
            layers.append(nn.ConvTranspose2d(ch, out, 4, 2, 1, bias=last))
            layers += [nn.Tanh()] if last else [nn.BatchNorm2d(out), nn.ReLU()]
            ch = out
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:  # (B, z_dim) -> (B, C, size, size) in [-1, 1]
        return self.net(self.project(z).view(z.shape[0], self.start, self.base, self.base))


class Discriminator(nn.Module):
    def __init__(self, channels: int, size: int, width: int) -> None:
        super().__init__()
        base = SIZES[size]
        downs = int(math.log2(size // base))
        layers: list[nn.Module] = []
        ch_in, ch = channels, width
        for _ in range(downs):
            layers += [nn.Conv2d(ch_in, ch, 4, 2, 1), nn.LeakyReLU(0.2)]
            ch_in, ch = ch, ch * 2
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(ch_in * base**2, 1))

    def forward(self, x: Tensor) -> Tensor:  # (B, C, size, size) -> (B, 1) raw output
        return self.net(x)


@ARCHITECTURES.register("dcgan")
def dcgan(sample_shape: tuple[int, ...], z_dim: int, width: int = 32, d_width: int | None = None
          ) -> tuple[nn.Module, nn.Module]:
    """``width``: channels of G's last hidden layer and of D's first layer (DCGAN used 64 or 128); ``d_width``:
    D's instead, to make D stronger or weaker than G (PacGAN's crippled D, a D that overfits)."""
    if len(sample_shape) != 3 or sample_shape[1] != sample_shape[2] or sample_shape[1] not in SIZES:
        raise GanbenchError(f"dcgan needs square images of {', '.join(map(str, SIZES))} px; got shape {sample_shape}")
    for name, value in (("width", width), ("d_width", width if d_width is None else d_width)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise GanbenchError(f"dcgan {name} must be a positive integer, got {value!r}")
    channels, size = sample_shape[0], sample_shape[1]
    return Generator(z_dim, channels, size, width), Discriminator(channels, size, width if d_width is None else d_width)
