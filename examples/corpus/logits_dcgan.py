"""A DCGAN in the PyTorch-examples style: transposed-conv G with BatchNorm, conv D with LeakyReLU that returns
logits, ``nn.BCEWithLogitsLoss``, the DCGAN init (N(0, 0.02) weights), Adam(2e-4, betas 0.5). On the ring the
same loop runs MLPs. The tracker gets real and fake batches too, for ||dD/dx||."""

from __future__ import annotations

import torch
from torch import nn

try:
    from . import data as corpus_data
except ImportError:
    import data as corpus_data

import ganbench

Z = 32


class Generator(nn.Module):
    def __init__(self, image: bool) -> None:
        super().__init__()
        self.image = image
        if image:
            self.fc = nn.Sequential(nn.Linear(Z, 32 * 7 * 7), nn.BatchNorm1d(32 * 7 * 7), nn.ReLU())
            self.up = nn.Sequential(nn.ConvTranspose2d(32, 16, 4, 2, 1), nn.BatchNorm2d(16), nn.ReLU(),
                                    nn.ConvTranspose2d(16, 1, 4, 2, 1), nn.Tanh())
        else:
            self.fc = nn.Sequential(nn.Linear(Z, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 128),
                                    nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 2))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z)
        return self.up(h.view(-1, 32, 7, 7)) if self.image else h


class Discriminator(nn.Module):
    def __init__(self, image: bool) -> None:
        super().__init__()
        if image:
            self.net = nn.Sequential(nn.Conv2d(1, 16, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(16, 32, 4, 2, 1),
                                     nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(32 * 7 * 7, 1))
        else:
            self.net = nn.Sequential(nn.Linear(2, 128), nn.LeakyReLU(0.2), nn.Linear(128, 128), nn.LeakyReLU(0.2),
                                     nn.Linear(128, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def dcgan_init(m: nn.Module) -> None:
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        nn.init.zeros_(m.bias)
    elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def zero_init(m: nn.Module) -> None:
    for p in m.parameters(recurse=False):
        nn.init.zeros_(p)


def train(data: str = "ring", seed: int = 0, steps: int = 2000, g_lr: float = 2e-4, d_lr: float = 2e-4,
          d_init: str = "default", out: str = "results", suite: str = "corpus-logits-dcgan", track: bool = True,
          batch: int = 64, latent: str = "random") -> list[tuple[float, float]]:
    torch.manual_seed(seed)
    images = corpus_data.load(data)
    image = images.dim() == 4
    netG, netD = Generator(image), Discriminator(image)
    netG.apply(dcgan_init)
    netD.apply(zero_init if d_init == "zeros" else dcgan_init)
    netG = corpus_data.with_latent(netG, latent, (Z,))
    criterion = nn.BCEWithLogitsLoss()
    optD = torch.optim.Adam(netD.parameters(), lr=d_lr, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=g_lr, betas=(0.5, 0.999))
    tracker = None
    if track:
        tracker = ganbench.track(out, g=netG, d=netD, data=corpus_data.TRACK_DATA[data], z_dim=Z, suite=suite,
                                 variant=f"logits-dcgan-{data}", seed=seed,
                                 config={"steps": steps, "g_lr": g_lr, "d_lr": d_lr, "d_init": d_init,
                                         "latent": latent})
    history = []
    for step in range(1, steps + 1):
        real = images[torch.randint(len(images), (batch,))]
        noise = torch.randn(batch, Z)
        fake = netG(noise)
        # (1) D: maximize log D(x) + log(1 - D(G(z)))
        optD.zero_grad()
        out_real = netD(real)
        out_fake = netD(fake.detach())
        errD = criterion(out_real, torch.ones_like(out_real)) + criterion(out_fake, torch.zeros_like(out_fake))
        errD.backward()
        optD.step()
        if tracker:
            tracker.after_d(step)
        # (2) G: maximize log D(G(z))
        optG.zero_grad()
        out = netD(fake)
        errG = criterion(out, torch.ones_like(out))
        errG.backward()
        optG.step()
        history.append((errD.item(), errG.item()))
        if tracker:
            tracker.log(step, loss_d=errD, loss_g=errG, real_out=out_real, fake_out=out_fake, real=real,
                        fake=fake.detach())
            if tracker.should_stop:
                break
    if tracker:
        tracker.close()
    return history


if __name__ == "__main__":
    train()
