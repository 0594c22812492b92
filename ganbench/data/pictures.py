"""Pictures of the fixed-latent samples: a scatter over the true modes for 2D data, a grid for images.

Both are drawn with PIL straight into pixels: a matplotlib figure cost ~0.1 s per evaluation, which was most of
the trainer's overhead over a bare training loop on small problems (benchmarks/overhead.py).
"""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin
from torch import Tensor

from ganbench.data.base import Dataset

SCATTER_PX = 288  # side of the square plot area
MARGIN = 30  # room for the title above and the axis labels below
SAMPLE_RGB = np.array([31, 119, 180], dtype=np.float32)  # matplotlib's tab:blue, as the report's plots use
MODE_RGB = (214, 39, 40)  # tab:red
POINT_ALPHA = 0.35  # a pixel hit by n samples is 1 - (1 - alpha)^n blue: dense regions read darker
_COVER = 1.0 - (1.0 - POINT_ALPHA) ** np.arange(64, dtype=np.float32)[:, None]  # n hits -> blue share
_SHADES = (255.0 * (1.0 - _COVER) + SAMPLE_RGB * _COVER).round().astype(np.uint8)  # (64, 3): n hits -> RGB


def render_samples(samples: Tensor, dataset: Dataset, title: str, labels: Tensor | None = None) -> bytes:
    """PNG bytes of ``samples`` (N, *sample_shape); images of a conditional G, with the ``labels`` (N,) they were
    drawn for, in one row per class."""
    samples = samples.detach().float().cpu()
    if labels is not None and samples.dim() == 4:
        return _grid(rows_by_class(samples, labels.cpu()), title)
    if samples.dim() == 2 and samples.shape[1] == 1:  # 1-D data (the Dirac-GAN): points on the x axis
        samples = torch.cat([samples, torch.zeros_like(samples)], dim=1)
    if samples.dim() == 2 and samples.shape[1] == 2:
        return _scatter(samples, dataset, title)
    return _grid(samples[:64], title)


def _scatter(samples: Tensor, dataset: Dataset, title: str) -> bytes:
    """Samples as 2x2-pixel dots over the true mode centres (red rings), on a square of side 2 * span."""
    finite = samples[torch.isfinite(samples).all(dim=1)].numpy()  # (M, 2)
    if dataset.modes is not None:
        span = float(dataset.modes.abs().max()) * 1.35 + 5 * (dataset.mode_std or 0)
    else:
        span = float(np.abs(finite).max()) * 1.05 if len(finite) else 1.0
    span = span if np.isfinite(span) and span > 0 else 1.0

    def to_px(points: np.ndarray) -> np.ndarray:  # data (x, y) -> pixel (column, row) inside the plot area
        return (points * np.array([1.0, -1.0]) / (2 * span) + 0.5) * (SCATTER_PX - 1)

    px = np.round(to_px(finite)).astype(np.int64)
    cells = []
    for dx in (0, 1):  # each sample covers a 2 x 2 block
        for dy in (0, 1):
            col, row = px[:, 0] + dx, px[:, 1] + dy
            inside = (col >= 0) & (col < SCATTER_PX) & (row >= 0) & (row < SCATTER_PX)
            cells.append(row[inside] * SCATTER_PX + col[inside])
    hits = np.bincount(np.concatenate(cells), minlength=SCATTER_PX**2).reshape(SCATTER_PX, SCATTER_PX)
    plot = _SHADES[np.minimum(hits, len(_SHADES) - 1)]  # (H, W, 3)

    picture = Image.new("RGB", (SCATTER_PX + 2 * MARGIN, SCATTER_PX + 2 * MARGIN), "white")
    picture.paste(Image.fromarray(plot), (MARGIN, MARGIN))
    draw = ImageDraw.Draw(picture)
    origin = MARGIN + to_px(np.zeros(2))
    draw.line([(MARGIN, origin[1]), (MARGIN + SCATTER_PX, origin[1])], fill=(225, 225, 225))  # faint axes
    draw.line([(origin[0], MARGIN), (origin[0], MARGIN + SCATTER_PX)], fill=(225, 225, 225))
    if dataset.modes is not None:
        for x, y in MARGIN + to_px(dataset.modes.cpu().numpy()):
            draw.ellipse([x - 5, y - 5, x + 5, y + 5], outline=MODE_RGB, width=1)
        # the samples over the rings: a G that puts every sample on one point of a mode stays visible
        picture.paste(Image.fromarray(plot), (MARGIN, MARGIN), Image.fromarray(((hits > 0) * 255).astype(np.uint8)))
    draw.rectangle([MARGIN - 1, MARGIN - 1, MARGIN + SCATTER_PX, MARGIN + SCATTER_PX], outline=(90, 90, 90))
    font = ImageFont.load_default(size=11)
    draw.text((picture.width / 2, MARGIN / 2), title, fill="black", font=font, anchor="mm")
    low, high = MARGIN + SCATTER_PX + 4, f"{span:.3g}"
    draw.text((MARGIN, low), f"-{high}", fill=(90, 90, 90), font=font, anchor="mt")
    draw.text((MARGIN + SCATTER_PX, low), high, fill=(90, 90, 90), font=font, anchor="mt")
    if len(finite) < len(samples):
        draw.text((picture.width / 2, low), f"{len(samples) - len(finite)} of {len(samples)} samples not finite",
                  fill=MODE_RGB, font=font, anchor="mt")
    elif len(finite) > 1 and (hits > 0).sum() <= 16:  # at most four 2 x 2 dots: say what the eye may miss
        draw.text((picture.width / 2, low), f"all {len(finite)} samples on {int((hits > 0).sum())} pixels",
                  fill=MODE_RGB, font=font, anchor="mt")
    return _png(picture, title)


def image_grid(images: Tensor, columns: int = 8, padding: int = 2) -> np.ndarray:
    """(H, W, 3) uint8: ``images`` (N, C, h, w) in [-1, 1] in rows of ``columns``, on white, ``padding`` pixels
    apart -- the picture torchvision's ``make_grid`` (normalize, value_range (-1, 1), pad_value 1) makes, pixel for
    pixel (a test holds them equal), without importing torchvision (2 s of a run's first evaluation)."""
    images = torch.nan_to_num(images, nan=0.0).clamp(-1, 1)
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    n, channels, h, w = images.shape
    if n == 1:  # make_grid's one image: no frame
        return (images[0].permute(1, 2, 0).add(1).div(2) * 255).round().to(torch.uint8).numpy()
    rows, cols = -(-n // columns), min(columns, n)
    grid = torch.ones(channels, rows * (h + padding) + padding, cols * (w + padding) + padding)
    for i, image in enumerate((images + 1) / 2):
        top, left = (i // columns) * (h + padding) + padding, (i % columns) * (w + padding) + padding
        grid[:, top:top + h, left:left + w] = image
    return (grid.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()


CLASS_ROWS = 16  # classes shown, a row each


def rows_by_class(images: Tensor, labels: Tensor, columns: int = 8) -> Tensor:
    """The first ``columns`` images of each class in turn (up to CLASS_ROWS classes), for a grid of that many
    columns: row c holds class c."""
    rows = []
    for c in labels.unique().tolist()[:CLASS_ROWS]:
        own = images[labels == c][:columns]
        blank = torch.ones(columns - len(own), *images.shape[1:])  # white, where a class has fewer samples
        rows.append(torch.cat([own, blank]))
    return torch.cat(rows)


def _grid(images: Tensor, title: str) -> bytes:
    """A grid 8 images wide, each image scaled up to about 48 px."""
    picture = Image.fromarray(image_grid(images))
    scale = max(1, 48 // images.shape[-1])
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    return _png(picture, title)


def _png(picture: Image.Image, title: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", title)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", pnginfo=info, compress_level=1)  # 4x faster than the default 6
    return buffer.getvalue()
