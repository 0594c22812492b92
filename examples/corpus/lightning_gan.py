"""A GAN as a Lightning module with manual optimization (Lightning's own GAN example's shape): MLPs,
``F.binary_cross_entropy_with_logits``, ``toggle_optimizer`` around each step, watched by ganbench's
callback. Lightning is imported by today's name, ``lightning``."""

from __future__ import annotations

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

try:
    from . import data as corpus_data
except ImportError:
    import data as corpus_data

from ganbench.training.lightning import GanbenchCallback


class GAN(L.LightningModule):
    def __init__(self, shape: tuple[int, ...], g_lr: float, d_lr: float, d_init: str, latent_dim: int = 64,
                 latent: str = "random") -> None:
        super().__init__()
        self.automatic_optimization = False
        self.shape, self.g_lr, self.d_lr, self.latent_dim = shape, g_lr, d_lr, latent_dim
        dim = int(torch.tensor(shape).prod())
        self.generator = nn.Sequential(nn.Linear(latent_dim, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                                       nn.Linear(256, dim), nn.Tanh() if len(shape) > 1 else nn.Identity(),
                                       nn.Unflatten(1, shape))
        self.generator = corpus_data.with_latent(self.generator, latent, (latent_dim,))
        self.discriminator = nn.Sequential(nn.Flatten(), nn.Linear(dim, 256), nn.LeakyReLU(0.2), nn.Linear(256, 256),
                                           nn.LeakyReLU(0.2), nn.Linear(256, 1))
        if d_init == "zeros":
            for p in self.discriminator.parameters():
                nn.init.zeros_(p)

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_d = self.optimizers()
        z = torch.randn(real.size(0), self.latent_dim)
        fake = self.generator(z)

        self.toggle_optimizer(opt_d)
        d_real, d_fake = self.discriminator(real), self.discriminator(fake.detach())
        loss_d = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                  + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
        self.manual_backward(loss_d)
        opt_d.step()
        opt_d.zero_grad()
        self.untoggle_optimizer(opt_d)

        self.toggle_optimizer(opt_g)
        out = self.discriminator(fake)
        loss_g = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
        self.manual_backward(loss_g)
        opt_g.step()
        opt_g.zero_grad()
        self.untoggle_optimizer(opt_g)
        self.losses.append((loss_d.item(), loss_g.item()))
        return {"loss_d": loss_d, "loss_g": loss_g, "d_real": d_real, "d_fake": d_fake}

    def configure_optimizers(self):
        return (torch.optim.Adam(self.generator.parameters(), lr=self.g_lr, betas=(0.5, 0.999)),
                torch.optim.Adam(self.discriminator.parameters(), lr=self.d_lr, betas=(0.5, 0.999)))


def train(data: str = "ring", seed: int = 0, steps: int = 2000, g_lr: float = 2e-4, d_lr: float = 2e-4,
          d_init: str = "default", out: str = "results", suite: str = "corpus-lightning", track: bool = True,
          batch: int = 64, latent: str = "random") -> list[tuple[float, float]]:
    L.seed_everything(seed, verbose=False)
    real = corpus_data.load(data)
    model = GAN(tuple(real.shape[1:]), g_lr, d_lr, d_init, latent=latent)
    model.losses = []
    callbacks = [GanbenchCallback(out, data=corpus_data.TRACK_DATA[data], z_dim=model.latent_dim, suite=suite,
                                  variant=f"lightning-{data}", seed=seed,
                                  config={"steps": steps, "g_lr": g_lr, "d_lr": d_lr, "d_init": d_init,
                                          "latent": latent})]
    callbacks = callbacks if track else []
    loader = DataLoader(TensorDataset(real), batch_size=batch, shuffle=True, drop_last=True)
    trainer = L.Trainer(max_steps=2 * steps,  # Lightning counts every optimizer step: two per batch
                        accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=callbacks)
    trainer.fit(model, loader)
    return model.losses


if __name__ == "__main__":
    train()
