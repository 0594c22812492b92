"""A PyTorch Lightning callback on the tracking API, for a GAN LightningModule with manual optimization.

    trainer = pl.Trainer(callbacks=[GanbenchCallback("results", data="ring", z_dim=64)])

The module keeps its steps; it only has to let the callback see two things:
- its generator and discriminator as attributes (``generator`` / ``discriminator``, or the names given);
- ``training_step`` returning ``{"loss_d": ..., "loss_g": ..., "d_real": ..., "d_fake": ...}`` (D's raw outputs
  on the real and generated batch of its last D step).
With ``self.toggle_optimizer(opt_g)`` around G's step, as Lightning's GAN example does, D's gradients at the end
of a batch are its own step's. Every other keyword goes to ``ganbench.track``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl

from ganbench.errors import GanbenchError
from ganbench.tracking import Tracker

OUTPUTS = ("loss_d", "loss_g", "d_real", "d_fake")


class GanbenchCallback(pl.Callback):
    def __init__(self, out: str | Path = "results", generator: str = "generator",
                 discriminator: str = "discriminator", **track_options: Any) -> None:
        self.out, self.names, self.options = out, (generator, discriminator), track_options
        self.tracker: Tracker | None = None
        self.step = 0

    def on_train_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        missing = [n for n in self.names if not hasattr(module, n)]
        if missing:
            raise GanbenchError(f"{type(module).__name__} has no attribute {', '.join(missing)}: name its generator "
                                "and discriminator with GanbenchCallback(generator=..., discriminator=...)")
        g, d = (getattr(module, n) for n in self.names)
        self.tracker = Tracker(self.out, g=g, d=d, **self.options)

    def on_train_batch_end(self, trainer: pl.Trainer, module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if not isinstance(outputs, dict) or any(k not in outputs for k in OUTPUTS):
            raise GanbenchError(f"training_step must return a dict with {', '.join(OUTPUTS)} for ganbench; "
                                f"got {type(outputs).__name__}")
        self.step += 1
        self.tracker.log(self.step, loss_d=outputs["loss_d"], loss_g=outputs["loss_g"], real_out=outputs["d_real"],
                         fake_out=outputs["d_fake"])
        if self.tracker.should_stop:
            trainer.should_stop = True

    def on_train_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if self.tracker is not None:
            self.tracker.close()

    def on_exception(self, trainer: pl.Trainer, module: pl.LightningModule, exception: BaseException) -> None:
        if self.tracker is not None:
            self.tracker.__exit__(type(exception), exception, None)
