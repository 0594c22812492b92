"""WGAN-GP as in Gulrajani et al.'s reference loop: a DataLoader over the data, a critic step on every batch,
a generator step on every fifth (n_critic inside the batch loop), gradient penalty 10, Adam(1e-4, betas
(0, 0.9)). ganbench's step is the number of G updates; the critic outputs are raw scores (objective
``wasserstein``)."""

from __future__ import annotations

import torch
from torch import autograd, nn
from torch.utils.data import DataLoader, TensorDataset

try:
    from . import data as corpus_data
except ImportError:
    import data as corpus_data

import ganbench

N_CRITIC, LAMBDA, Z = 5, 10.0, 64


def mlp(n_in: int, n_out: int, width: int = 128) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, width), nn.ReLU(), nn.Linear(width, n_out))


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    alpha = torch.rand(real.size(0), 1)
    interp = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    grads = autograd.grad(critic(interp).sum(), interp, create_graph=True)[0]
    return ((grads.norm(2, dim=1) - 1) ** 2).mean()


def train(data: str = "ring", seed: int = 0, steps: int = 2000, g_lr: float = 1e-4, d_lr: float = 1e-4,
          d_init: str = "default", out: str = "results", suite: str = "corpus-wgan-gp", track: bool = True,
          batch: int = 64, latent: str = "random") -> list[tuple[float, float]]:
    torch.manual_seed(seed)
    real_all = corpus_data.load(data)
    shape, dim = real_all.shape[1:], real_all[0].numel()
    loader = DataLoader(TensorDataset(real_all.flatten(1)), batch_size=batch, shuffle=True, drop_last=True)
    G = nn.Sequential(mlp(Z, dim), nn.Tanh()) if len(shape) > 1 else mlp(Z, dim)
    G = corpus_data.with_latent(G, latent, (Z,))
    C = mlp(dim, 1)
    if d_init == "zeros":
        for p in C.parameters():
            nn.init.zeros_(p)
    opt_c = torch.optim.Adam(C.parameters(), lr=d_lr, betas=(0.0, 0.9))
    opt_g = torch.optim.Adam(G.parameters(), lr=g_lr, betas=(0.0, 0.9))
    tracker = ganbench.track(
        out, g=nn.Sequential(G, nn.Unflatten(1, shape)), d=nn.Sequential(nn.Flatten(), C),
        data=corpus_data.TRACK_DATA[data], z_dim=Z, objective="wasserstein", suite=suite,
        variant=f"wgan-gp-{data}", seed=seed,
        config={"steps": steps, "g_lr": g_lr, "d_lr": d_lr, "d_init": d_init, "latent": latent}) if track else None
    history, g_steps, batches = [], 0, 0
    while g_steps < steps:
        for (real,) in loader:
            batches += 1
            fake = G(torch.randn(batch, Z)).detach()
            c_real, c_fake = C(real), C(fake)
            loss_c = c_fake.mean() - c_real.mean() + LAMBDA * gradient_penalty(C, real, fake)
            opt_c.zero_grad()
            loss_c.backward()
            opt_c.step()
            if batches % N_CRITIC:
                continue
            if tracker:
                tracker.after_d(g_steps + 1)
            loss_g = -C(G(torch.randn(batch, Z))).mean()
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            g_steps += 1
            history.append((loss_c.item(), loss_g.item()))
            if tracker:
                tracker.log(g_steps, loss_d=loss_c, loss_g=loss_g, real_out=c_real, fake_out=c_fake,
                            real=real.view(-1, *shape), fake=fake.view(-1, *shape))
                if tracker.should_stop:
                    g_steps = steps
            if g_steps >= steps:
                break
    if tracker:
        tracker.close()
    return history


if __name__ == "__main__":
    train()
