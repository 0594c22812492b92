"""Sample pictures: the scatter puts each sample where it belongs and survives non-finite samples."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from ganbench.data import make_dataset
from ganbench.data.pictures import MARGIN, SCATTER_PX, render_samples


def _pixels(png: bytes) -> np.ndarray:
    picture = Image.open(io.BytesIO(png))
    assert picture.text["Title"] == "a title"
    return np.asarray(picture.convert("RGB")).astype(int)


def test_scatter_draws_samples_where_they_are_and_nowhere_else():
    ring = make_dataset("ring", {})
    span = float(ring.modes.abs().max()) * 1.35 + 5 * ring.mode_std
    corner = torch.tensor([[span * 0.8, span * 0.8]]).repeat(50, 1)  # top-right, far from every mode
    pixels = _pixels(render_samples(corner, ring, "a title"))
    col = MARGIN + round((0.8 / 2 + 0.5) * (SCATTER_PX - 1))
    row = MARGIN + round((-0.8 / 2 + 0.5) * (SCATTER_PX - 1))
    assert pixels[row, col, 2] > pixels[row, col, 0] + 100  # blue where the samples are
    assert (pixels[row + 40, col - 40] == 255).all()  # white where none are
    bottom_left = pixels[MARGIN + SCATTER_PX - 20, MARGIN + 20]
    assert (bottom_left == 255).all()


def test_scatter_of_non_finite_samples_still_renders():
    ring = make_dataset("ring", {})
    samples = torch.full((100, 2), float("nan"))
    pixels = _pixels(render_samples(samples, ring, "a title"))
    assert pixels.shape == (SCATTER_PX + 2 * MARGIN, SCATTER_PX + 2 * MARGIN, 3)


def test_image_grid_has_eight_columns():
    images = torch.zeros(64, 1, 8, 8)
    pixels = _pixels(render_samples(images, make_dataset("ring", {}), "a title"))
    assert pixels.shape[1] == pixels.shape[0]  # 8 x 8 tiles of equal size


@pytest.mark.parametrize("n, channels, side", [(64, 1, 16), (64, 3, 28), (13, 3, 7), (5, 1, 8), (1, 1, 4)])
def test_image_grid_is_torchvisions_make_grid_pixel_for_pixel(n, channels, side):
    from torchvision.utils import make_grid

    from ganbench.data.pictures import image_grid

    images = torch.rand(n, channels, side, side, generator=torch.Generator().manual_seed(n)) * 2.4 - 1.2
    images[0, 0, 0, 0] = float("nan")
    clean = torch.nan_to_num(images, nan=0.0).clamp(-1, 1)
    expected = make_grid(clean, nrow=8, normalize=True, value_range=(-1, 1), pad_value=1.0)
    np.testing.assert_array_equal(image_grid(images),
                                  (expected.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy())


def test_samples_on_one_point_of_a_mode_stay_visible_and_are_named():
    """A G that gives one sample for every latent, on a mode: its dot is drawn over the mode's ring (it vanished
    under it), and the picture says all samples sit on a few pixels."""
    ring = make_dataset("ring", {})
    mode = ring.modes[0]
    samples = mode.repeat(500, 1)
    png = render_samples(samples, ring, "a title")
    pixels = _pixels(png)
    span = float(ring.modes.abs().max()) * 1.35 + 5 * ring.mode_std
    col, row = (np.array([1.0, -1.0]) * mode.numpy() / (2 * span) + 0.5) * (SCATTER_PX - 1) + MARGIN
    dot = pixels[int(round(row)), int(round(col))]
    assert dot[2] > dot[0] + 100  # the samples' blue, not the ring's red
    def note(picture: np.ndarray) -> int:  # red text pixels in the band under the plot
        band = picture[MARGIN + SCATTER_PX + 4:, MARGIN + 40:MARGIN + SCATTER_PX - 40]
        return int(((band[..., 0] > 150) & (band[..., 1] < 100)).sum())

    assert note(pixels) > 20 and note(_pixels(render_samples(torch.randn(500, 2), ring, "a title"))) == 0
