"""Seed ensembles (``ensemble: true`` in ``train:``): the seeds of one variant trained together in one process.

The K members' parameters and buffers are stacked on a leading member dim and every forward pass is
``torch.vmap`` over one template module called with member k's tensors (what ``torch.func.functional_call``
does, minus its per-call bookkeeping), so K small networks run as one batched network: one kernel where K
runs launch K. Each member keeps everything that makes it its own run:
its weight init, data, latent and evaluation streams, collectors, metrics, samples, checkpoint and status.

Members are independent by construction: each member's loss only reads its own slice of the stacked
parameters, the optimizers (Adam, RMSprop, SGD) are elementwise, and the loss summed over members has
gradient 1 for each member's loss. So a member follows the same math as the separately trained run with its
seed; the numbers differ only where a batched kernel rounds differently from the unbatched one (see
tests/test_ensemble.py and benchmarks/ensemble.py).

Every member's own ``nn.Module`` stays alive with its parameters and buffers turned into views of the stack:
evaluation, sample pictures, collectors and checkpoints use it exactly as for a single run, with no copying.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from ganbench.training.loop import Run, StepOutput, Trainer


def _slot(module: nn.Module, name: str) -> tuple[nn.Module, str]:
    """The module that holds tensor ``name`` and the tensor's name there ("0.weight" -> (module[0], "weight"))."""
    owner, _, leaf = name.rpartition(".")
    return module.get_submodule(owner), leaf


def _set_tensor(module: nn.Module, name: str, value: Tensor, parameter: bool) -> None:
    owner, leaf = _slot(module, name)
    if parameter:
        setattr(owner, leaf, nn.Parameter(value, requires_grad=False))
    else:
        owner._buffers[leaf] = value


class Stacked(nn.Module):
    """K modules of one architecture as one: ``forward`` maps (K, B, ...) to (K, B, ...), member k through
    member k's weights. The members' own tensors become views of the stack, so they always see its values."""

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        first = members[0]
        self.param_names = [name for name, _ in first.named_parameters()]
        self.buffer_names = [name for name, _ in first.named_buffers()]
        self.stacked = nn.ParameterList(
            [nn.Parameter(torch.stack([m.get_parameter(n).detach() for m in members])) for n in self.param_names])
        for i, name in enumerate(self.buffer_names):
            self.register_buffer(f"buffer_{i}", torch.stack([m.get_buffer(name) for m in members]))
        template = copy.deepcopy(first).to("meta")  # structure only: its own tensors are never used
        self._template = [template]  # in a list, so it is not a submodule (its tensors are not ours)
        self._param_slots = [_slot(template, name) for name in self.param_names]
        self._buffer_slots = [_slot(template, name) for name in self.buffer_names]
        self.members = list(members)
        self.pack = getattr(first, "pack", 1)  # a PacGAN D's samples per input, as the penalties read it
        for k, member in enumerate(members):
            for name, stacked in zip(self.param_names, self.stacked):
                _set_tensor(member, name, stacked.detach()[k], parameter=True)
            for name, stacked in zip(self.buffer_names, self.stacked_buffers()):
                _set_tensor(member, name, stacked[k], parameter=False)

    def stacked_buffers(self) -> list[Tensor]:
        return [getattr(self, f"buffer_{i}") for i in range(len(self.buffer_names))]

    def _member_forward(self, params: list[Tensor], buffers: list[Tensor], *inputs: Tensor) -> Tensor:
        # Put this member's tensors into the template's slots, call it, put the meta tensors back. The same as
        # functional_call, which also checks tied weights and strictness on every call: that bookkeeping was
        # 19-25% of the quick suite's D forward + backward on CPU at K = 1-16.
        template = self._template[0]
        meta = [owner._parameters[leaf] for owner, leaf in self._param_slots]
        meta_buffers = [owner._buffers[leaf] for owner, leaf in self._buffer_slots]
        try:
            for (owner, leaf), tensor in zip(self._param_slots, params):
                owner._parameters[leaf] = tensor
            for (owner, leaf), tensor in zip(self._buffer_slots, buffers):
                owner._buffers[leaf] = tensor
            return template(*inputs)
        finally:
            for (owner, leaf), tensor in zip(self._param_slots, meta):
                owner._parameters[leaf] = tensor
            for (owner, leaf), tensor in zip(self._buffer_slots, meta_buffers):
                owner._buffers[leaf] = tensor

    def forward(self, *inputs: Tensor) -> Tensor:  # x, or a conditional network's (x, y): each (K, B, ...)
        # BatchNorm running statistics and spectral norm's power-iteration vectors update the stacked buffers
        # in place, member by member; "different" randomness would let dropout-like layers differ per member.
        return torch.vmap(self._member_forward, randomness="different")(list(self.stacked), self.stacked_buffers(),
                                                                        *inputs)

    def link_grads(self) -> None:
        """Point every member parameter's .grad at its slice of the stacked gradient (for the collectors)."""
        for k, member in enumerate(self.members):
            for name, stacked in zip(self.param_names, self.stacked):
                member.get_parameter(name).grad = None if stacked.grad is None else stacked.grad[k]


def _member_optimizer_state(state: dict[str, Any], k: int) -> dict[str, Any]:
    """Member k's slice of a stacked optimizer's state_dict: the single-run optimizer's state_dict."""
    def pick(value: Any) -> Any:
        return value[k].clone() if isinstance(value, Tensor) and value.dim() > 0 else value  # not the 0-dim step

    return {"state": {i: {name: pick(v) for name, v in s.items()} for i, s in state["state"].items()},
            "param_groups": copy.deepcopy(state["param_groups"])}


def _stacked_optimizer_state(states: Sequence[dict[str, Any]]) -> dict[str, Any]:
    def stack(values: list[Any]) -> Any:
        first = values[0]
        return torch.stack(values) if isinstance(first, Tensor) and first.dim() > 0 else first

    return {"state": {i: {name: stack([s["state"][i][name] for s in states]) for name in per_param}
                      for i, per_param in states[0]["state"].items()},
            "param_groups": states[0]["param_groups"]}


class EnsembleTrainer(Trainer):
    """The members (runs of one variant on one dataset that differ only in seed) trained in lockstep."""

    batch_dims = 2

    def __init__(self, members: list[Run]) -> None:
        super().__init__(members, Stacked([run.g for run in members]), Stacked([run.d for run in members]))
        self._d_loss = torch.vmap(self.objective.d_loss)  # per member: (K, B, 1) x2 -> (K,)

    def d_loss(self, real_out: Tensor, fake_out: Tensor) -> Tensor:
        return self._d_loss(real_out, fake_out)

    def g_loss(self, real_out: Tensor | None, fake_out: Tensor) -> Tensor:  # per member -> (K,)
        in_dims = (None if real_out is None else 0, 0)  # vmap takes no None input along a dim
        return torch.vmap(self.objective.g_loss, in_dims=in_dims)(real_out, fake_out)

    def draw(self, what) -> Tensor:  # each member's own draw from its own stream, stacked: (K, ...)
        return torch.stack([what(run) for run in self.members])

    def per_member(self, t: Tensor) -> Tensor:
        return t

    def step(self, log: bool, input_grad: bool) -> StepOutput:
        out = super().step(log, input_grad)
        if log:
            self.d.link_grads()
            self.g.link_grads()
        return out

    def member_state(self, index: int, step: int) -> dict[str, Any]:
        run = self.members[index]

        def own(module: nn.Module) -> dict[str, Tensor]:  # clones: a view would save the whole stack
            return {name: t.clone() for name, t in module.state_dict().items()}

        return {"step": step, "g": own(run.g), "d": own(run.d),
                "opt_g": _member_optimizer_state(self.opt_g.state_dict(), index),
                "opt_d": _member_optimizer_state(self.opt_d.state_dict(), index), "rng": run.streams.state()}

    def load_states(self, states: Sequence[dict[str, Any]]) -> None:
        for run, state in zip(self.members, states):
            run.g.load_state_dict(state["g"])  # copies into the views, so into the stack
            run.d.load_state_dict(state["d"])
            run.streams.load_state(state["rng"])
        self.opt_g.load_state_dict(_stacked_optimizer_state([s["opt_g"] for s in states]))
        self.opt_d.load_state_dict(_stacked_optimizer_state([s["opt_d"] for s in states]))
