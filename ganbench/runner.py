"""run_suite: expand a suite into jobs, skip the finished runs, train the rest on an executor, keep the manifest
current."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganbench.errors import GanbenchError
from ganbench.executors import EXECUTORS, Options
from ganbench.jobs import ProgressReporter, jobs_of
from ganbench.store import FINISHED, RunStore
from ganbench.suite import RunSpec, Suite, load_suite


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


def run_suite(suite: Suite | str | Path, out: str | Path = "results", device: str | None = None,
              fresh: bool = False, workers: int = 1, executor: str | None = None, address: str | None = None,
              reporter: ProgressReporter | None = None) -> SuiteResult:
    """Train every run of ``suite`` into ``out/<suite name>/``; finished runs are skipped unless ``fresh``.
    ``executor``: a registered executor (``ganbench list executors``); by default ``sequential`` with one
    worker and ``processes`` (that many local processes) with more."""
    run_jobs = EXECUTORS.get(executor or ("processes" if workers > 1 else "sequential"), "--executor")
    options = Options(workers, address)
    suite = suite if isinstance(suite, Suite) else load_suite(suite)
    reporter = reporter or ProgressReporter()
    store = RunStore(out, suite.name)
    try:
        with store.lock():
            return _run_locked(suite, store, suite.expand(device), fresh, reporter,
                               lambda todo: run_jobs(jobs_of(todo), store, reporter, options))
    except OSError as exc:
        raise GanbenchError(f"cannot write results to {store.root}: {exc.strerror or exc}") from None


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
