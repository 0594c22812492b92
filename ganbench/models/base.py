"""The architecture registry and spectral normalization, applied by the variant rather than the model."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import _SpectralNorm

from ganbench.catalog import ARCHITECTURES
from ganbench.errors import GanbenchError

Builder = Callable[..., tuple[nn.Module, nn.Module]]


@contextlib.contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """``module`` in eval mode for the block, then in the mode it was in, also after an exception: a read of a
    network that moves no BatchNorm statistics and no spectral-norm power iteration."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


class _SpectralNormInPlace(_SpectralNorm):
    """torch's spectral norm parametrization with the power iteration written as ``copy_`` instead of
    ``out=``: the same numbers, and it also runs under ``torch.vmap`` (seed ensembles stack u and v)."""

    @torch.no_grad()
    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        for _ in range(n_power_iterations):
            self._u.copy_(F.normalize(torch.mv(weight_mat, self._v), dim=0, eps=self.eps))
            self._v.copy_(F.normalize(torch.mv(weight_mat.H, self._u), dim=0, eps=self.eps))


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectral normalization (Miyato et al. 2018) on every linear and convolutional layer: one power
    iteration per forward pass, as torch.nn.utils.parametrizations.spectral_norm does."""
    for child in module.children():
        if isinstance(child, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)):
            dim = 1 if isinstance(child, nn.ConvTranspose2d) else 0  # the output-channel dim, as torch picks it
            parametrize.register_parametrization(child, "weight", _SpectralNormInPlace(child.weight, 1, dim, 1e-12))
        else:
            apply_spectral_norm(child)
    return module


def build_models(name: str, params: dict[str, Any], sample_shape: tuple[int, ...], z_dim: int,
                 spectral: str, minibatch_std: int = 0, tap: bool = False, conditioning: str = "none",
                 classes: int = 0, conditional_bn: bool = False) -> tuple[nn.Module, nn.Module]:
    """The architecture's G and D; ``minibatch_std``: D's head also reads the batch's spread, in groups of that
    many samples (0: it does not); ``tap``: ``final_features`` can read D's final features (feature matching);
    ``conditioning``: G(z, y) and D(x, y) on ``classes`` classes by that method (models.conditional), G's batch
    norms conditional with ``conditional_bn``; ``spectral``: which networks are spectrally normalized (none, d,
    both)."""
    builder = ARCHITECTURES.get(name, "architecture")

    def build(shape: tuple[int, ...], latent: int) -> tuple[nn.Module, nn.Module]:
        try:
            return builder(sample_shape=shape, z_dim=latent, **params)
        except TypeError as exc:
            raise GanbenchError(f"bad parameters for architecture {name!r}: {exc}") from None

    if conditioning == "none":
        g, d = build(sample_shape, z_dim)
    else:  # G for z with the one-hot code beside it, D for x with it beside it (concat): two builds
        from ganbench.models.conditional import condition_d, condition_g

        g, _ = build(sample_shape, z_dim if conditional_bn else z_dim + classes)
        wide = conditioning == "concat"
        _, d = build((sample_shape[0] + classes, *sample_shape[1:]) if wide else sample_shape, z_dim)
        g = condition_g(g, classes, conditional_bn)
    if minibatch_std or tap:
        _rehead(d, minibatch_std, tap, name)
    if conditioning != "none":
        d = condition_d(d, conditioning, classes, name)
    if spectral in ("d", "both"):
        apply_spectral_norm(d)
    if spectral == "both":
        apply_spectral_norm(g)
    return g, d


class Packed(nn.Module):
    """PacGAN's discriminator (Lin et al. 2018): ``d``, built for samples ``pack`` times as wide along their first
    axis, judges ``pack`` consecutive samples at once, concatenated along it (an image's channels, a point's
    coordinates). A batch of B x pack samples that are all real or all generated gives B packs of that kind."""

    def __init__(self, d: nn.Module, pack: int) -> None:
        super().__init__()
        self.d, self.pack = d, pack

    def forward(self, x: Tensor) -> Tensor:  # (B * pack, C, ...) -> (B, 1)
        n = x.shape[0]
        if n % self.pack:
            raise GanbenchError(f"a packed D judges packs of {self.pack} samples; got a batch of {n}")
        return self.d(x.reshape(n // self.pack, self.pack * x.shape[1], *x.shape[2:]))


def packed_d(architecture: Any, sample_shape: tuple[int, ...], z_dim: int, spectral: str, pack: int,
             minibatch_std: int = 0, tap: bool = False) -> Packed:
    """The ``architecture``'s D for ``pack`` samples side by side (its G, built alongside, is dropped)."""
    wide = (pack * sample_shape[0], *sample_shape[1:])
    _, d = build_models(architecture.name, architecture.params, wide, z_dim, spectral, minibatch_std, tap)
    return Packed(d, pack)


class MinibatchStd(nn.Module):
    """The minibatch standard deviation feature (Karras et al. 2018, section 3; groups as in StyleGAN's code):
    the batch is split into groups of ``group`` samples (sample i joins group i mod B/group), each feature's
    standard deviation over its group is averaged over the features, and that one number is appended to each
    sample's features. D can then see a batch with too little variety."""

    def __init__(self, group: int) -> None:
        super().__init__()
        self.group = group

    def forward(self, x: Tensor) -> Tensor:  # (B, F) -> (B, F + 1)
        n = x.shape[0]
        group = min(self.group, n)
        if n % group:
            raise GanbenchError(f"minibatch_std groups of {group} samples do not divide a batch of {n}")
        y = x.reshape(group, n // group, x.shape[1])
        spread = (y - y.mean(dim=0)).pow(2).mean(dim=0).add(1e-8).sqrt().mean(dim=1)  # (B / group,)
        return torch.cat([x, spread.repeat(group)[:, None]], dim=1)


class Tap(nn.Module):
    """D's head, which hands back its input -- D's final features -- instead of D's output while ``tapped``."""

    def __init__(self, head: nn.Module) -> None:
        super().__init__()
        self.head, self.tapped = head, False

    def forward(self, x: Tensor) -> Tensor:
        return x if self.tapped else self.head(x)


def head_slot(d: nn.Module, what: str, name: str) -> tuple[nn.Module, str, nn.Linear]:
    """D's head -- its last linear layer, which maps D's final features to its output -- with the module that
    holds it and its name there, for ``what`` to replace it."""
    heads = [(n, m) for n, m in d.named_modules() if isinstance(m, nn.Linear)]
    if not heads:
        raise GanbenchError(f"{what} reads the features that D's last linear layer takes; architecture {name!r} "
                            "has none")
    path, head = heads[-1]
    owner_path, _, leaf = path.rpartition(".")
    return (d.get_submodule(owner_path) if owner_path else d), leaf, head


def _rehead(d: nn.Module, minibatch_std: int, tap: bool, name: str) -> None:
    """Replace D's head -- its last linear layer, which maps D's final features to its output: with
    ``minibatch_std``, by one a single input wider that also reads those features' spread over the batch (a fresh
    layer); with ``tap``, inside a Tap that ``final_features`` can open (feature matching)."""
    owner, leaf, head = head_slot(d, "minibatch_std" if minibatch_std else "feature_matching", name)
    if minibatch_std:
        wider = nn.Linear(head.in_features + 1, head.out_features, bias=head.bias is not None)
        head = nn.Sequential(MinibatchStd(minibatch_std), wider)
    owner._modules[leaf] = Tap(head) if tap else head


@contextlib.contextmanager
def final_features(d: nn.Module) -> Iterator[nn.Module]:
    """``d`` returning its final features (B, F) -- its head's input -- for the block: D's taps, and those of
    a seed ensemble's template, which its stacked forward calls."""
    modules = [*d.modules(), *(m for t in getattr(d, "_template", ()) for m in t.modules())]
    taps = [m for m in modules if isinstance(m, Tap)]
    if not taps:
        raise GanbenchError("feature matching reads D's final features: this D has no tap (build it with "
                            "feature_matching)")
    for tap in taps:
        tap.tapped = True
    try:
        yield d
    finally:
        for tap in taps:
            tap.tapped = False
