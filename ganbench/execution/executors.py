"""Executors: the same jobs in, the same store out, registered by name. ``sequential`` trains in this process;
``processes`` trains on N local worker processes (spawned, torch threads split so workers don't oversubscribe
cores, CUDA devices round-robin); ``ray`` hands each job to a Ray cluster (an existing one at ``address``, or a
local one), every worker writing to the shared results path. Each yields (spec, final status) per run as jobs
finish, and forwards the jobs' step progress to the reporter while they train."""

from __future__ import annotations

import atexit
import multiprocessing
import os
import queue
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import torch

from ganbench.catalog import EXECUTORS
from ganbench.errors import GanbenchError
from ganbench.execution.jobs import ForwardingReporter, Job, ProgressReporter, Result, replay, run_job
from ganbench.results.store import RunStore

POLL_S = 0.25  # how often a waiting executor shows forwarded progress


@dataclass(frozen=True)
class Options:
    workers: int = 1  # parallel jobs
    address: str | None = None  # Ray cluster address (None: a local Ray)


Executor = Callable[[list[Job], RunStore, ProgressReporter, Options], Iterator[Result]]


@EXECUTORS.register("sequential")
def sequential(jobs: list[Job], store: RunStore, reporter: ProgressReporter, options: Options) -> Iterator[Result]:
    """One job after another, in this process."""
    for job in jobs:
        yield from run_job(job, store, reporter)


def _drain(messages, specs: dict, reporter: ProgressReporter) -> None:
    while True:
        try:
            replay([messages.get_nowait()], specs, reporter)
        except queue.Empty:
            return


_progress = None  # a worker's queue to the parent's reporter


def _init_worker(threads: int, progress) -> None:
    global _progress
    _progress = progress
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
    reporter = ForwardingReporter(_progress.put) if _progress is not None else ProgressReporter()
    return run_job(job, RunStore.at(out_root), reporter, device)


def _gpu_for(job: Job, index: int) -> str | None:
    """CUDA devices round-robin over jobs: a job asking for plain ``cuda`` (or ``auto`` on a machine with
    several GPUs) trains on ``cuda:<index mod device count>``; an explicit ``cuda:N`` is kept. The spec (and
    so the run id) is unchanged: the device a run used is in its config.json."""
    if job[0].device not in ("cuda", "auto") or not torch.cuda.is_available() or torch.cuda.device_count() < 2:
        return None
    return f"cuda:{index % torch.cuda.device_count()}"


def _round(jobs: list[Job], store: RunStore, workers: int, reporter: ProgressReporter
           ) -> Iterator[tuple[Job, list[Result] | None]]:
    """One pool over ``jobs``; yields (job, None) for the jobs a dead worker pool left unfinished."""
    threads = max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")
    progress = context.Queue()
    specs = {spec.run_id: spec for job in jobs for spec in job}
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(threads, progress))
    try:
        futures = {pool.submit(_train_in_worker, j, str(store.root), _gpu_for(j, i)): j for i, j in enumerate(jobs)}
        while futures:
            done, _ = wait(futures, timeout=POLL_S, return_when=FIRST_COMPLETED)
            _drain(progress, specs, reporter)
            for future in done:
                job = futures.pop(future)
                try:
                    yield job, future.result()
                except BrokenProcessPool:
                    yield job, None
        _drain(progress, specs, reporter)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        progress.close()


@EXECUTORS.register("processes")
def processes(jobs: list[Job], store: RunStore, reporter: ProgressReporter, options: Options) -> Iterator[Result]:
    """``workers`` spawned local processes. When a worker dies (killed, out of memory, a crash in native
    code) the pool dies with it: jobs that had not started go back in the queue, and the jobs that were
    training are retried alone, so only a job that kills its worker even alone is marked failed."""
    workers = max(options.workers, 1)
    todo = list(jobs)
    while todo:
        pending, suspects = todo, []
        todo = []
        for job, finished in _round(pending, store, workers, reporter):
            if finished is not None:
                yield from finished
            elif any(store.status(s.run_id)["status"] == "running" for s in job) or len(pending) == 1:
                suspects.append(job)
            else:
                todo.append(job)
        for job in suspects:
            ((job, finished),) = _round([job], store, 1, reporter)
            if finished is None:
                finished = [(s, store.stop(s.run_id, "failed", error="the worker process training this run died"))
                            for s in job]
            yield from finished


@EXECUTORS.register("ray")
def ray(jobs: list[Job], store: RunStore, reporter: ProgressReporter, options: Options) -> Iterator[Result]:
    """Ray tasks (1 CPU, or 1 GPU when the job asks for CUDA) on the cluster at ``address``, or a local Ray. A
    task that fails or whose worker dies fails its runs; the others go on."""
    try:
        import ray as ray_module
        from ray.util.queue import Queue
    except ImportError:
        raise GanbenchError("--executor ray needs Ray: pip install 'ganbench[ray]'") from None
    if not ray_module.is_initialized():
        ray_module.init(address=options.address, num_cpus=None if options.address else max(options.workers, 1),
                        include_dashboard=False, log_to_driver=False, configure_logging=False)
    progress = Queue()
    specs = {spec.run_id: spec for job in jobs for spec in job}
    task = ray_module.remote(max_retries=0)(_ray_task)
    pending = {}
    for job in jobs:
        gpus = 1 if job[0].device.startswith("cuda") else 0
        pending[task.options(num_cpus=1, num_gpus=gpus).remote(job, str(store.root), progress)] = job
    try:
        while pending:
            ready, _ = ray_module.wait(list(pending), num_returns=1, timeout=POLL_S)
            replay(progress.get_nowait_batch(progress.qsize()), specs, reporter)
            for ref in ready:
                job = pending.pop(ref)
                try:
                    yield from ray_module.get(ref)
                except ray_module.exceptions.RayError as exc:
                    error = f"Ray task failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"
                    for spec in job:
                        yield spec, store.stop(spec.run_id, "failed", error=error)
    finally:
        progress.shutdown()


def _ray_task(job: Job, out_root: str, progress) -> list[Result]:
    torch.set_num_threads(1)  # one CPU per task, as requested from Ray
    return run_job(job, RunStore.at(out_root), ForwardingReporter(progress.put_nowait))
