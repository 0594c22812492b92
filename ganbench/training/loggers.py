"""Live views of a run while it trains, beside the store (which stays the record): ``loggers: [tensorboard,
wandb, mlflow]`` in a suite, or ``loggers=("mlflow",)`` for a tracked loop. Each is an optional extra.

- tensorboard: each run under ``<results>/<suite>/tensorboard/<run id>/``, so ``tensorboard --logdir
  results/<suite>/tensorboard`` shows every run of a suite side by side.
- wandb: a W&B run per ganbench run in project ``<suite>`` (or ``$WANDB_PROJECT``), grouped by variant, its files
  under ``<results>/<suite>/wandb/``; ``WANDB_MODE=offline`` keeps it on disk.
- mlflow: an MLflow run per ganbench run in experiment ``<suite>``, in ``$MLFLOW_TRACKING_URI`` or else a SQLite
  store ``<results>/<suite>/mlflow.db`` (artifacts beside it, in ``mlflow-artifacts/``).
"""

from __future__ import annotations

import fcntl
import io
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ganbench.catalog import LOGGERS
from ganbench.errors import GanbenchError


class Logger:
    """What a live view receives: every metric row, each evaluation's sample picture, each new event. Built with
    the suite's results root, the run's id and its config (config.json's contents)."""

    def __init__(self, root: Path, run_id: str, config: dict[str, Any]) -> None:
        self.root, self.run_id = root, run_id

    def scalars(self, step: int, values: dict[str, float]) -> None: ...

    def image(self, step: int, png: bytes) -> None: ...

    def events(self, events: Sequence) -> None: ...

    def link(self) -> str | None:
        """The address of this run's page in the tool, where there is one (the report links it)."""
        return None

    def close(self) -> None: ...


def _needs(package: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(package)
    except ImportError:
        raise GanbenchError(f"the {extra} logger needs {extra}: pip install 'ganbench[{extra}]'") from None


def flat_params(config: dict[str, Any]) -> dict[str, str]:
    """The run's recipe and training settings as flat ``a.b.c -> text`` parameters (what the tools compare)."""
    params: dict[str, str] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            params[prefix] = str(value)

    for part in ("spec", "tracked", "dataset", "device", "evaluated_g"):
        if part in config:
            walk(part, config[part])
    return params


def _variant(config: dict[str, Any]) -> str | None:
    """The run's variant, from a trained run's spec or a tracked run's."""
    return (config.get("spec") or config.get("tracked") or {}).get("variant")


def _event_text(event) -> str:
    evidence = ", ".join(f"{k}={v}" for k, v in event.evidence.items())
    return f"from step {event.step}: {evidence}"


def _png_image(png: bytes):
    from PIL import Image

    with Image.open(io.BytesIO(png)) as picture:
        return picture.convert("RGB")


@LOGGERS.register("tensorboard")
class TensorBoard(Logger):
    """Scalars, the fixed-latent sample picture at each evaluation and events as text, through TensorBoard's
    own writer (``torch.utils.tensorboard``; needs ``pip install tensorboard``, the ``tensorboard`` extra)."""

    def __init__(self, root: Path, run_id: str, config: dict[str, Any]) -> None:
        super().__init__(root, run_id, config)
        _needs("tensorboard", "tensorboard")
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(root / "tensorboard" / run_id))

    def scalars(self, step: int, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.writer.add_scalar(name, value, step)

    def image(self, step: int, png: bytes) -> None:
        import numpy as np

        self.writer.add_image("samples", np.asarray(_png_image(png)), step, dataformats="HWC")  # (H, W, 3)

    def events(self, events: Sequence) -> None:
        for event in events:
            self.writer.add_text("events", f"**{event.kind}** {_event_text(event)}", event.step)

    def close(self) -> None:
        self.writer.close()


@LOGGERS.register("wandb")
class WandB(Logger):
    """Scalars and the sample picture per step, events in the run's summary (``event/<kind>``: its onset step;
    ``event/<kind>/evidence``: what it saw), through W&B's own client (``pip install 'ganbench[wandb]'``). A resumed
    ganbench run starts a new W&B run of the same name."""

    def __init__(self, root: Path, run_id: str, config: dict[str, Any]) -> None:
        super().__init__(root, run_id, config)
        wandb = _needs("wandb", "wandb")
        self.wandb = wandb
        variant = _variant(config)
        (root / "wandb").mkdir(parents=True, exist_ok=True)
        self.run = wandb.init(project=os.environ.get("WANDB_PROJECT", root.name), name=run_id, group=variant,
                              dir=str(root), config=flat_params(config), reinit="create_new",
                              tags=["ganbench"], settings=wandb.Settings(silent=True))

    def scalars(self, step: int, values: dict[str, float]) -> None:
        self.run.log(dict(values), step=step)

    def image(self, step: int, png: bytes) -> None:
        self.run.log({"samples": self.wandb.Image(_png_image(png))}, step=step)

    def events(self, events: Sequence) -> None:
        for event in events:
            self.run.summary[f"event/{event.kind}"] = event.step
            self.run.summary[f"event/{event.kind}/evidence"] = _event_text(event)

    def link(self) -> str | None:
        return self.run.url  # None offline

    def close(self) -> None:
        self.run.finish()


@LOGGERS.register("mlflow")
class MLflow(Logger):
    """Parameters (the recipe and training settings), metrics per step, events as tags (``event.<kind>``) and
    the sample pictures as artifacts (``samples/step_<N>.png``), through MLflow's own client
    (``pip install 'ganbench[mlflow]'``). Metrics are sent in batches, at each picture and at the end."""

    BATCH = 900  # metrics per log_batch call (MLflow takes at most 1,000)

    def __init__(self, root: Path, run_id: str, config: dict[str, Any]) -> None:
        super().__init__(root, run_id, config)
        _needs("mlflow", "mlflow")
        from mlflow import MlflowClient
        from mlflow.entities import Param

        self.uri = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{(root / 'mlflow.db').resolve()}"
        root.mkdir(parents=True, exist_ok=True)
        with open(root / ".mlflow.lock", "a") as lock:  # several workers: one creates the store and experiment
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            self.client = MlflowClient(tracking_uri=self.uri)
            experiment = self.client.get_experiment_by_name(root.name)
            self.experiment_id = experiment.experiment_id if experiment else self.client.create_experiment(
                root.name, artifact_location=(root / "mlflow-artifacts").resolve().as_uri())
        variant = _variant(config)
        self.run = self.client.create_run(self.experiment_id, run_name=run_id,
                                          tags={"ganbench.run_id": run_id, "ganbench.variant": str(variant)})
        params = [Param(k[:250], v[:6000]) for k, v in flat_params(config).items()]
        for i in range(0, len(params), 100):  # MLflow takes at most 100 parameters a call
            self.client.log_batch(self.run.info.run_id, params=params[i:i + 100])
        self.pending: list = []

    def scalars(self, step: int, values: dict[str, float]) -> None:
        from mlflow.entities import Metric

        stamp = int(1000 * time.time())
        self.pending += [Metric(name, float(value), stamp, step) for name, value in values.items()
                         if not math.isinf(value)]
        if len(self.pending) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        while self.pending:
            batch, self.pending = self.pending[:self.BATCH], self.pending[self.BATCH:]
            self.client.log_batch(self.run.info.run_id, metrics=batch)

    def image(self, step: int, png: bytes) -> None:
        self._flush()
        self.client.log_image(self.run.info.run_id, _png_image(png), artifact_file=f"samples/step_{step}.png")

    def events(self, events: Sequence) -> None:
        for event in events:
            self.client.set_tag(self.run.info.run_id, f"event.{event.kind}", _event_text(event)[:5000])

    def link(self) -> str | None:
        if not self.uri.startswith(("http://", "https://")):
            return None
        return f"{self.uri.rstrip('/')}/#/experiments/{self.experiment_id}/runs/{self.run.info.run_id}"

    def close(self) -> None:
        self._flush()
        self.client.set_terminated(self.run.info.run_id)


def make_loggers(names: Sequence[str], root: Path, run_id: str, config: dict[str, Any]) -> list[Logger]:
    return [LOGGERS.get(name, "loggers")(root, run_id, config) for name in names]
