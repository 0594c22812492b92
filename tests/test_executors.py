import json

from ganbench.execution.jobs import ProgressReporter
from ganbench.execution.runner import run_suite
from ganbench.spec.suite import parse_suite
from tests.conftest import TINY_TRAIN, install_plugin, tiny_suite


def test_processes_give_metrics_identical_to_sequential(tmp_path):
    suite = parse_suite(tiny_suite(variants=["nonsaturating", "lsgan"], seeds=2))
    seq = run_suite(suite, out=tmp_path / "seq")
    par = run_suite(suite, out=tmp_path / "par", workers=2)
    assert [r["status"] for r in par.runs] == ["completed"] * 4
    for a, b in zip(seq.runs, par.runs):
        assert a["id"] == b["id"]
        for name in ("metrics.csv", "metrics.arrow"):  # the columnar summary too: stamped by content, not time
            ours, theirs = seq.root / "runs" / a["id"] / name, par.root / "runs" / b["id"] / name
            assert ours.read_bytes() == theirs.read_bytes()
    manifest = json.loads((par.root / "manifest.json").read_text())
    assert {r["status"] for r in manifest["runs"]} == {"completed"}


PLUGIN = '''
import os
import signal

from ganbench.data import DATASETS
from ganbench.data.toy import Ring


def register():
    @DATASETS.register("crash_on_sample")
    class CrashOnSample(Ring):
        """A ring whose sampling kills the process: what a segfault in native code looks like."""

        def sample(self, n, generator):
            os.kill(os.getpid(), signal.SIGKILL)
'''


def test_a_worker_that_dies_fails_its_run_and_the_suite_goes_on(tmp_path, monkeypatch):
    """The crashing dataset comes in through the public plugin entry point, so spawned workers load it too."""
    from ganbench.data import DATASETS

    install_plugin(tmp_path / "site", monkeypatch, "crashplugin", PLUGIN, {"crash": "crashplugin:register"},
                   [DATASETS])
    suite = parse_suite(tiny_suite(datasets=["ring", "crash_on_sample"], variants=["lsgan"]))
    result = run_suite(suite, out=tmp_path / "out", workers=2)
    statuses = {r["dataset"]: r["status"] for r in result.runs}
    assert statuses == {"ring": "completed", "crash_on_sample": "failed"}
    crashed = next(r for r in result.runs if r["dataset"] == "crash_on_sample")
    status = json.loads((result.root / "runs" / crashed["id"] / "status.json").read_text())
    assert "worker process" in status["error"]


def test_jobs_asking_for_cuda_go_round_robin_over_gpus(monkeypatch):
    import dataclasses

    import torch

    from ganbench.execution.executors import _gpu_for

    spec = parse_suite(tiny_suite()).expand()[0]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 3)
    on = lambda device, i: _gpu_for((dataclasses.replace(spec, device=device),), i)  # noqa: E731
    assert [on("cuda", i) for i in range(4)] == ["cuda:0", "cuda:1", "cuda:2", "cuda:0"]
    assert on("auto", 4) == "cuda:1"
    assert on("cuda:2", 0) is None and on("cpu", 0) is None  # an explicit device is kept
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert on("cuda", 1) is None  # one GPU: nothing to spread


class Recorder(ProgressReporter):
    def __init__(self) -> None:
        self.started, self.steps = [], {}

    def run_started(self, spec) -> None:
        self.started.append(spec.run_id)

    def step(self, spec, step: int, steps: int) -> None:
        self.steps.setdefault(spec.run_id, []).append((step, steps))


def test_step_progress_arrives_from_worker_processes(tmp_path):
    suite = parse_suite(tiny_suite(seeds=2))
    recorder = Recorder()
    result = run_suite(suite, out=tmp_path / "out", workers=2, reporter=recorder)
    ids = {r["id"] for r in result.runs}
    assert set(recorder.started) == ids
    assert set(recorder.steps) == ids
    for steps in recorder.steps.values():  # throttled, but the last step always arrives, in order
        assert steps[-1] == (TINY_TRAIN["steps"], TINY_TRAIN["steps"])
        assert [s for s, _ in steps] == sorted(s for s, _ in steps)
