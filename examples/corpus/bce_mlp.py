"""The classic tutorial GAN: MLPs, D ends in ``nn.Sigmoid`` and trains with ``nn.BCELoss`` (which clamps each
log term at -100), Adam(2e-4, betas 0.5). The tracker is told nothing about the sigmoid: it sees it."""

from __future__ import annotations

import torch
from torch import nn

try:
    from . import data as corpus_data
except ImportError:  # run as a script
    import data as corpus_data

import ganbench


def networks(dim: int, z_dim: int, image: bool) -> tuple[nn.Module, nn.Module]:
    g = nn.Sequential(nn.Linear(z_dim, 256), nn.LeakyReLU(0.2), nn.Linear(256, 256), nn.LeakyReLU(0.2),
                      nn.Linear(256, dim), nn.Tanh() if image else nn.Identity())
    d = nn.Sequential(nn.Linear(dim, 256), nn.LeakyReLU(0.2), nn.Linear(256, 256), nn.LeakyReLU(0.2),
                      nn.Linear(256, 1), nn.Sigmoid())
    return g, d


def train(data: str = "ring", seed: int = 0, steps: int = 2000, g_lr: float = 2e-4, d_lr: float = 2e-4,
          d_init: str = "default", out: str = "results", suite: str = "corpus-bce-mlp", track: bool = True,
          batch: int = 64, latent: str = "random") -> list[tuple[float, float]]:
    torch.manual_seed(seed)
    real_all = corpus_data.load(data)
    shape = real_all.shape[1:]
    dim, z_dim = real_all[0].numel(), 64
    g, d = networks(dim, z_dim, image=len(shape) > 1)
    g = corpus_data.with_latent(g, latent, (z_dim,))
    if d_init == "zeros":  # a broken init: every weight zero
        for p in d.parameters():
            nn.init.zeros_(p)
    opt_g = torch.optim.Adam(g.parameters(), lr=g_lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=d_lr, betas=(0.5, 0.999))
    bce = nn.BCELoss()
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)
    tracker = ganbench.track(out, g=_Shaped(g, shape), d=_Flat(d), data=corpus_data.TRACK_DATA[data], z_dim=z_dim,
                             suite=suite, variant=f"bce-mlp-{data}", seed=seed, eval_every=250,
                             config={"steps": steps, "g_lr": g_lr, "d_lr": d_lr, "d_init": d_init,
                                     "latent": latent}) if track else None
    losses = []
    for step in range(1, steps + 1):
        real = real_all[torch.randint(len(real_all), (batch,))].flatten(1)
        fake = g(torch.randn(batch, z_dim))
        d_real, d_fake = d(real), d(fake.detach())
        loss_d = bce(d_real, ones) + bce(d_fake, zeros)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = bce(d(fake), ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        losses.append((loss_d.item(), loss_g.item()))
        if tracker:
            tracker.log(step, loss_d=loss_d, loss_g=loss_g, real_out=d_real, fake_out=d_fake)
            if tracker.should_stop:
                break
    if tracker:
        tracker.close()
    return losses


class _Shaped(nn.Module):
    """G's flat output in the data's shape, for the tracker's evaluation."""

    def __init__(self, g: nn.Module, shape: torch.Size) -> None:
        super().__init__()
        self.g, self.shape = g, shape

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.g(z).view(len(z), *self.shape)


class _Flat(nn.Sequential):
    """D reading the data's shape."""

    def __init__(self, d: nn.Sequential) -> None:
        super().__init__(nn.Flatten(), *d)


if __name__ == "__main__":
    train()
