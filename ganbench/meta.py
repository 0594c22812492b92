"""What a metric or an event kind *means*: declared by the collector that logs the metric and the detector that
emits the event, and read by the report and the gate, so a plugin's metric can be ranked, tabulated and gated
like a built-in one. Runs record the metadata of their metrics in config.json, so reports read it from the
store even where the plugin that logged a metric is not installed.

Also what names a run (``make_run_id``), which the suite and the tracker share. Torch-free: the gate and the
report import it without the training stack.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MetricInfo:
    """One metric (or a family ``prefix/*``: one metric per mode, per layer, ...), as torchmetrics' metadata."""

    name: str
    description: str
    higher_is_better: bool | None = None  # None: no better direction (a loss, a raw D output, a mode index)
    rank: int | None = None  # may head a ranking; the lowest rank a result has is the ranking's key
    evaluation: bool = False  # logged at evaluations on the fixed latents (final values compare runs)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> MetricInfo:
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in doc.items() if k in fields})


@dataclass(frozen=True)
class EventKind:
    """An event a detector emits."""

    name: str
    description: str
    collapse: bool = False  # counts towards a variant's collapse rate in the report
    nonconvergence: bool = False  # the run never settled: its state is "not converged"


Catalog = dict[str, MetricInfo]  # metric name (or family ``prefix/*``) -> its metadata


def lookup(catalog: Catalog, name: str) -> MetricInfo | None:
    """The metadata of ``name``: its own entry, or its family's (``mode_share/3`` -> ``mode_share/*``)."""
    if name in catalog:
        return catalog[name]
    prefix, sep, _ = name.rpartition("/")
    return catalog.get(f"{prefix}/*") if sep else None


def directed(catalog: Catalog) -> list[str]:
    """Evaluation metrics with a better direction (what final-value tables, rules and rankings can use), ranking
    candidates first, then by name; families excluded."""
    names = [m for m, info in catalog.items()
             if info.evaluation and info.higher_is_better is not None and not m.endswith("/*")]
    return sorted(names, key=lambda m: (catalog[m].rank is None, catalog[m].rank or 0, m))


def make_run_id(variant: str, dataset: str, seed: int, fields: dict[str, Any]) -> str:
    """``<variant>_<dataset>_s<seed>_<digest of fields>``: readable, and stable for as long as ``fields`` (what
    can change the run's numbers) is."""
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{variant}_{dataset}_s{seed}_{digest}"
