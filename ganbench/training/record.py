"""One run's outputs while it trains, whoever trains it: ganbench's loop (one recorder per run or ensemble
member) and a user's loop watched by ``ganbench.track`` write through the same recorder, so a tracked run has
the same files, the same measurement fields for the gate, the same events and the same final status as a
trained one.

A run's config.json carries ``measurement``: how its numbers were measured (the evaluation's feature space and
sample count, the data, the step budget, the networks). The gate compares a build with a baseline only where
these agree (``ganbench.evidence.baseline.MEASUREMENT``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Sequence
from typing import Any

from ganbench.diagnostics import run_detectors
from ganbench.diagnostics.base import Event
from ganbench.results.store import MetricsWriter, RunStore
from ganbench.training.loggers import make_loggers


def divergence_bound(detectors: dict[str, dict[str, float]], stop: bool = True) -> float:
    """The loss magnitude past which a run has diverged: the divergence detector's bound (one number for the
    event and the stop), or infinity when diverging runs train on (``stop`` false)."""
    from ganbench.diagnostics.detectors import Divergence

    return float(detectors.get("divergence", {}).get("bound", Divergence.bound)) if stop else math.inf


class RunRecorder:
    """Writes one run: config and status, metric rows (to the store and the live loggers), sample pictures,
    checkpoints, and the events its detectors find. ``resume_step``: keep the rows up to that step (a resumed
    run); None opens the metrics file fresh. ``lazy``: open it at the first row instead (a tracked run learns
    its first step from the loop). ``began``: a ``time.perf_counter()`` reading that time_s counts from (default:
    now)."""

    def __init__(self, store: RunStore, run_id: str, config: dict[str, Any], loggers: Sequence[str] = (),
                 detectors: dict[str, dict[str, float]] | None = None, resume_step: int | None = None,
                 lazy: bool = False, began: float | None = None) -> None:
        self.store, self.run_id, self.config = store, run_id, config
        self.detectors = dict(detectors or {})
        self.events: list[Event] = []
        self._events_written = False  # events.jsonl may still hold an earlier process's events
        self.began = time.perf_counter() if began is None else began  # time_s counts from here
        store.write_config(run_id, config)
        store.set_status(run_id, "running", step=resume_step or 0)
        self.writer: MetricsWriter | None = None if lazy else store.metrics_writer(run_id, resume_step)
        self.logger_names = tuple(loggers)
        self.loggers = make_loggers(loggers, store.root, run_id, config)

    @property
    def opened(self) -> bool:
        return self.writer is not None

    def open(self, step: int) -> None:
        """The metrics file of a lazy recorder, at the first step this process writes: rows before it are kept,
        the rest replaced."""
        if self.writer is None:
            self.writer = self.store.metrics_writer(self.run_id, resume_step=step - 1)

    def write(self, step: int, values: dict[str, float]) -> None:
        self.writer.write(step, values)
        for logger in self.loggers:
            logger.scalars(step, values)

    def sample(self, step: int, png: bytes) -> None:
        self.store.write_sample_image(self.run_id, step, png)
        for logger in self.loggers:
            logger.image(step, png)
        self.writer.flush()

    def checkpoint(self, state: dict[str, Any]) -> None:
        self.writer.sync()  # on disk before the checkpoint that a resumed run keeps them up to
        self.store.save_checkpoint(self.run_id, state)

    def keep_best(self, state: dict[str, Any]) -> None:
        """The best evaluation's G so far (``train.keep_best``), replacing the one before."""
        self.store.save_checkpoint(self.run_id, state, "best.pt")

    def running(self, step: int) -> None:
        self.writer.flush()  # the rows the status counts are in the file
        self.store.set_status(self.run_id, "running", step=step)

    def detect(self, only: Collection[str] | None = None) -> list[Event]:
        """Run the detectors (or those named in ``only``) over every row so far, write the events (the first
        time, where they changed, and when every detector ran), and return the ones not seen before."""
        metrics = self.writer.frame()
        events = run_detectors(metrics, self.detectors, only) if len(metrics) else []
        new = events[len(self.events):] if events[:len(self.events)] == self.events else events
        if only is None or events != self.events or not self._events_written:
            self.store.write_events(self.run_id, events)
            self._events_written = True
        self.events = events
        for logger in self.loggers:
            logger.events(new)
        return new

    def finish(self, status: str, step: int, **extra: Any) -> dict[str, Any]:
        """Detect, close, and write the final status (returned). ``measured``: measurement fields known only now
        (a tracked run's step budget), written into config.json."""
        measured = extra.pop("measured", None)
        links = {name: logger.link() for name, logger in zip(self.logger_names, self.loggers)}
        if any(links.values()):  # the run's page in each live view that has one (the report links them)
            extra["links"] = {name: link for name, link in links.items() if link}
        rows = None
        try:
            if self.writer is not None:
                self.detect()
                rows = self.writer.frame()
            if measured:
                self.config["measurement"] = {**self.config.get("measurement", {}), **measured}
                self.store.write_config(self.run_id, self.config)
        finally:
            self.abort()
        if rows is not None:  # the columnar copy readers take instead of parsing the CSV (results/store.py)
            self.store.write_summary(self.run_id, rows)
        final = {"status": status, "step": step, "time_s": round(time.perf_counter() - self.began, 3), **extra}
        self.store.set_status(self.run_id, **final)
        return final

    def abort(self) -> None:
        """Close the metrics file and the live views (also without a status: an interrupted or failed run's
        caller writes that)."""
        writer, self.writer = self.writer, None
        loggers, self.loggers = self.loggers, []
        if writer is not None:
            writer.close()
        for logger in loggers:
            logger.close()
