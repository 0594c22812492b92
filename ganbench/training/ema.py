"""An exponential moving average of the generator's weights (Karras et al. 2018; Yazici et al. 2019), the G
that today's recipes evaluate: after every G update, theta_ema <- decay * theta_ema + (1 - decay) * theta; until
``start`` G steps it is a copy of G. With a ramp-up r (StyleGAN2-ADA's ``ema_rampup``, 0.05 in its CIFAR-10
configuration) the average's half-life is at most r x the steps before this one, so early on it forgets fast:
decay_t = min(decay, 0.5 ** (1 / (r * (t - 1)))), 0 (a copy) at t = 1. Buffers (BatchNorm statistics) are
copied, not averaged, as StyleGAN2-ADA's and StudioGAN's reference code do: the average of running statistics is
no statistic of the averaged weights.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class GeneratorEMA:
    """The averaged copy of ``g``: a module of the same architecture that is never trained directly."""

    def __init__(self, g: nn.Module, decay: float, start: int = 0, rampup: float | None = None) -> None:
        self.decay, self.start, self.rampup = decay, start, rampup
        self.module = copy.deepcopy(g).requires_grad_(False)
        self.module.eval()  # evaluation always reads it in eval mode; its buffers come from g
        self._ema = list(self.module.parameters())
        self._ema_buffers = list(self.module.buffers())

    @torch.no_grad()
    def update(self, g: nn.Module, step: int) -> None:
        """After G step ``step`` (1-based) of ``g`` (read anew: an ensemble replaces its members' tensors with
        views of the stack): average, or copy while ``step <= start``."""
        own = [p.detach() for p in g.parameters()]
        decay = self.decay_at(step)
        if step <= self.start or decay == 0.0:
            torch._foreach_copy_(self._ema, own)
        else:
            torch._foreach_lerp_(self._ema, own, 1.0 - decay)
        if self._ema_buffers:
            torch._foreach_copy_(self._ema_buffers, list(g.buffers()))

    def decay_at(self, step: int) -> float:
        """The decay of the update after G step ``step`` (a pure function of the step: nothing to checkpoint)."""
        if self.rampup is None:
            return self.decay
        if step <= 1:
            return 0.0
        return min(self.decay, 0.5 ** (1.0 / (self.rampup * (step - 1))))

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {name: t.clone() for name, t in self.module.state_dict().items()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.module.load_state_dict(state)
