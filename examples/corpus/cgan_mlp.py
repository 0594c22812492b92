"""A class-conditional GAN as tutorials write it: the label embedded (``nn.Embedding``) and concatenated to z for
G and to x for D, MLPs, D ends in ``nn.Sigmoid`` and trains with ``nn.BCELoss``, Adam(2e-4, betas 0.5). Fakes
are drawn for the real batch's labels. ``g_labels="shuffled"`` injects a pipeline bug: G is handed the batch's
labels in another order, while D judges its samples as of the labels asked for.

The tracker is told the class count; it calls ``G(z, y)`` and measures every class."""

from __future__ import annotations

import torch
from torch import nn

try:
    from . import data as corpus_data
except ImportError:  # run as a script
    import data as corpus_data

import ganbench

CLASSES = 8


class Generator(nn.Module):
    def __init__(self, z_dim: int, dim: int, classes: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(classes, classes)
        self.net = nn.Sequential(nn.Linear(z_dim + classes, 256), nn.LeakyReLU(0.2), nn.Linear(256, 256),
                                 nn.LeakyReLU(0.2), nn.Linear(256, dim))

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z, self.embed(y)], dim=1))


class Discriminator(nn.Module):
    def __init__(self, dim: int, classes: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(classes, classes)
        self.net = nn.Sequential(nn.Linear(dim + classes, 256), nn.LeakyReLU(0.2), nn.Linear(256, 256),
                                 nn.LeakyReLU(0.2), nn.Linear(256, 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, self.embed(y)], dim=1))


def train(data: str = "ring", seed: int = 0, steps: int = 2000, g_lr: float = 2e-4, d_lr: float = 2e-4,
          g_labels: str = "true", out: str = "results", suite: str = "corpus-cgan-mlp", track: bool = True,
          batch: int = 64) -> list[tuple[float, float]]:
    if g_labels not in ("true", "shuffled"):
        raise ValueError(f"g_labels must be true or shuffled, not {g_labels!r}")
    torch.manual_seed(seed)
    real_all, labels_all = corpus_data.ring_labeled()
    z_dim = 64
    g, d = Generator(z_dim, 2, CLASSES), Discriminator(2, CLASSES)
    opt_g = torch.optim.Adam(g.parameters(), lr=g_lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=d_lr, betas=(0.5, 0.999))
    bce = nn.BCELoss()
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)
    tracker = ganbench.track(out, g=g, d=d, data=corpus_data.TRACK_DATA[data], z_dim=z_dim, classes=CLASSES,
                             suite=suite, variant=f"cgan-mlp-{data}", seed=seed, eval_every=250,
                             config={"steps": steps, "g_lr": g_lr, "d_lr": d_lr,
                                     "g_labels": g_labels}) if track else None
    losses = []
    for step in range(1, steps + 1):
        index = torch.randint(len(real_all), (batch,))
        real, y = real_all[index], labels_all[index]
        asked = y[torch.randperm(batch)] if g_labels == "shuffled" else y  # the bug: G gets other labels
        fake = g(torch.randn(batch, z_dim), asked)
        d_real, d_fake = d(real, y), d(fake.detach(), y)
        loss_d = bce(d_real, ones) + bce(d_fake, zeros)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = bce(d(fake, y), ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        losses.append((loss_d.item(), loss_g.item()))
        if tracker:
            tracker.log(step, loss_d=loss_d, loss_g=loss_g, real_out=d_real, fake_out=d_fake, real=real,
                        fake=fake.detach(), labels=y)
            if tracker.should_stop:
                break
    if tracker:
        tracker.close()
    return losses


if __name__ == "__main__":
    train()
