"""A plain PyTorch GAN on the 8-Gaussian ring -- its networks, losses, optimizers and data written without any
ganbench class -- watched by ganbench's tracking API. The lines marked `# ganbench` are all it adds.

    python examples/own_loop.py --seed 0                      # results/own-loop/, then:
    ganbench report results/own-loop && ganbench check results/own-loop

`--g-lr-scale 0.001` stalls G (the gate should fail); `--d-lr-scale 10 --n-critic 5` gives D the upper hand;
`--no-track` runs the bare loop.
"""

from __future__ import annotations

import argparse
import math

import torch
import torch.nn.functional as F
from torch import nn

import ganbench  # ganbench

# The gate this loop is held to (stored with the results; `ganbench check` reads it).  # ganbench
CHECK = {"fail_on": ["mode_collapse", "d_overpowering", "divergence", "generator_stalled", "d_pinned",  # ganbench
                     "g_no_gradient"], "alpha": 0.05}  # ganbench


def ring_batch(n: int, gen: torch.Generator) -> torch.Tensor:
    """n samples of 8 Gaussians (std 0.1) evenly spaced on a circle of radius 2."""
    angles = torch.randint(8, (n,), generator=gen) * (2 * math.pi / 8)
    centres = 2.0 * torch.stack([angles.cos(), angles.sin()], dim=1)
    return centres + 0.1 * torch.randn(n, 2, generator=gen)


def mlp(n_in: int, n_out: int, act: type[nn.Module], width: int = 128, norm: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(3):
        layers += [nn.Linear(n_in if i == 0 else width, width), *([nn.BatchNorm1d(width)] if norm else []), act()]
    return nn.Sequential(*layers, nn.Linear(width, n_out))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--d-lr-scale", type=float, default=1.0)
    parser.add_argument("--g-lr-scale", type=float, default=1.0)
    parser.add_argument("--n-critic", type=int, default=1)
    parser.add_argument("--name", default="own-gan", help="the variant name the results show")
    parser.add_argument("--no-track", action="store_true", help="the same loop without ganbench")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    data = torch.Generator().manual_seed(args.seed)
    z_dim = 16
    g, d = mlp(z_dim, 2, nn.ReLU, norm=True), mlp(2, 1, lambda: nn.LeakyReLU(0.2))
    opt_g = torch.optim.Adam(g.parameters(), lr=args.lr * args.g_lr_scale, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=args.lr * args.d_lr_scale, betas=(0.5, 0.999))

    tracker = None if args.no_track else ganbench.track(  # ganbench
        args.out, g=g, d=d, data={"name": "ring", "std": 0.1}, z_dim=z_dim, suite="own-loop",  # ganbench
        variant=args.name, seed=args.seed, check=CHECK, config=vars(args))  # ganbench
    for step in range(1, args.steps + 1):
        for _ in range(args.n_critic):
            real = ring_batch(args.batch, data)
            fake = g(torch.randn(args.batch, z_dim)).detach()
            d_real, d_fake = d(real), d(fake)
            loss_d = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        if tracker:  # ganbench
            tracker.after_d(step)  # ganbench
        loss_g = F.softplus(-d(g(torch.randn(args.batch, z_dim)))).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if tracker:  # ganbench
            tracker.log(step, loss_d=loss_d, loss_g=loss_g, real_out=d_real, fake_out=d_fake,  # ganbench
                        real=real, fake=fake)  # ganbench
            if tracker.should_stop:  # ganbench
                break  # ganbench
    if tracker:  # ganbench
        tracker.close()  # ganbench


if __name__ == "__main__":
    main()
