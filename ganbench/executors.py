"""Executors: the same RunSpecs in, the same store out. ``sequential`` trains in this process; ``processes``
trains on N local worker processes (spawned, torch threads split so workers don't oversubscribe cores);
``ray`` hands each run to a Ray cluster (an existing one at ``address``, or a local one), every worker
writing to the shared results path."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import torch

from ganbench.store import RunStore
from ganbench.suite import RunSpec

RunOne = Callable[[RunSpec], dict[str, Any]]


def sequential(specs: list[RunSpec], run_one: RunOne) -> Iterator[tuple[RunSpec, dict[str, Any]]]:
    for spec in specs:
        yield spec, run_one(spec)


def _init_worker(threads: int) -> None:
    torch.set_num_threads(threads)


def _train_in_worker(spec: RunSpec, out_root: str) -> dict[str, Any]:
    from ganbench.runner import ProgressReporter, run_one

    return run_one(spec, RunStore.at(out_root), ProgressReporter())


def _round(specs: list[RunSpec], store: RunStore, workers: int) -> Iterator[tuple[RunSpec, dict[str, Any] | None]]:
    """One pool over ``specs``; yields (spec, None) for the runs a dead worker pool left unfinished."""
    threads = max(1, (os.cpu_count() or 1) // workers)
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(threads,))
    try:
        futures = {pool.submit(_train_in_worker, s, str(store.root)): s for s in specs}
        while futures:
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                spec = futures.pop(future)
                try:
                    yield spec, future.result()
                except BrokenProcessPool:
                    yield spec, None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def processes(specs: list[RunSpec], store: RunStore, workers: int) -> Iterator[tuple[RunSpec, dict[str, Any]]]:
    """Train on ``workers`` spawned processes. When a worker dies (killed, out of memory, a crash in native
    code) the pool dies with it: runs that had not started go back in the queue, and the runs that were
    training are retried alone, so only a run that kills its worker even alone is marked failed."""
    todo = list(specs)
    while todo:
        pending, suspects = todo, []
        todo = []
        for spec, result in _round(pending, store, workers):
            if result is not None:
                yield spec, result
            elif store.status(spec.run_id)["status"] == "running" or len(pending) == 1:
                suspects.append(spec)
            else:
                todo.append(spec)
        for spec in suspects:
            ((spec, result),) = _round([spec], store, 1)
            if result is None:
                result = {"status": "failed", "step": store.status(spec.run_id).get("step", 0),
                          "error": "the worker process training this run died"}
                store.set_status(spec.run_id, **result)
            yield spec, result


def ray(specs: list[RunSpec], store: RunStore, address: str | None = None, workers: int | None = None
        ) -> Iterator[tuple[RunSpec, dict[str, Any]]]:
    """Train each run as a Ray task (1 CPU, or 1 GPU when the run asks for CUDA). A task that fails or
    whose worker dies becomes a failed run; the others go on."""
    try:
        import ray as ray_module
    except ImportError:
        from ganbench.errors import GanbenchError

        raise GanbenchError("--executor ray needs Ray: pip install 'ganbench[ray]'") from None
    if not ray_module.is_initialized():
        ray_module.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                        log_to_driver=False, configure_logging=False)
    task = ray_module.remote(max_retries=0)(_ray_task)
    pending = {}
    for spec in specs:
        gpus = 1 if spec.device.startswith("cuda") else 0
        pending[task.options(num_cpus=1, num_gpus=gpus).remote(spec, str(store.root))] = spec
    while pending:
        (ref,), _ = ray_module.wait(list(pending), num_returns=1)
        spec = pending.pop(ref)
        try:
            result = ray_module.get(ref)
        except ray_module.exceptions.RayError as exc:
            result = {"status": "failed", "step": store.status(spec.run_id).get("step", 0),
                      "error": f"Ray task failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"}
            store.set_status(spec.run_id, **result)
        yield spec, result


def _ray_task(spec: RunSpec, out_root: str) -> dict[str, Any]:
    torch.set_num_threads(1)  # one CPU per task, as requested from Ray
    return _train_in_worker(spec, out_root)
