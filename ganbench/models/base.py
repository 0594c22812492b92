"""The architecture registry and spectral normalization, applied by the variant rather than the model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ganbench.errors import GanbenchError
from ganbench.registry import Registry

Builder = Callable[..., tuple[nn.Module, nn.Module]]
ARCHITECTURES: Registry[Builder] = Registry("architecture")


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectral normalization (Miyato et al. 2018) on every linear and convolutional layer."""
    for name, child in list(module.named_children()):
        if isinstance(child, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)):
            setattr(module, name, spectral_norm(child))
        else:
            apply_spectral_norm(child)
    return module


def build_models(name: str, params: dict[str, Any], sample_shape: tuple[int, ...], z_dim: int,
                 spectral: str) -> tuple[nn.Module, nn.Module]:
    builder = ARCHITECTURES.get(name, "architecture")
    try:
        g, d = builder(sample_shape=sample_shape, z_dim=z_dim, **params)
    except TypeError as exc:
        raise GanbenchError(f"bad parameters for architecture {name!r}: {exc}") from None
    if spectral in ("d", "both"):
        apply_spectral_norm(d)
    if spectral == "both":
        apply_spectral_norm(g)
    return g, d
