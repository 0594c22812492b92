"""Events, the detector registry, and running every detector over one run's metrics.

A detector is a frozen dataclass whose fields are its documented thresholds (int or float: a suite's override
must have the field's type), a class attribute ``events`` declaring the event kinds it emits, and a
``detect(stream) -> list[Event]`` method over the run's metric stream: metric name -> values indexed by step
(NaN and inf kept, exactly as logged).
Detectors are pure functions of the stored stream, so running them online at the end of training and
offline over ``metrics.csv`` (``ganbench diagnose``) gives the same events.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pandas is imported where a stream is built: listing detectors does not need it
    import pandas as pd

from ganbench.catalog import DETECTORS
from ganbench.meta import EventKind


@dataclass(frozen=True)
class Event:
    kind: str  # an EventKind a registered detector declares: mode_collapse, d_overpowering, divergence, ...
    step: int  # the step the condition began
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "step": self.step, "evidence": _jsonable(self.evidence)}


def _jsonable(value: Any) -> Any:
    """JSON has no NaN: non-finite numbers are written as their names ('nan', 'inf')."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def detector_params(name: str) -> dict[str, type]:
    """A detector's thresholds and their types (int or float)."""
    return {f.name: type(f.default) for f in dataclasses.fields(DETECTORS.get(name))}


def event_kinds() -> dict[str, EventKind]:
    """Every event kind a registered detector declares."""
    return {kind.name: kind for name in DETECTORS for kind in DETECTORS.get(name).events}


Stream = dict[str, "pd.Series"]


def metric_stream(metrics: pd.DataFrame) -> Stream:
    """Tidy (step, name, value) rows -> {name: values indexed by step}. One sort and slices of it: a groupby
    per name cost more than the detectors themselves."""
    import pandas as pd

    rows = metrics.sort_values(["name", "step"], kind="stable")
    names, steps, values = (rows[c].to_numpy() for c in ("name", "step", "value"))
    if len(names) == 0:
        return {}
    starts = np.flatnonzero(np.r_[True, names[1:] != names[:-1]])
    ends = np.r_[starts[1:], len(names)]
    return {str(names[a]): pd.Series(values[a:b], index=pd.Index(steps[a:b], name="step"), name="value")
            for a, b in zip(starts, ends)}


def run_detectors(metrics: pd.DataFrame, overrides: dict[str, dict[str, float]] | None = None,
                  only: Collection[str] | None = None) -> list[Event]:
    """Every registered detector (or those named in ``only``) over one run's tidy metrics, events sorted by
    step."""
    stream = metric_stream(metrics)
    overrides = overrides or {}
    events: list[Event] = []
    for name in DETECTORS:
        if only is None or name in only:
            events += DETECTORS.get(name)(**overrides.get(name, {})).detect(stream)
    return sorted(events, key=lambda e: (e.step, e.kind))


def streaks(flags: pd.Series, length: int) -> list[tuple[int, int]]:
    """(start, end) index labels of every run of at least ``length`` consecutive True values."""
    out, start, count, prev = [], None, 0, None
    for label, flag in flags.items():
        if flag:
            start = label if count == 0 else start
            count += 1
        elif count:
            if count >= length:
                out.append((start, prev))
            count = 0
        prev = label
    if count >= length:
        out.append((start, prev))
    return out
