"""Same suite, same seed, same bytes: whichever executor trains it and however many threads the process started
with. Each run trains with its suite's ``train.threads`` (set by every executor the same way), under the CPU
arithmetic ganbench pins at import (ganbench.arithmetic)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from tests.conftest import TINY_TRAIN, tiny_suite

SUITE = tiny_suite(name="bytes", datasets=["ring", {"name": "digits", "size": 16}], architecture=None,
                   variants=["nonsaturating"], seeds=2,
                   train={"steps": 30, "batch_size": 32, "eval_every": 15, "log_every": 5, "checkpoint_every": 15,
                          "z_dim": 16, "eval_samples": 300})
del SUITE["architecture"]  # each dataset's own networks: an MLP on the ring, the DCGAN on the digits

WAYS = {  # name: (command-line options, OMP_NUM_THREADS at process start; None = unset)
    "sequential": ([], None),
    "sequential, OMP_NUM_THREADS=1": ([], "1"),
    "sequential, OMP_NUM_THREADS=2": ([], "2"),
    "--workers 2": (["--workers", "2"], None),
    "--executor ray": (["--executor", "ray", "--workers", "2"], None),
}


@pytest.mark.slow
def test_every_executor_and_thread_count_gives_the_same_metrics_bytes(tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump(SUITE))
    files = {}
    for name, (options, omp) in WAYS.items():
        env = {k: x for k, x in os.environ.items() if k != "OMP_NUM_THREADS"}
        if omp is not None:
            env["OMP_NUM_THREADS"] = omp
        out = tmp_path / name.replace(" ", "_").replace(",", "")
        done = subprocess.run([sys.executable, "-m", "ganbench", "run", str(suite), "--out", str(out), *options],
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        runs = sorted((out / "bytes" / "runs").iterdir())
        assert len(runs) == 4  # ring and digits, two seeds
        files[name] = {r.name: (r / "metrics.csv").read_bytes() for r in runs}
    first = files["sequential"]
    for name, found in files.items():
        assert found == first, f"{name} differs from sequential"


def test_runs_whose_arithmetic_cannot_match_never_share_an_id(monkeypatch):
    from ganbench import arithmetic
    from ganbench.spec.suite import parse_suite

    assert arithmetic.label() == arithmetic.PORTABLE  # the tests run pinned (conftest imports ganbench first)
    pinned = parse_suite(tiny_suite()).expand()[0].run_id
    monkeypatch.delenv("MKL_CBWR")  # as in a process that imported torch before ganbench
    assert arithmetic.label().startswith("native-")
    assert parse_suite(tiny_suite()).expand()[0].run_id != pinned
    threads = parse_suite(tiny_suite(train={**TINY_TRAIN, "threads": 2})).expand()[0].run_id
    monkeypatch.setenv("MKL_CBWR", arithmetic.PINS["MKL_CBWR"])
    assert parse_suite(tiny_suite(train={**TINY_TRAIN, "threads": 1})).expand()[0].run_id == pinned != threads


def test_a_run_names_the_cpu_model_it_trained_on(monkeypatch, tmp_path):
    """The same pins gave other bytes on an Intel Xeon than on an AMD EPYC (docs/scaling.md): a run records its
    CPU model, not just the architecture."""
    from ganbench import versions as versions_module

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9R14 96-Core Processor\n")
    monkeypatch.setattr(versions_module, "CPUINFO", str(cpuinfo))
    versions_module.cpu_model.cache_clear()
    try:
        assert versions_module.versions()["cpu"] == "AMD EPYC 9R14 96-Core Processor"
    finally:
        monkeypatch.undo()
        versions_module.cpu_model.cache_clear()
