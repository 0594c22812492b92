"""The collector interface (after torchmetrics' update/compute split) and its registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from ganbench.catalog import COLLECTORS
from ganbench.data.base import Dataset
from ganbench.meta import Catalog, MetricInfo
from ganbench.recipes.objectives import Objective


@dataclass
class StepRecord:
    """What one logging step hands to the collectors. Gradients are still in ``d``/``g`` (.grad)."""

    step: int
    loss_d: Tensor  # () last D step's loss, penalty included
    loss_g: Tensor  # ()
    d_real_out: Tensor  # (B, 1) raw D outputs on real data in the last D step
    d_fake_out: Tensor  # (B, 1) raw D outputs on fake data in the last D step
    d: nn.Module
    g: nn.Module
    d_input_grad_real: Tensor | None = None  # (B, features) dD/dx, only when a collector asks for it
    d_input_grad_fake: Tensor | None = None
    # what the trainer set for this step where it moves: lr_d, lr_g under a schedule, augment_p under ADA
    controls: dict[str, float] | None = None
    latent_shape: tuple[int, ...] | None = None  # one latent's shape, (z_dim,) or a conv generator's (z, 1, 1)


@dataclass
class EvalContext:
    step: int
    fake: Tensor  # (N, *sample_shape) samples from the fixed evaluation latents, on the run's device
    real: Tensor  # (N, *sample_shape) fixed real evaluation samples
    dataset: Dataset
    real_key: str = ""  # identifies ``real`` (dataset, its parameters, seed, N): equal keys, equal samples
    shared: dict[Any, Any] = field(default_factory=dict)  # work collectors share within one evaluation
    fake_labels: Tensor | None = None  # (N,) the class each sample was generated for (conditional runs)
    real_labels: Tensor | None = None  # (N,) the real samples' classes (conditional runs)


class Collector:
    """Returns named scalars. ``on_step`` values may be 0-dim tensors: the trainer syncs them all at once."""

    needs_input_grad = False  # ask the trainer for dD/dx on logging steps
    calls_networks = False  # on_step calls D or G itself, as an unconditional network (not on a conditional run)
    metrics: tuple[MetricInfo, ...] = ()  # every metric this collector logs, with its meaning and direction

    def __init__(self, dataset: Dataset, objective: Objective, device: torch.device) -> None:
        self.dataset = dataset
        self.objective = objective
        self.device = device

    @staticmethod
    def check(dataset: Dataset) -> None:
        """Raise GanbenchError when this collector cannot measure ``dataset`` (run at suite validation)."""

    def on_step(self, record: StepRecord) -> dict[str, Tensor | float]:
        return {}

    def evaluate(self, ctx: EvalContext) -> dict[str, float]:
        return {}

    def describe(self) -> dict[str, Any]:
        """What the run's config should say about this collector (feature space, sample counts, ...)."""
        return {}


def step_values(collectors: list[Collector], record: StepRecord) -> dict[str, float]:
    """Every collector's values for a logging step, brought to the host with one device sync."""
    values: dict[str, Tensor | float] = {}
    for collector in collectors:
        values.update(collector.on_step(record))
    if not values:
        return {}
    device = collectors[0].device
    if device.type == "cpu":  # no sync to save: one float() each costs a tenth of the stacking (30 values: 0.1 ms)
        return {name: float(v) for name, v in values.items()}
    stacked = torch.stack([torch.as_tensor(v, dtype=torch.float64, device=device) for v in values.values()])
    return dict(zip(values, stacked.tolist()))


def evaluation_values(collectors: list[Collector], ctx: EvalContext) -> dict[str, float]:
    """Every collector's values for one evaluation of the fixed latents."""
    values: dict[str, float] = {}
    for collector in collectors:
        values.update(collector.evaluate(ctx))
    return values


def collectors_config(collectors: list[Collector]) -> dict[str, Any]:
    """What a run's config records of its collectors: their settings, and the metadata of every metric they log
    (what the report and the gate read)."""
    settings: dict[str, Any] = {}
    for collector in collectors:
        settings.update(collector.describe())
    return {"collectors": settings, "metrics": {m.name: m.to_json() for c in collectors for m in c.metrics}}


def default_collectors(dataset: Dataset, conditional: bool = False) -> tuple[str, ...]:
    """What a run measures unless its suite names collectors; ``conditional``: per class too."""
    names = ["losses", "d_outputs", "grad_norms", "param_norms", "fid", "sliced_wasserstein"]
    if len(dataset.sample_shape) == 3:  # images: what StudioGAN reports beside FID
        names += ["kid", "precision_recall", "density_coverage"]
        if dataset.has_class_logits:
            names.append("inception_score")
    if dataset.num_modes is not None:
        names.append("mode_coverage")
    if conditional:
        names.append("conditional")
    return tuple(names)


def make_collectors(names: tuple[str, ...] | None, dataset: Dataset, objective: Objective,
                    device: torch.device, conditional: bool = False) -> list[Collector]:
    names = default_collectors(dataset, conditional) if names is None else names
    return [COLLECTORS.get(n, "collectors")(dataset, objective, device) for n in names]


def metric_catalog(names: tuple[str, ...] | None = None) -> Catalog:
    """The metadata of every metric the collectors ``names`` (default: every registered collector) declare."""
    catalog: Catalog = {}
    for name in COLLECTORS if names is None else names:
        catalog.update({m.name: m for m in COLLECTORS.get(name).metrics})
    return catalog
