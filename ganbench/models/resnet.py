"""ResNet generator and discriminator in the SN-GAN style (Miyato et al. 2018, appendix B.4; the authors'
sngan_projection code), for 16, 32 and 64 px.

G: z -> linear to 4 x 4 -> residual blocks that double the size (BN, ReLU, nearest 2x upsampling, 3x3 conv,
BN, ReLU, 3x3 conv; a 1x1 conv on the upsampled shortcut) -> BN, ReLU, 3x3 conv, tanh.
D: an "optimized" first block (conv, ReLU, conv, 2x2 average pooling; shortcut pooled then 1x1 conv), residual
blocks (ReLU, conv, ReLU, conv, pooling where they halve the size; a 1x1 conv on the shortcut where channels
change or the size halves), ReLU, a sum over positions, a linear layer. No batch norm in D (gradient penalties
stay per-sample); spectral norm comes from the variant, as for every architecture.

At 32 px (and 16) every block has the same channels and D halves the size twice and then keeps it for two
blocks, as SN-GAN's CIFAR-10 model (G 256, D 128 channels: ``width: 128``, G twice D by default). At 64 px the
channels double per level (G 8w, 4w, 2w, w; D w, 2w, 4w, 8w down to 4 x 4, then one more block there), in the
style of BigGAN's 64 px models.
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor, nn

from ganbench.errors import GanbenchError
from ganbench.models.base import ARCHITECTURES

SIZES = (16, 32, 64)
BASE = 4  # G starts and D ends at 4 x 4


class GBlock(nn.Module):
    def __init__(self, ch_in: int, ch_out: int) -> None:
        super().__init__()
        self.bn1, self.bn2 = nn.BatchNorm2d(ch_in), nn.BatchNorm2d(ch_out)
        self.conv1, self.conv2 = nn.Conv2d(ch_in, ch_out, 3, 1, 1), nn.Conv2d(ch_out, ch_out, 3, 1, 1)
        self.shortcut = nn.Conv2d(ch_in, ch_out, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = F.interpolate(F.relu(self.bn1(x)), scale_factor=2, mode="nearest")
        h = self.conv2(F.relu(self.bn2(self.conv1(h))))
        return h + self.shortcut(F.interpolate(x, scale_factor=2, mode="nearest"))


class DBlock(nn.Module):
    def __init__(self, ch_in: int, ch_out: int, down: bool, first: bool = False) -> None:
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(ch_in, ch_out, 3, 1, 1), nn.Conv2d(ch_out, ch_out, 3, 1, 1)
        self.down, self.first = down, first
        self.shortcut = nn.Conv2d(ch_in, ch_out, 1) if (ch_in != ch_out or down) else None

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv2(F.relu(self.conv1(x if self.first else F.relu(x))))  # the first block sees raw pixels
        if self.down:
            h = F.avg_pool2d(h, 2)
        s = x
        if self.first:  # pool, then project: the cheaper order on 3 input channels
            s = self.shortcut(F.avg_pool2d(s, 2))
        elif self.shortcut is not None:
            s = self.shortcut(s)
            s = F.avg_pool2d(s, 2) if self.down else s
        return h + s


class Generator(nn.Module):
    def __init__(self, z_dim: int, channels: int, widths: list[int]) -> None:
        super().__init__()
        self.start = widths[0]
        self.project = nn.Linear(z_dim, self.start * BASE**2)
        self.blocks = nn.Sequential(*(GBlock(a, b) for a, b in zip(widths, widths[1:])))
        self.out = nn.Sequential(nn.BatchNorm2d(widths[-1]), nn.ReLU(), nn.Conv2d(widths[-1], channels, 3, 1, 1),
                                 nn.Tanh())

    def forward(self, z: Tensor) -> Tensor:  # (B, z_dim) -> (B, C, size, size) in [-1, 1]
        return self.out(self.blocks(self.project(z).view(z.shape[0], self.start, BASE, BASE)))


class Discriminator(nn.Module):
    def __init__(self, channels: int, widths: list[int], downs: list[bool]) -> None:
        super().__init__()
        blocks = [DBlock(channels, widths[0], down=True, first=True)]
        blocks += [DBlock(a, b, down) for a, b, down in zip(widths, widths[1:], downs[1:])]
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(widths[-1], 1)

    def forward(self, x: Tensor) -> Tensor:  # (B, C, size, size) -> (B, 1) raw output
        return self.head(F.relu(self.blocks(x)).sum(dim=(2, 3)))


@ARCHITECTURES.register("resnet")
def resnet(sample_shape: tuple[int, ...], z_dim: int, width: int = 128, g_width: int | None = None
           ) -> tuple[nn.Module, nn.Module]:
    """``width``: D's channels (SN-GAN's CIFAR-10 model: 128); ``g_width``: G's (default twice ``width``,
    SN-GAN's 256)."""
    if len(sample_shape) != 3 or sample_shape[1] != sample_shape[2] or sample_shape[1] not in SIZES:
        raise GanbenchError(f"resnet needs square images of {', '.join(map(str, SIZES))} px; got shape {sample_shape}")
    for name, value in (("width", width), ("g_width", g_width)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise GanbenchError(f"resnet {name} must be a positive integer, got {value!r}")
    channels, size = sample_shape[0], sample_shape[1]
    levels = int(math.log2(size // BASE))  # up (G) or down (D) blocks
    g_width = 2 * width if g_width is None else g_width
    if size == 64:  # doubling per level: G 8w, 4w, 2w, w, w; D w, 2w, 4w, 8w down to 4 x 4, then 8w at 4 x 4
        g_widths = [g_width * 2 ** max(levels - 1 - i, 0) // 2 for i in range(levels + 1)]
        d_widths, downs = [width * 2**i for i in range(levels)] + [width * 2 ** (levels - 1)], [True] * 4 + [False]
    else:  # SN-GAN's CIFAR-10 D: two blocks halve the size, two more keep it
        g_widths, d_widths, downs = [g_width] * (levels + 1), [width] * 4, [True, True, False, False]
    return Generator(z_dim, channels, g_widths), Discriminator(channels, d_widths, downs)
