"""Pictures of the fixed-latent samples: a scatter over the true modes for 2D data, a grid for images."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from torch import Tensor  # noqa: E402

from ganbench.data.base import Dataset  # noqa: E402


def render_samples(samples: Tensor, dataset: Dataset, title: str) -> bytes:
    """PNG bytes of ``samples`` (N, *sample_shape)."""
    samples = samples.detach().float().cpu()
    if samples.dim() == 2 and samples.shape[1] == 2:
        return _scatter(samples, dataset, title)
    return _grid(samples[:64], title)


def _scatter(samples: Tensor, dataset: Dataset, title: str) -> bytes:
    fig, ax = plt.subplots(figsize=(3.2, 3.2), dpi=90)
    if dataset.modes is not None:
        modes = dataset.modes.cpu()
        span = float(modes.abs().max()) * 1.35 + 5 * (dataset.mode_std or 0)
        ax.scatter(modes[:, 0], modes[:, 1], s=60, facecolors="none", edgecolors="tab:red", linewidths=1, zorder=3)
        ax.set_xlim(-span, span)
        ax.set_ylim(-span, span)
    finite = torch.isfinite(samples).all(dim=1)
    ax.scatter(samples[finite, 0], samples[finite, 1], s=1.5, alpha=0.5, color="tab:blue", rasterized=True)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=8)
    ax.tick_params(labelsize=6)
    return _png(fig)


def _grid(images: Tensor, title: str) -> bytes:
    """An 8 x 8 grid, each image scaled up to about 48 px (PIL, no figure: evaluation stays cheap)."""
    from PIL import Image, PngImagePlugin
    from torchvision.utils import make_grid

    images = torch.nan_to_num(images, nan=0.0).clamp(-1, 1)
    grid = make_grid(images, nrow=8, normalize=True, value_range=(-1, 1), pad_value=1.0)  # (C, H, W) in [0, 1]
    array = (grid.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    picture = Image.fromarray(array.squeeze(-1) if array.shape[-1] == 1 else array)
    scale = max(1, 48 // images.shape[-1])
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", title)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()
