"""An exponential moving average of the generator's weights (Karras et al. 2018; Yazici et al. 2019), the G
that today's recipes evaluate: after every G update, theta_ema <- decay * theta_ema + (1 - decay) * theta; until
``start`` G steps it is a copy of G. Buffers (BatchNorm statistics) are copied, not averaged, as StyleGAN2-ADA's
and StudioGAN's reference code do: the average of running statistics is no statistic of the averaged weights.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class GeneratorEMA:
    """The averaged copy of ``g``: a module of the same architecture that is never trained directly."""

    def __init__(self, g: nn.Module, decay: float, start: int = 0) -> None:
        self.decay, self.start = decay, start
        self.module = copy.deepcopy(g).requires_grad_(False)
        self.module.eval()  # evaluation always reads it in eval mode; its buffers come from g
        self._ema = list(self.module.parameters())
        self._ema_buffers = list(self.module.buffers())

    @torch.no_grad()
    def update(self, g: nn.Module, step: int) -> None:
        """After G step ``step`` (1-based) of ``g`` (read anew: an ensemble replaces its members' tensors with
        views of the stack): average, or copy while ``step <= start``."""
        own = [p.detach() for p in g.parameters()]
        if step <= self.start:
            torch._foreach_copy_(self._ema, own)
        else:
            torch._foreach_lerp_(self._ema, own, 1.0 - self.decay)
        if self._ema_buffers:
            torch._foreach_copy_(self._ema_buffers, list(g.buffers()))

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {name: t.clone() for name, t in self.module.state_dict().items()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.module.load_state_dict(state)
