"""run_suite: expand a suite into runs, skip the finished ones, train the rest, keep the manifest current."""

from __future__ import annotations

import json
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganbench.errors import GanbenchError
from ganbench.executors import Job, Result, processes, ray, sequential
from ganbench.store import FINISHED, RunStore
from ganbench.suite import RunSpec, Suite, load_suite
from ganbench.train import SingleTrainer, train_runs


class ProgressReporter:
    """Hooks a front end implements to show progress; every hook is optional."""

    def suite_started(self, suite: Suite, total: int, skipped: int) -> None: ...

    def run_started(self, spec: RunSpec) -> None: ...

    def step(self, spec: RunSpec, step: int, steps: int) -> None: ...

    def run_finished(self, spec: RunSpec, result: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class SuiteResult:
    root: Path
    runs: list[dict[str, Any]]  # manifest entries: id, variant, dataset, seed, status

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.runs if r["status"] not in FINISHED]


def _entry(spec: RunSpec, status: str) -> dict[str, Any]:
    return {"id": spec.run_id, "variant": spec.variant, "dataset": spec.dataset.name, "seed": spec.seed,
            "status": status}


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
    from ganbench.ensemble import EnsembleTrainer

    def progress(spec: RunSpec):
        return lambda step, steps: reporter.step(spec, step, steps)

    ensemble = len(job) > 1  # a one-member ensemble trains on its own: vmap over one member only costs time
    try:
        results = train_runs(job, store, EnsembleTrainer if ensemble else SingleTrainer,
                             progress, device)
        return list(zip(job, results))
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


def run_suite(suite: Suite | str | Path, out: str | Path = "results", device: str | None = None,
              fresh: bool = False, workers: int = 1, executor: str | None = None, address: str | None = None,
              reporter: ProgressReporter | None = None) -> SuiteResult:
    """Train every run of ``suite`` into ``out/<suite name>/``; finished runs are skipped unless ``fresh``.
    ``executor``: ``sequential`` (the default with one worker), ``processes`` (the default with ``workers`` > 1:
    that many local processes) or ``ray`` (tasks on the Ray cluster at ``address``, or a local one)."""
    executor = executor or ("processes" if workers > 1 else "sequential")
    if executor not in EXECUTORS:
        raise GanbenchError(f"unknown executor {executor!r}; choose from: {', '.join(EXECUTORS)}")
    suite = suite if isinstance(suite, Suite) else load_suite(suite)
    reporter = reporter or ProgressReporter()
    store = RunStore(out, suite.name)
    try:
        with store.lock():
            return _run_locked(suite, store, suite.expand(device), fresh, reporter,
                               lambda todo: _execute(executor, todo, store, workers, address, reporter))
    except OSError as exc:
        raise GanbenchError(f"cannot write results to {store.root}: {exc.strerror or exc}") from None


EXECUTORS = ("sequential", "processes", "ray")


def _execute(executor: str, todo: list[RunSpec], store: RunStore, workers: int, address: str | None,
             reporter: ProgressReporter):
    jobs = jobs_of(todo)
    if executor == "processes":
        return processes(jobs, store, max(workers, 1))
    if executor == "ray":
        return ray(jobs, store, address, workers if workers > 1 else None)

    def one(job: Job) -> list[Result]:
        for spec in job:
            reporter.run_started(spec)
        return run_job(job, store, reporter)

    return sequential(jobs, one)


def _run_locked(suite: Suite, store: RunStore, specs: list[RunSpec], fresh: bool, reporter: ProgressReporter,
                execute) -> SuiteResult:
    store.prepare(suite.source)
    if fresh:
        for spec in specs:
            store.clear_run(spec.run_id)
    statuses = {s.run_id: store.status(s.run_id)["status"] for s in specs}
    todo = [s for s in specs if statuses[s.run_id] not in FINISHED]
    reporter.suite_started(suite, len(specs), len(specs) - len(todo))
    store.write_manifest([_entry(s, statuses[s.run_id]) for s in specs])
    results = execute(todo)
    try:
        for spec, result in results:
            statuses[spec.run_id] = result["status"]
            store.write_manifest([_entry(s, statuses[s.run_id]) for s in specs])
            reporter.run_finished(spec, result)
    finally:
        store.write_manifest([_entry(s, store.status(s.run_id)["status"]) for s in specs])
    return SuiteResult(store.root, [_entry(s, statuses[s.run_id]) for s in specs])
