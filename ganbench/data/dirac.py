"""The Dirac-GAN of Mescheder, Geiger and Nowozin (2018, "Which Training Methods for GANs do actually
Converge?"), section 2.2: the data a point mass at 0, the generator a point mass at theta, the discriminator
D(x) = psi * x (the ``linear`` architecture). The unique equilibrium is (theta, psi) = (0, 0); the paper's known
answers say which training methods reach it."""

from __future__ import annotations

import torch
from torch import Tensor

from ganbench.data.base import DATASETS, Dataset


@DATASETS.register("dirac")
class Dirac(Dataset):
    sample_shape = (1,)
    default_architecture = {"name": "linear"}

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        return torch.zeros(n, 1)  # p_data = delta_0: no randomness to draw

    def describe(self) -> dict:
        return {"equilibrium": {"theta": 0.0, "psi": 0.0}}
