"""Executors: the same jobs in, the same store out. A job is one run, or the runs of one seed ensemble
(trained together). ``sequential`` trains in this process; ``processes`` trains on N local worker processes
(spawned, torch threads split so workers don't oversubscribe cores, CUDA devices round-robin); ``ray`` hands
each job to a Ray cluster (an existing one at ``address``, or a local one), every worker writing to the
shared results path. Each yields (spec, final status) per run as jobs finish."""

from __future__ import annotations

import atexit
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import torch

from ganbench.store import RunStore
from ganbench.suite import RunSpec

Job = tuple[RunSpec, ...]
Result = tuple[RunSpec, dict[str, Any]]
RunJob = Callable[[Job], list[Result]]


def sequential(jobs: list[Job], run_job: RunJob) -> Iterator[Result]:
    for job in jobs:
        yield from run_job(job)


def _init_worker(threads: int) -> None:
    torch.set_num_threads(threads)
    atexit.register(_exit_without_teardown)


def _exit_without_teardown() -> None:
    """A worker's last act, after multiprocessing has flushed its queues: skip the interpreter's teardown of
    torch and torchmetrics, which took 1.2 s per worker (pool shutdown waits for it). Every result file was
    closed when its job returned."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _train_in_worker(job: Job, out_root: str, device: str | None = None) -> list[Result]:
    from ganbench.runner import ProgressReporter, run_job

    return run_job(job, RunStore.at(out_root), ProgressReporter(), device)


def _gpu_for(job: Job, index: int) -> str | None:
    """CUDA devices round-robin over jobs: a job asking for plain ``cuda`` (or ``auto`` on a machine with
    several GPUs) trains on ``cuda:<index mod device count>``; an explicit ``cuda:N`` is kept. The spec (and
    so the run id) is unchanged: the device a run used is in its config.json."""
    if job[0].device not in ("cuda", "auto") or not torch.cuda.is_available() or torch.cuda.device_count() < 2:
        return None
    return f"cuda:{index % torch.cuda.device_count()}"


def _round(jobs: list[Job], store: RunStore, workers: int) -> Iterator[tuple[Job, list[Result] | None]]:
    """One pool over ``jobs``; yields (job, None) for the jobs a dead worker pool left unfinished."""
    threads = max(1, (os.cpu_count() or 1) // workers)
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(threads,))
    try:
        futures = {pool.submit(_train_in_worker, j, str(store.root), _gpu_for(j, i)): j for i, j in enumerate(jobs)}
        while futures:
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                job = futures.pop(future)
                try:
                    yield job, future.result()
                except BrokenProcessPool:
                    yield job, None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def processes(jobs: list[Job], store: RunStore, workers: int) -> Iterator[Result]:
    """Train on ``workers`` spawned processes. When a worker dies (killed, out of memory, a crash in native
    code) the pool dies with it: jobs that had not started go back in the queue, and the jobs that were
    training are retried alone, so only a job that kills its worker even alone is marked failed."""
    todo = list(jobs)
    while todo:
        pending, suspects = todo, []
        todo = []
        for job, results in _round(pending, store, workers):
            if results is not None:
                yield from results
            elif any(store.status(s.run_id)["status"] == "running" for s in job) or len(pending) == 1:
                suspects.append(job)
            else:
                todo.append(job)
        for job in suspects:
            ((job, results),) = _round([job], store, 1)
            if results is None:
                results = [(s, store.stop(s.run_id, "failed", error="the worker process training this run died"))
                           for s in job]
            yield from results


def ray(jobs: list[Job], store: RunStore, address: str | None = None, workers: int | None = None
        ) -> Iterator[Result]:
    """Train each job as a Ray task (1 CPU, or 1 GPU when the job asks for CUDA). A task that fails or
    whose worker dies fails its runs; the others go on."""
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
    for job in jobs:
        gpus = 1 if job[0].device.startswith("cuda") else 0
        pending[task.options(num_cpus=1, num_gpus=gpus).remote(job, str(store.root))] = job
    while pending:
        (ref,), _ = ray_module.wait(list(pending), num_returns=1)
        job = pending.pop(ref)
        try:
            yield from ray_module.get(ref)
        except ray_module.exceptions.RayError as exc:
            error = f"Ray task failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            for spec in job:
                yield spec, store.stop(spec.run_id, "failed", error=error)


def _ray_task(job: Job, out_root: str) -> list[Result]:
    torch.set_num_threads(1)  # one CPU per task, as requested from Ray
    return _train_in_worker(job, out_root)
