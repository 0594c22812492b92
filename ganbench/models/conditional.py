"""Class-conditional G(z, y) and D(x, y), built around any registered architecture's G and D.

- **concat** (Mirza & Osindero 2014): G reads [z, onehot(y)]; D reads x with onehot(y) appended along its first
  axis (a point's coordinates, or K constant channels of an image).
- **projection** (Miyato & Koyama 2018, eq. 3): D(x, y) = psi(phi(x)) + <embed(y), phi(x)>, phi(x) D's final
  features (its head's input), psi its head; G concatenates, or uses conditional batch norm.
- **acgan** (Odena et al. 2017): D is unconditional and also classifies: one more head maps phi(x) to K class
  logits, and D's output is [realness, logits] (B, 1 + K); the trainer adds the cross-entropy terms.
- **tacgan** (Gong et al. 2019): AC-GAN's D with a twin classifier, K more logits (B, 1 + 2K), that learns the
  classes of generated samples; G plays against it (the trainer's losses).
- **conditional batch norm** in G (de Vries et al. 2017; Miyato & Koyama 2018's G): each BatchNorm of G normalizes
  without its own affine and takes a per-class gain and bias, (1 + gamma_y) and beta_y, in place of concatenation.

The labels reach the layers inside (projection's head, conditional batch norm) through a ``LabelSlot`` the
wrapper fills for the length of one forward pass: every architecture's own forward takes one tensor, and a seed
ensemble's vmapped forward hands the member's labels over the same way.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganbench.errors import GanbenchError


class LabelSlot:
    """This forward pass's labels (B,) for the layers that read them; empty between passes."""

    def __init__(self) -> None:
        self.y: Tensor | None = None

    def read(self) -> Tensor:
        if self.y is None:
            raise GanbenchError("a conditional layer ran outside its network's forward(x, y): give the labels")
        return self.y


class _Conditioned(nn.Module):
    """``inner`` called with the labels of this pass in ``slot``: the base of the conditional G and D."""

    def __init__(self, inner: nn.Module, classes: int) -> None:
        super().__init__()
        self.inner, self.classes = inner, classes
        self.slot = LabelSlot()

    def onehot(self, y: Tensor, like: Tensor) -> Tensor:  # (B,) -> (B, K) in like's dtype
        return F.one_hot(y, self.classes).to(like.dtype)

    def call(self, x: Tensor, y: Tensor) -> Tensor:
        self.slot.y = y
        try:
            return self.inner(x)
        finally:
            self.slot.y = None


class ConditionalG(_Conditioned):
    """G(z, y): the inner G on [z, onehot(y)] (``concat``), or on z with its batch norms conditioned on y."""

    def __init__(self, inner: nn.Module, classes: int, concat: bool) -> None:
        super().__init__(inner, classes)
        self.concat = concat

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        return self.call(torch.cat([z, self.onehot(y, z)], dim=1) if self.concat else z, y)


class ConditionalD(_Conditioned):
    """D(x, y): with ``concat``, the inner D on x and onehot(y) side by side along x's first axis; otherwise the
    inner D on x, whose projection head reads y (an AC-GAN D ignores y: it classifies)."""

    def __init__(self, inner: nn.Module, classes: int, concat: bool) -> None:
        super().__init__(inner, classes)
        self.concat = concat

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        if self.concat:
            code = self.onehot(y, x).view(*y.shape, self.classes, *(1,) * (x.dim() - 2)).expand(
                *y.shape, self.classes, *x.shape[2:])
            x = torch.cat([x, code], dim=1)
        return self.call(x, y)


class Projection(nn.Module):
    """Miyato & Koyama (2018)'s output layer: head(phi) + <V onehot(y), phi>. V is a linear map from the one-hot
    code (an embedding a spectral norm can reach) initialized as torch initializes a linear layer."""

    def __init__(self, head: nn.Module, features: int, classes: int, slot: LabelSlot) -> None:
        super().__init__()
        self.head, self.embed, self.slot = head, nn.Linear(classes, features, bias=False), slot

    def forward(self, phi: Tensor) -> Tensor:  # (B, F) -> (B, 1)
        code = F.one_hot(self.slot.read(), self.embed.in_features).to(phi.dtype)
        return self.head(phi) + (self.embed(code) * phi).sum(dim=1, keepdim=True)


class Auxiliary(nn.Module):
    """AC-GAN's output layer: [head(phi), classifier(phi)], realness and K class logits (B, 1 + K); with ``twin``
    (TAC-GAN), a second classifier's K logits after them (B, 1 + 2K)."""

    def __init__(self, head: nn.Module, features: int, classes: int, twin: bool = False) -> None:
        super().__init__()
        self.head, self.classifier = head, nn.Linear(features, classes)
        self.twin = nn.Linear(features, classes) if twin else None

    def forward(self, phi: Tensor) -> Tensor:
        parts = [self.head(phi), self.classifier(phi)] + ([self.twin(phi)] if self.twin is not None else [])
        return torch.cat(parts, dim=1)


class ConditionalBatchNorm(nn.Module):
    """A batch norm without its own affine, then (1 + gamma_y) x + beta_y, gamma and beta linear in onehot(y) and
    zero at the start: at initialization the layer is the plain batch norm it replaces."""

    def __init__(self, bn: nn.modules.batchnorm._BatchNorm, classes: int, slot: LabelSlot) -> None:
        super().__init__()
        self.bn = type(bn)(bn.num_features, eps=bn.eps, momentum=bn.momentum, affine=False,
                           track_running_stats=bn.track_running_stats)
        self.gain, self.bias = nn.Linear(classes, bn.num_features, bias=False), nn.Linear(classes, bn.num_features,
                                                                                           bias=False)
        nn.init.zeros_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)
        self.slot = slot

    def forward(self, x: Tensor) -> Tensor:
        code = F.one_hot(self.slot.read(), self.gain.in_features).to(x.dtype)
        shape = (x.shape[0], -1, *(1,) * (x.dim() - 2))
        return self.bn(x) * (1 + self.gain(code).view(shape)) + self.bias(code).view(shape)


def condition_d(d: nn.Module, method: str, classes: int, name: str) -> ConditionalD:
    """The inner ``d`` (built for x, or for x with K more channels under ``concat``) as D(x, y)."""
    wrapped = ConditionalD(d, classes, concat=method == "concat")
    if method in ("projection", "acgan", "tacgan"):
        from ganbench.models.base import head_slot

        owner, leaf, head = head_slot(d, f"conditioning {method}", name)
        features = head.in_features
        owner._modules[leaf] = (Projection(head, features, classes, wrapped.slot) if method == "projection"
                                else Auxiliary(head, features, classes, twin=method == "tacgan"))
    return wrapped


def condition_g(g: nn.Module, classes: int, batch_norm: bool) -> ConditionalG:
    """The inner ``g`` as G(z, y): built for z_dim + K inputs (concatenation), or with its batch norms
    conditional (``batch_norm``)."""
    wrapped = ConditionalG(g, classes, concat=not batch_norm)
    if batch_norm:
        norms = [(n, m) for n, m in g.named_modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
        if not norms:
            raise GanbenchError("conditional_bn conditions G's batch norms on the label; this architecture's G has "
                                "none (use concatenation: conditional_bn: false)")
        for path, bn in norms:
            owner_path, _, leaf = path.rpartition(".")
            owner = g.get_submodule(owner_path) if owner_path else g
            owner._modules[leaf] = ConditionalBatchNorm(bn, classes, wrapped.slot)
    return wrapped
