"""The Dirac-GAN's parameters on every logging step: theta, psi and their distance to the equilibrium (0, 0)."""

from __future__ import annotations

import torch
from torch import Tensor

from ganbench.errors import GanbenchError
from ganbench.meta import MetricInfo
from ganbench.metrics.base import COLLECTORS, Collector, StepRecord


@COLLECTORS.register("dirac")
class DiracParameters(Collector):
    metrics = (MetricInfo("theta", "the Dirac-GAN generator's position"),
               MetricInfo("psi", "the Dirac-GAN discriminator's slope"),
               MetricInfo("equilibrium_distance", "||(theta, psi)||: distance to the Dirac-GAN's equilibrium",
                          False, 1, True))

    def on_step(self, record: StepRecord) -> dict[str, Tensor]:
        try:
            theta, psi = record.g.theta.reshape(()), record.d.psi.weight.reshape(())
        except AttributeError:
            raise GanbenchError("the dirac collector needs the linear architecture (architecture: linear)") from None
        return {"theta": theta, "psi": psi, "equilibrium_distance": torch.hypot(theta, psi)}
