"""SN-GAN with the hinge loss (Miyato et al. 2018): spectral norm on every D layer (torch's parametrization),
conv D and G at 28 px, MLPs on the ring, Adam(2e-4, betas (0, 0.9)), one D step per G step."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

try:
    from . import data as corpus_data
except ImportError:
    import data as corpus_data

import ganbench

Z = 64


def make_g(image: bool) -> nn.Module:
    if not image:
        return nn.Sequential(nn.Linear(Z, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 2))
    return nn.Sequential(nn.Linear(Z, 32 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (32, 7, 7)),
                         nn.Upsample(scale_factor=2), nn.Conv2d(32, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                         nn.Upsample(scale_factor=2), nn.Conv2d(16, 1, 3, padding=1), nn.Tanh())


def make_d(image: bool, zeros: bool) -> nn.Module:
    if image:
        layers = [nn.Conv2d(1, 16, 3, 2, 1), nn.Conv2d(16, 32, 3, 2, 1), nn.Linear(32 * 7 * 7, 1)]
    else:
        layers = [nn.Linear(2, 128), nn.Linear(128, 128), nn.Linear(128, 1)]
    if zeros:
        for layer in layers:
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
    sn = [spectral_norm(layer) for layer in layers]
    if image:
        return nn.Sequential(sn[0], nn.LeakyReLU(0.1), sn[1], nn.LeakyReLU(0.1), nn.Flatten(), sn[2])
    return nn.Sequential(sn[0], nn.LeakyReLU(0.1), sn[1], nn.LeakyReLU(0.1), sn[2])


def train(data: str = "ring", seed: int = 0, steps: int = 2000, g_lr: float = 2e-4, d_lr: float = 2e-4,
          d_init: str = "default", out: str = "results", suite: str = "corpus-hinge-sngan", track: bool = True,
          batch: int = 64, latent: str = "random") -> list[tuple[float, float]]:
    torch.manual_seed(seed)
    x = corpus_data.load(data)
    image = x.dim() == 4
    gen, dis = corpus_data.with_latent(make_g(image), latent, (Z,)), make_d(image, d_init == "zeros")
    g_opt = torch.optim.Adam(gen.parameters(), g_lr, betas=(0.0, 0.9))
    d_opt = torch.optim.Adam(dis.parameters(), d_lr, betas=(0.0, 0.9))
    watch = ganbench.track(out, g=gen, d=dis, data=corpus_data.TRACK_DATA[data], z_dim=Z, objective="hinge",
                           suite=suite, variant=f"hinge-sngan-{data}", seed=seed,
                           config={"steps": steps, "g_lr": g_lr, "d_lr": d_lr, "d_init": d_init,
                                   "latent": latent}) if track else None
    log = []
    for it in range(1, steps + 1):
        real = x[torch.randint(len(x), (batch,))]
        with torch.no_grad():
            fake = gen(torch.randn(batch, Z))
        d_real, d_fake = dis(real), dis(fake)
        d_loss = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        g_loss = -dis(gen(torch.randn(batch, Z))).mean()
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
        log.append((d_loss.item(), g_loss.item()))
        if watch:
            watch.log(it, loss_d=d_loss, loss_g=g_loss, real_out=d_real, fake_out=d_fake, real=real, fake=fake)
            if watch.should_stop:
                break
    if watch:
        watch.close()
    return log


if __name__ == "__main__":
    train()
