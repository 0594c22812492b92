"""Live views of a run while it trains, beside the store (which stays the record): ``loggers: [tensorboard]``
in a suite, or ``loggers=("tensorboard",)`` for a tracked loop. Each run writes under
``<results>/<suite>/tensorboard/<run id>/``, so ``tensorboard --logdir results/<suite>/tensorboard`` shows
every run of a suite side by side."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from ganbench.catalog import LOGGERS
from ganbench.errors import GanbenchError


class Logger:
    """What a live view receives: every metric row, each evaluation's sample picture, each new event."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir

    def scalars(self, step: int, values: dict[str, float]) -> None: ...

    def image(self, step: int, png: bytes) -> None: ...

    def events(self, events: Sequence) -> None: ...

    def close(self) -> None: ...


@LOGGERS.register("tensorboard")
class TensorBoard(Logger):
    """Scalars, the fixed-latent sample picture at each evaluation and events as text, through TensorBoard's
    own writer (``torch.utils.tensorboard``; needs ``pip install tensorboard``, the ``tensorboard`` extra)."""

    def __init__(self, log_dir: Path) -> None:
        super().__init__(log_dir)
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise GanbenchError("the tensorboard logger needs TensorBoard: pip install 'ganbench[tensorboard]' "
                                "(or pip install tensorboard)") from None
        self.writer = SummaryWriter(log_dir=str(log_dir))

    def scalars(self, step: int, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.writer.add_scalar(name, value, step)

    def image(self, step: int, png: bytes) -> None:
        import numpy as np
        from PIL import Image

        with Image.open(io.BytesIO(png)) as picture:
            pixels = np.asarray(picture.convert("RGB"))  # (H, W, 3)
        self.writer.add_image("samples", pixels, step, dataformats="HWC")

    def events(self, events: Sequence) -> None:
        for event in events:
            evidence = ", ".join(f"{k}={v}" for k, v in event.evidence.items())
            self.writer.add_text("events", f"**{event.kind}** from step {event.step}: {evidence}", event.step)

    def close(self) -> None:
        self.writer.close()


def make_loggers(names: Sequence[str], log_dir: Path) -> list[Logger]:
    return [LOGGERS.get(name, "loggers")(log_dir) for name in names]
