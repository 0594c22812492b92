"""Jobs: what an executor trains. A job is one run, or the runs of one seed ensemble (trained together);
``run_job`` trains one wherever an executor runs it, and reports its progress to a ``ProgressReporter``."""

from __future__ import annotations

import json
import time
import traceback
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports the reporter interface without the training stack
    from ganbench.results.store import RunStore
    from ganbench.spec.suite import RunSpec, Suite

Job = tuple["RunSpec", ...]
Result = tuple["RunSpec", dict[str, Any]]  # a run and its final status


class ProgressReporter:
    """Hooks a front end implements to show progress; every hook is optional. Executors call ``run_started``
    and ``step`` from wherever their jobs train (worker processes and Ray tasks forward them)."""

    def suite_started(self, suite: Suite, total: int, skipped: int) -> None: ...

    def run_started(self, spec: RunSpec) -> None: ...

    def step(self, spec: RunSpec, step: int, steps: int) -> None: ...

    def run_finished(self, spec: RunSpec, status: dict[str, Any]) -> None: ...

    def run_repaired(self, spec: RunSpec, damage: str) -> None:
        """A run's stored files could not be read (``damage``): it is trained again."""


class ForwardingReporter(ProgressReporter):
    """Progress of a job training away from the reporter that shows it: (kind, run id, step, steps) messages put
    on a queue, a run's steps at most every ``interval`` seconds (and its last step always)."""

    def __init__(self, put, interval: float = 0.5) -> None:
        self.put, self.interval = put, interval
        self._last: dict[str, float] = {}

    def run_started(self, spec: RunSpec) -> None:
        self.put(("start", spec.run_id, 0, spec.train.steps))

    def step(self, spec: RunSpec, step: int, steps: int) -> None:
        now = time.monotonic()
        if step == steps or now - self._last.get(spec.run_id, -1e9) >= self.interval:
            self._last[spec.run_id] = now
            self.put(("step", spec.run_id, step, steps))


def replay(messages, specs: dict[str, RunSpec], reporter: ProgressReporter) -> None:
    """Hand forwarded progress messages to the reporter that shows them."""
    for kind, run_id, step, steps in messages:
        if run_id not in specs:
            continue
        if kind == "start":
            reporter.run_started(specs[run_id])
        else:
            reporter.step(specs[run_id], step, steps)


def jobs_of(specs: list[RunSpec]) -> list[Job]:
    """What trains together: one job per run, except that with ``ensemble: true`` the runs that differ only
    in seed form one job (a seed ensemble), in the order their first run appears."""
    jobs: dict[str, list[RunSpec]] = {}
    for spec in specs:
        key = spec.run_id
        if spec.train.ensemble:
            key = json.dumps({**spec.to_dict(), "seed": None}, sort_keys=True)
        jobs.setdefault(key, []).append(spec)
    return [tuple(job) for job in jobs.values()]


def run_job(job: Job, store: RunStore, reporter: ProgressReporter, device: str | None = None) -> list[Result]:
    """Train one job; an error inside it fails its runs, never the suite. ``device`` overrides the specs'."""
    from ganbench.training.ensemble import EnsembleTrainer
    from ganbench.training.loop import SingleTrainer, train_runs

    def progress(spec: RunSpec):
        return lambda step, steps: reporter.step(spec, step, steps)

    import torch

    torch.set_num_threads(job[0].train.threads)  # the same arithmetic under every executor (ganbench.arithmetic)
    for spec in job:
        reporter.run_started(spec)
    ensemble = len(job) > 1  # a one-member ensemble trains on its own: vmap over one member only costs time
    try:
        statuses = train_runs(job, store, EnsembleTrainer if ensemble else SingleTrainer, progress, device)
        return list(zip(job, statuses))
    except KeyboardInterrupt:
        for spec in job:
            store.stop(spec.run_id, "interrupted")
        raise
    except Exception as exc:  # noqa: BLE001 - any error in one job is recorded and the suite goes on
        error = f"{type(exc).__name__}: {exc}"
        if ensemble:
            error += " (while training a seed ensemble: `ensemble: false` trains each seed on its own)"
        trace = traceback.format_exc()
        return [(spec, store.stop(spec.run_id, "failed", error=error, traceback=trace)) for spec in job]
