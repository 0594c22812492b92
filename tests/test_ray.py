"""The ray executor on a real Ray cluster started here: a head node with no CPUs and two worker nodes (Ray's own
helper for a multi-node cluster on one machine), so every task trains on a worker node. Tasks are never told the
driver's results path: they train in a scratch directory, a resumed run's directory travels to them by value, and
the driver writes what they hand back."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from ganbench.execution.jobs import ProgressReporter
from ganbench.execution.runner import run_suite
from ganbench.spec.suite import parse_suite
from tests.conftest import TINY_TRAIN, StopAt, tiny_suite

ray = pytest.importorskip("ray")  # in the test extra: installed wherever the tests run


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    for _ in range(2):
        nodes.add_node(num_cpus=1)
    nodes.wait_for_nodes()
    ray.init(address=nodes.address, log_to_driver=False, configure_logging=False)
    yield nodes
    ray.shutdown()
    nodes.shutdown()


class Steps(ProgressReporter):
    """Every step each run reported, as it arrived at the driver."""

    def __init__(self) -> None:
        self.seen: dict[str, list[int]] = {}

    def step(self, spec, step, steps):
        self.seen.setdefault(spec.run_id, []).append(step)


def _same_bytes(a, b) -> None:
    assert [r["id"] for r in a.runs] == [r["id"] for r in b.runs]
    for x in a.runs:
        assert (a.root / "runs" / x["id"] / "metrics.csv").read_bytes() == (
            b.root / "runs" / x["id"] / "metrics.csv").read_bytes(), x["id"]


@pytest.mark.parametrize("ensemble", [False, True])
def test_tasks_on_worker_nodes_give_the_sequential_bytes_and_report_their_steps(cluster, tmp_path, ensemble):
    suite = parse_suite(tiny_suite(variants=["nonsaturating", "hinge"], seeds=2,
                                   train={**TINY_TRAIN, "ensemble": ensemble}))
    seq = run_suite(suite, out=tmp_path / "seq")
    steps = Steps()
    par = run_suite(suite, out=tmp_path / "ray", executor="ray", reporter=steps)
    assert [r["status"] for r in par.runs] == ["completed"] * 4
    _same_bytes(seq, par)
    assert {r["id"] for r in par.runs} == set(steps.seen) and all(s[-1] == 40 for s in steps.seen.values())
    assert not list((tmp_path / "ray" / "tiny" / "runs").glob(".*"))  # no half-swapped directory left behind
    manifest = json.loads((par.root / "manifest.json").read_text())
    assert manifest["state"] == "finished"


def test_a_resumed_run_travels_to_the_task_that_finishes_it(cluster, tmp_path):
    suite = parse_suite(tiny_suite(train={**TINY_TRAIN, "steps": 60}))
    whole = run_suite(suite, out=tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):
        run_suite(suite, out=tmp_path / "cut", reporter=StopAt(30))  # a checkpoint at step 20, on this disk
    steps = Steps()
    resumed = run_suite(suite, out=tmp_path / "cut", executor="ray", reporter=steps)
    (seen,) = steps.seen.values()
    assert min(seen) > 20  # the task started from the checkpoint it was sent, not from step 0
    status = json.loads((resumed.root / "runs" / resumed.runs[0]["id"] / "status.json").read_text())
    assert status["status"] == "completed" and status["resumed_from"] == 20
    _same_bytes(whole, resumed)


def _task_pids() -> list[int]:
    """Ray names a worker process after the task it runs."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(b"ray::_ray_task"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


class _KillTheWorker(Steps):
    """SIGKILL the worker process training the run at the first step it reports: a node losing its worker."""

    def __init__(self) -> None:
        super().__init__()
        self.killed: list[int] = []
        self.niceness: set[int] = set()

    def step(self, spec, step, steps):
        super().step(spec, step, steps)
        if step < steps and not self.killed:
            self.killed = _task_pids()
            self.niceness = {os.getpriority(os.PRIO_PROCESS, pid) for pid in self.killed}
            for pid in self.killed:
                os.kill(pid, signal.SIGKILL)


def test_a_task_whose_worker_is_killed_is_retried_and_nothing_is_lost(cluster, tmp_path):
    suite = parse_suite(tiny_suite(train={**TINY_TRAIN, "steps": 3000, "eval_every": 1000, "checkpoint_every": 1000}))
    seq = run_suite(suite, out=tmp_path / "seq")
    killer = _KillTheWorker()
    par = run_suite(suite, out=tmp_path / "ray", executor="ray", reporter=killer)
    assert killer.killed, "no task process was found to kill"
    assert killer.niceness == {0}  # not Ray's default 15: a training task is the work, not a background chore
    (seen,) = killer.seen.values()
    assert seen[-1] == 3000 and len(set(seen)) < len(seen)  # a step reported twice: the task ran again
    assert [r["status"] for r in par.runs] == ["completed"]
    _same_bytes(seq, par)


def test_a_local_ray_started_for_a_run_trains_at_the_usual_priority_in_the_workers_it_started_with():
    """The cluster fixture stands for one found running, whose tasks ask for niceness 0 in a runtime environment;
    a local Ray started by ganbench is configured so instead, and its tasks take the workers it started with."""
    import subprocess
    import sys

    code = """
import os, ray
from ganbench.execution import executors
executors.start_local_ray(1)
print(ray.get(ray.remote(lambda: os.nice(0)).remote()))
print(ray.get_runtime_context().get_node_id() in executors._started)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "True"]
