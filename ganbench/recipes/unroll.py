"""Unrolled GAN (Metz, Poole, Pfau, Sohl-Dickstein 2017): G's loss is taken against D as it will be after ``k``
more updates by D's own optimizer, and G's gradient flows through those updates (the paper's version, eq. 12:
the term that makes G anticipate D's response is kept). The k updates are D's objective on one batch, the same
real samples and the G(z) of G's step, as the paper's 2-D code unrolls; D itself is not changed by them.

The updates are written as functions of the parameters (Adam, RMSprop and SGD as torch computes them, from D's
current optimizer state and learning rate), so autograd differentiates through them to G.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.func import functional_call

Params = dict[str, Tensor]


def optimizer_step(optimizer: torch.optim.Optimizer, params: Params, grads: Params, moments: dict[str, dict]
                   ) -> tuple[Params, dict[str, dict]]:
    """One update of ``params`` by ``optimizer``'s rule and hyperparameters, differentiable in ``grads``.
    ``moments``: each parameter's state (Adam's exp_avg, exp_avg_sq and step; RMSprop's square_avg), starting
    from the optimizer's own."""
    group = optimizer.param_groups[0]
    lr, eps = group["lr"], group.get("eps", 1e-8)
    new, state = {}, {}
    for name, p in params.items():
        g, s = grads[name], moments[name]
        if isinstance(optimizer, torch.optim.Adam):
            b1, b2 = group["betas"]
            step = s["step"] + 1
            m = b1 * s["exp_avg"] + (1 - b1) * g
            v = b2 * s["exp_avg_sq"] + (1 - b2) * g * g
            v_hat = v / (1 - b2**step)  # clamped before sqrt: its gradient at 0 would be 0 x inf
            new[name] = p - lr * (m / (1 - b1**step)) / (v_hat.clamp_min(1e-30).sqrt() + eps)
            state[name] = {"step": step, "exp_avg": m, "exp_avg_sq": v}
        elif isinstance(optimizer, torch.optim.RMSprop):
            v = group["alpha"] * s["square_avg"] + (1 - group["alpha"]) * g * g
            new[name] = p - lr * g / (v.clamp_min(1e-30).sqrt() + eps)
            state[name] = {"square_avg": v}
        else:  # SGD without momentum, as ganbench builds it
            new[name] = p - lr * g
            state[name] = {}
    return new, state


def moments_of(optimizer: torch.optim.Optimizer, d: nn.Module) -> dict[str, dict]:
    """D's optimizer state per parameter name, zeros where it has none yet (before D's first step)."""
    out = {}
    for name, p in d.named_parameters():
        s = optimizer.state.get(p, {})
        if isinstance(optimizer, torch.optim.Adam):
            out[name] = {"step": float(s["step"]) if "step" in s else 0.0,
                         "exp_avg": s.get("exp_avg", torch.zeros_like(p)),
                         "exp_avg_sq": s.get("exp_avg_sq", torch.zeros_like(p))}
        elif isinstance(optimizer, torch.optim.RMSprop):
            out[name] = {"square_avg": s.get("square_avg", torch.zeros_like(p))}
        else:
            out[name] = {}
    return out


def unrolled_params(d: nn.Module, optimizer: torch.optim.Optimizer, k: int, real: Tensor, fake: Tensor,
                    d_loss: Callable[[Tensor, Tensor], Tensor]) -> Params:
    """D's parameters after ``k`` updates on ``(real, fake)``, as tensors in G's graph (through ``fake``). D's
    buffers (spectral norm's power-iteration vectors) are read from copies: D is left as it was."""
    params = {n: p.detach().requires_grad_(True) for n, p in d.named_parameters()}
    buffers = {n: b.clone() for n, b in d.named_buffers()}
    moments = moments_of(optimizer, d)
    for _ in range(k):
        weights = {**params, **buffers}
        loss = d_loss(functional_call(d, weights, (real,)), functional_call(d, weights, (fake,)))
        grads = torch.autograd.grad(loss.sum(), list(params.values()), create_graph=True)
        params, moments = optimizer_step(optimizer, params, dict(zip(params, grads)), moments)
    return {**params, **buffers}
