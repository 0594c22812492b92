"""A Lightning callback on the tracking API, for a GAN LightningModule with manual optimization.

    trainer = L.Trainer(callbacks=[GanbenchCallback("results", data="ring", z_dim=64)])

One class serves both of Lightning's import names, ``lightning.pytorch`` (today's) and ``pytorch_lightning``
(the standalone package): it subclasses the ``Callback`` of each that is installed, so either ``Trainer`` takes it.

The module keeps its steps; it only has to let the callback see two things:
- its generator and discriminator as attributes (``generator`` / ``discriminator``, or the names given);
- ``training_step`` returning ``{"loss_d": ..., "loss_g": ..., "d_real": ..., "d_fake": ...}`` (D's raw outputs
  on the real and generated batch of its last D step).
With ``self.toggle_optimizer(opt_g)`` around G's step, as Lightning's GAN example does, D's gradients at the end
of a batch are its own step's. A module that updates G only every n-th batch returns ``loss_g`` as None on the
other batches: steps count G updates, as in ``ganbench.track``. Every other keyword goes to ``ganbench.track``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganbench.errors import GanbenchError
from ganbench.training.tracking import Tracker

OUTPUTS = ("loss_d", "loss_g", "d_real", "d_fake")


def _callback_bases() -> tuple[type, ...]:
    bases = []
    for name in ("lightning.pytorch", "pytorch_lightning"):
        try:
            bases.append(__import__(name, fromlist=["Callback"]).Callback)
        except ImportError:
            continue
    if not bases:
        raise ImportError("GanbenchCallback needs Lightning: pip install lightning (or pytorch-lightning)")
    return tuple(bases)


class GanbenchCallback(*_callback_bases()):
    def __init__(self, out: str | Path = "results", generator: str = "generator",
                 discriminator: str = "discriminator", **track_options: Any) -> None:
        self.out, self.names, self.options = out, (generator, discriminator), track_options
        self.tracker: Tracker | None = None
        self.step = 0

    def on_train_start(self, trainer, module) -> None:
        missing = [n for n in self.names if not hasattr(module, n)]
        if missing:
            raise GanbenchError(f"{type(module).__name__} has no attribute {', '.join(missing)}: name its generator "
                                "and discriminator with GanbenchCallback(generator=..., discriminator=...)")
        g, d = (getattr(module, n) for n in self.names)
        self.tracker = Tracker(self.out, g=g, d=d, **self.options)

    def on_train_batch_end(self, trainer, module, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if not isinstance(outputs, dict) or any(k not in outputs for k in OUTPUTS):
            raise GanbenchError(f"training_step must return a dict with {', '.join(OUTPUTS)} for ganbench; "
                                f"got {type(outputs).__name__}")
        if outputs["loss_g"] is None:  # a D-only batch of an n_critic loop: G has not moved
            return
        self.step += 1
        self.tracker.log(self.step, loss_d=outputs["loss_d"], loss_g=outputs["loss_g"], real_out=outputs["d_real"],
                         fake_out=outputs["d_fake"])
        if self.tracker.should_stop:
            trainer.should_stop = True

    def on_train_end(self, trainer, module) -> None:
        if self.tracker is not None:
            self.tracker.close()

    def on_exception(self, trainer, module, exception: BaseException) -> None:
        if self.tracker is not None:
            self.tracker.__exit__(type(exception), exception, None)
