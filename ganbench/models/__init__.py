"""Architectures: a registered builder returns (generator, discriminator) for a sample shape and z_dim."""

from ganbench.models import dcgan, linear, mlp  # noqa: F401  (register the built-in architectures)
from ganbench.models.base import ARCHITECTURES, MinibatchStd, Packed, build_models, packed_d

__all__ = ["ARCHITECTURES", "MinibatchStd", "Packed", "build_models", "packed_d"]
