"""Executors: the same jobs in, the same store out, registered by name. ``sequential`` trains in this process;
``processes`` trains on N local worker processes (spawned, CUDA devices round-robin); ``ray`` hands each job to
a Ray cluster (an existing one at ``address``, or a local one), whose tasks hand their run directories back to
this process, the only writer of the results. Each yields (spec, final status) per run as jobs finish, and
forwards the jobs' step progress to the reporter while they train. Every job sets its own intra-op threads
(``train.threads``), so the executor does not change a run's bytes."""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import queue
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import torch

from ganbench.catalog import EXECUTORS
from ganbench.errors import GanbenchError
from ganbench.execution.jobs import ForwardingReporter, Job, ProgressReporter, Result, replay, run_job
from ganbench.results.store import RunStore
from ganbench.training.interrupt import request_stop, stop_requested

POLL_S = 0.25  # how often a waiting executor shows forwarded progress


@dataclass(frozen=True)
class Options:
    workers: int = 1  # parallel jobs
    address: str | None = None  # Ray cluster address (None: a local Ray)
    gpus_per_task: float = 1.0  # Ray: the GPU share a CUDA job asks for (a fraction packs small jobs onto one GPU)


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
STOP_GRACE_S = 5.0  # after Ctrl-C, how long running jobs get to stop at a step boundary before their worker is killed
ORPHAN_POLL_S = 0.5  # how often a worker checks that its parent is alive


def _init_worker(progress) -> None:
    global _progress
    _progress = progress
    # Ctrl-C reaches every process of the terminal's group: a worker only asks its job to stop at the next step
    # (its parent also asks, for a SIGINT sent to the parent alone), and starts no job after that
    signal.signal(signal.SIGINT, lambda signum, frame: request_stop())
    # the parent spawned this worker with SIGINT blocked, so that a Ctrl-C during its start-up (importing torch)
    # raised no KeyboardInterrupt here; from now on the handler takes it -- one that came meanwhile arrives now
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    atexit.register(_exit_without_teardown)
    threading.Thread(target=_stop_when_orphaned, args=(os.getppid(),), daemon=True, name="ganbench-parent").start()


_idle = threading.Event()  # clear while this worker runs a job
_idle.set()


def _stop_when_orphaned(parent: int) -> None:
    """A parent killed outright (SIGKILL, the OOM killer) cannot stop its workers: a worker that sees itself
    orphaned stops its job as Ctrl-C would (its runs marked interrupted, their checkpoints kept), then exits
    instead of training on for nobody or waiting on a queue that no one will write to."""
    while os.getppid() == parent:
        time.sleep(ORPHAN_POLL_S)
    request_stop()
    _idle.wait(STOP_GRACE_S)
    os._exit(1)


def _exit_without_teardown() -> None:
    """A worker's last act, after multiprocessing has flushed its queues: skip the interpreter's teardown of
    torch and torchmetrics, which took 1.2 s per worker (pool shutdown waits for it). Every result file was
    closed when its job returned."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _train_in_worker(job: Job, out_root: str, device: str | None = None) -> list[Result]:
    """A job in a worker; after a stop request, none (its runs stay as they were) or what it had reached."""
    if stop_requested():
        return []
    reporter = ForwardingReporter(_progress.put) if _progress is not None else ProgressReporter()
    store = RunStore.at(out_root)
    _idle.clear()
    try:
        return run_job(job, store, reporter, device)
    except KeyboardInterrupt:  # run_job marked its runs interrupted; the parent is stopping
        return [(spec, store.status(spec.run_id)) for spec in job]
    finally:
        _idle.set()


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
    context = multiprocessing.get_context("spawn")
    progress = context.Queue()
    specs = {spec.run_id: spec for job in jobs for spec in job}
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(progress,))
    futures = {}
    try:
        # workers start inside submit: they inherit a blocked SIGINT until their initializer installs its handler
        # (a Ctrl-C while they import torch printed a KeyboardInterrupt traceback per worker, and the broken pool
        # an InvalidStateError); this process takes a Ctrl-C from that window as soon as the mask is restored
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            futures = {pool.submit(_train_in_worker, j, str(store.root), _gpu_for(j, i)): j
                       for i, j in enumerate(jobs)}
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
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
    except (KeyboardInterrupt, GeneratorExit):  # Ctrl-C here, or in the runner reading what this yields
        _stop_pool(pool, futures)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        progress.close()


def _stop_pool(pool: ProcessPoolExecutor, futures) -> None:
    """Ctrl-C: start no queued job, ask every worker's job to stop at its next step, give them STOP_GRACE_S,
    then kill what still runs (its runs keep their last checkpoint; the runner marks them interrupted)."""
    for future in futures:
        future.cancel()
    workers = list((pool._processes or {}).values())  # noqa: SLF001 - the pool exposes no other handle on them
    for process in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGINT)
    wait([f for f in futures if not f.cancelled()], timeout=STOP_GRACE_S)
    for process in workers:
        if process.is_alive():
            process.kill()


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


RAY_RETRIES = 2  # a task whose worker process or node dies is run again, from the run directories it was sent
# Ray starts its worker processes at niceness 15, below its own daemons and the driver: on a busy machine a task's
# worker then imported torch in 58 s instead of 5, and training ran at a fraction of --workers' speed. Training
# tasks are the work, so their workers run at the usual priority. A local Ray this process starts is configured
# so; on any other cluster the tasks ask for it in a runtime environment, as Ray's job supervisor does for its
# driver -- which costs each worker a fresh start, as the workers Ray started with the cluster have another
# environment. Workers stay pooled either way: a task reuses one that already imported torch.
WORKER_NICENESS = {"worker_niceness": 0}
WORKER_ENV = {"env_vars": {"RAY_worker_niceness": "0"}}
_started: set[str] = set()  # the node ids of the local Rays this process started


def start_local_ray(cpus: int) -> None:
    """A new local Ray instance of ``cpus`` CPUs whose workers run at the usual priority (never one found running)."""
    import ray as ray_module

    ray_module.init(address="local", num_cpus=cpus, include_dashboard=False, log_to_driver=False,
                    configure_logging=False, _system_config=WORKER_NICENESS)
    _started.add(ray_module.get_runtime_context().get_node_id())


@EXECUTORS.register("ray")
def ray(jobs: list[Job], store: RunStore, reporter: ProgressReporter, options: Options) -> Iterator[Result]:
    """Ray tasks (``train.threads`` CPUs, and ``gpus_per_task`` of a GPU when the job asks for CUDA) on the cluster
    at ``address``, or a local Ray. A task trains in a scratch directory on whatever node runs it and hands its run
    directories back; this process writes them into the results directory, so no node needs to see it, and a
    resumed run's directory (its checkpoint) travels to the task. A task whose worker or node dies is retried;
    one that fails otherwise fails its runs, and the others go on. Ctrl-C cancels every task."""
    try:
        import ray as ray_module
    except ImportError:
        raise GanbenchError("--executor ray needs Ray: pip install 'ganbench[ray]'") from None
    if not ray_module.is_initialized():
        if options.address:
            ray_module.init(address=options.address, include_dashboard=False, log_to_driver=False,
                            configure_logging=False)
        else:
            start_local_ray(max(options.workers, 1))
    runtime_env = None if ray_module.get_runtime_context().get_node_id() in _started else WORKER_ENV
    progress = ray_module.remote(num_cpus=0)(Inbox).remote()
    specs = {spec.run_id: spec for job in jobs for spec in job}
    task = ray_module.remote(max_retries=RAY_RETRIES)(_ray_task)
    pending, started = {}, set()
    for job in jobs:
        gpus = options.gpus_per_task if job[0].device.startswith("cuda") else 0
        sent = {spec.run_id: store.pack_run(spec.run_id) for spec in job}
        pending[task.options(num_cpus=job[0].train.threads, num_gpus=gpus, runtime_env=runtime_env).remote(
            job, sent, progress)] = job
    try:
        while pending:
            ready, _ = ray_module.wait(list(pending), num_returns=1, timeout=POLL_S)
            messages = ray_module.get(progress.take.remote())
            started.update(run_id for kind, run_id, *_ in messages if kind == "start")
            replay(messages, specs, reporter)
            for ref in ready:
                job = pending.pop(ref)
                try:
                    results, files = ray_module.get(ref)
                except ray_module.exceptions.RayError as exc:
                    error = f"Ray task failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"
                    for spec in job:
                        yield spec, store.stop(spec.run_id, "failed", error=error)
                    continue
                for spec, _ in results:
                    store.unpack_run(spec.run_id, files[spec.run_id])
                yield from results
    except (KeyboardInterrupt, GeneratorExit):
        for ref, job in pending.items():
            ray_module.cancel(ref, force=True)
            for spec in job:  # what a task had written is lost with it; its runs start again on the next run
                if spec.run_id in started:
                    store.set_status(spec.run_id, "interrupted")
        raise
    finally:
        with contextlib.suppress(Exception):  # the inbox's actor goes with the cluster when Ctrl-C ended it
            ray_module.kill(progress)


class Inbox:
    """The driver's inbox for its Ray tasks' progress messages: an actor that keeps what it is sent until taken.
    A task sends without waiting for each answer (Ray's ``Queue.put_nowait`` waits: with it Ray ran at 0.72 of
    --workers 2, without it 0.87; docs/benchmarks.md). A synchronous actor runs one caller's calls in the order
    sent (an async one, as Ray's Queue is, need not), so a task's steps arrive in order, and its last call,
    waited for, comes after all of them."""

    def __init__(self) -> None:
        self.messages: list[tuple] = []

    def put(self, message: tuple) -> None:
        self.messages.append(message)

    def take(self) -> list[tuple]:
        messages, self.messages = self.messages, []
        return messages

    def ready(self) -> None:
        """Nothing: the answer says that every message sent before it is in."""


def _ray_task(job: Job, sent: dict[str, dict[str, bytes]], progress) -> tuple[list[Result], dict]:
    """One job on a Ray worker: its runs' directories as sent, trained in scratch, returned whole; its progress
    sent to the driver's ``Inbox``."""
    import ray as ray_module

    with tempfile.TemporaryDirectory(prefix="ganbench-task-") as scratch:
        store = RunStore(scratch, "task")
        for run_id, files in sent.items():
            if files:
                store.unpack_run(run_id, files)
        results = run_job(job, store, ForwardingReporter(progress.put.remote))
        ray_module.get(progress.ready.remote())
        return results, {spec.run_id: store.pack_run(spec.run_id) for spec in job}
