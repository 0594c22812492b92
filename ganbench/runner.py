"""run_suite: expand a suite into runs, skip the finished ones, train the rest, keep the manifest current."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganbench.errors import GanbenchError
from ganbench.executors import processes, ray, sequential
from ganbench.store import FINISHED, RunStore
from ganbench.suite import RunSpec, Suite, load_suite
from ganbench.train import train


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


def run_one(spec: RunSpec, store: RunStore, reporter: ProgressReporter) -> dict[str, Any]:
    """Train one run; an error inside it becomes a failed run, never a crashed suite."""
    try:
        return train(spec, store, progress=lambda step, steps: reporter.step(spec, step, steps))
    except KeyboardInterrupt:
        store.set_status(spec.run_id, "interrupted", step=store.status(spec.run_id).get("step", 0))
        raise
    except Exception as exc:  # noqa: BLE001 - any error in one run is recorded and the suite goes on
        result = {"status": "failed", "step": store.status(spec.run_id).get("step", 0),
                  "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        store.set_status(spec.run_id, **result)
        return result


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
    if executor == "processes":
        return processes(todo, store, max(workers, 1))
    if executor == "ray":
        return ray(todo, store, address, workers if workers > 1 else None)

    def one(spec: RunSpec) -> dict[str, Any]:
        reporter.run_started(spec)
        return run_one(spec, store, reporter)

    return sequential(todo, one)


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
