"""run_suite: expand a suite into jobs, skip the finished runs, train the rest on an executor, keep the manifest
current."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganbench.errors import GanbenchError
from ganbench.execution.executors import EXECUTORS, Options
from ganbench.execution.jobs import ProgressReporter, jobs_of
from ganbench.results.store import FINISHED, RunStore
from ganbench.spec.suite import RunSpec, Suite, load_suite


@dataclass(frozen=True)
class SuiteRun:
    root: Path
    runs: list[dict[str, Any]]  # manifest entries: id, variant, dataset, seed, status

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.runs if r["status"] not in FINISHED]


def _entry(spec: RunSpec, status: str, trials: frozenset[str]) -> dict[str, Any]:
    entry = {"id": spec.run_id, "variant": spec.variant, "dataset": spec.dataset.name, "seed": spec.seed,
             "status": status}
    if spec.variant in trials:
        entry["trial"] = True  # a sweep's trial: the report and the gate read the winners' runs
    return entry


def run_suite(suite: Suite | str | Path, out: str | Path = "results", device: str | None = None,
              fresh: bool = False, workers: int = 1, executor: str | None = None, address: str | None = None,
              reporter: ProgressReporter | None = None, gpus_per_task: float = 1.0) -> SuiteRun:
    """Train every run of ``suite`` into ``out/<suite name>/``; finished runs are skipped unless ``fresh``.
    ``executor``: a registered executor (``ganbench list executors``); by default ``sequential`` with one
    worker and ``processes`` (that many local processes) with more."""
    executor = executor or ("processes" if workers > 1 else "sequential")
    run_jobs = EXECUTORS.get(executor, "--executor")
    options = Options(workers, address, gpus_per_task)
    suite = suite if isinstance(suite, Suite) else load_suite(suite)
    if executor != "ray":  # a Ray cluster's nodes may have devices the driver lacks
        from ganbench.training.loop import check_device

        check_device(device or suite.device)
    reporter = reporter or ProgressReporter()
    store = RunStore(out, suite.name)
    execute = lambda todo: run_jobs(jobs_of(todo), store, reporter, options)  # noqa: E731
    try:
        with store.lock():
            specs = suite.expand(device)
            trials = frozenset(t.name for t in suite.trials())
            done = _run_locked(suite, store, specs, fresh, reporter, execute, trials)
            if suite.sweep is None:
                return done
            # the sweep's second phase: each variant's best trial, chosen on the selection seeds, on fresh seeds
            from ganbench.evidence.selection import select
            from ganbench.results import load_results

            best, metric = select(suite, load_results(store.root, trials=True))
            winners = suite.winners(best, device)
            if fresh:
                for spec in winners:
                    store.clear_run(spec.run_id)
            done = _run_locked(suite, store, specs + winners, False, reporter, execute, trials)
            write_sweep(store.root, suite, best, metric)
            return done
    except OSError as exc:
        raise GanbenchError(f"cannot write results to {store.root}: {exc.strerror or exc}") from None


def _run_locked(suite: Suite, store: RunStore, specs: list[RunSpec], fresh: bool, reporter: ProgressReporter,
                execute, trials: frozenset[str] = frozenset()) -> SuiteRun:
    store.prepare(suite.source)
    for spec in specs:
        damage = None if fresh else store.damage(spec.run_id)
        if damage:  # a corrupt file (a disk error, a hand edit): this run trains again, the others stay
            reporter.run_repaired(spec, damage)
        if fresh or damage:
            store.clear_run(spec.run_id)
    statuses = {s.run_id: store.status(s.run_id)["status"] for s in specs}
    todo = [s for s in specs if statuses[s.run_id] not in FINISHED]
    reporter.suite_started(suite, len(specs), len(specs) - len(todo))
    store.write_manifest([_entry(s, statuses[s.run_id], trials) for s in specs], state="running")
    finished = execute(todo)
    state = "interrupted"
    try:
        for spec, status in finished:
            statuses[spec.run_id] = status["status"]
            store.write_manifest([_entry(s, statuses[s.run_id], trials) for s in specs], state="running")
            reporter.run_finished(spec, status)
        state = "finished"
    finally:
        if hasattr(finished, "close"):  # an executor stops its workers now, not when the generator is collected
            finished.close()
        if state == "interrupted":  # Ctrl-C (or a crash): a run left "running" has no trainer any more
            for spec in todo:
                if store.status(spec.run_id)["status"] == "running":
                    store.set_status(spec.run_id, "interrupted")
        store.write_manifest([_entry(s, store.status(s.run_id)["status"], trials) for s in specs], state=state)
    return SuiteRun(store.root, [_entry(s, statuses[s.run_id], trials) for s in specs])


def write_sweep(root: Path, suite: Suite, best: dict[str, Any], metric: str) -> None:
    """sweep.json beside the manifest: what was swept, which seeds chose and which scored, every trial's
    settings and each variant's winner -- what the report's sweep section reads."""
    from ganbench.results.store import write_json

    sweep, trials = suite.sweep, suite.trials()
    write_json(root / "sweep.json", {
        "method": sweep.method, "trials": sweep.trials, "seed": sweep.seed, "metric": metric,
        "selection_seeds": list(sweep.selection_seeds), "reporting_seeds": list(suite.seeds),
        "variants": {name: {"best": best[name].name,
                            "trials": [{"name": t.name, "settings": t.settings} for t in trials
                                       if t.variant == name]} for name, _ in suite.variants}})
