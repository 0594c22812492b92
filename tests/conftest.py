from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import ganbench  # noqa: F401 - before torch loads: it pins the CPU arithmetic (ganbench.arithmetic)
from ganbench.cli import cli
from ganbench.execution.jobs import ProgressReporter

# A suite small enough to train in a second or two per run on a CPU.
TINY_TRAIN = {"steps": 40, "batch_size": 32, "eval_every": 20, "log_every": 5, "checkpoint_every": 20,
              "z_dim": 4, "eval_samples": 200}
TINY_ARCH = {"name": "mlp", "width": 16, "depth": 2}


class StopAt(ProgressReporter):
    """Ctrl-C, as a test can press it: interrupts training when a run reports step ``step``."""

    def __init__(self, step: int) -> None:
        self.at = step

    def step(self, spec, step, steps):
        if step == self.at:
            raise KeyboardInterrupt


def resumed_identically(suite, tmp_path, at: int = 20):
    """Train ``suite`` whole, and again interrupted at step ``at`` then resumed; assert every run completed and
    its metrics.csv is byte-identical between the two, and return the whole suite's result."""
    from ganbench.execution.runner import run_suite

    whole = run_suite(suite, out=tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):
        run_suite(suite, out=tmp_path / "cut", reporter=StopAt(at))
    resumed = run_suite(suite, out=tmp_path / "cut")
    for a, b in zip(whole.runs, resumed.runs):
        assert a["status"] == "completed"
        assert (resumed.root / "runs" / b["id"] / "metrics.csv").read_bytes() == (
            whole.root / "runs" / a["id"] / "metrics.csv").read_bytes()
    return whole


def tiny_suite(**overrides) -> dict:
    doc = {"name": "tiny", "datasets": ["ring"], "architecture": dict(TINY_ARCH), "variants": ["nonsaturating"],
           "seeds": 1, "train": dict(TINY_TRAIN), "device": "cpu"}
    doc.update(overrides)
    return doc


@pytest.fixture(autouse=True, scope="session")
def classifier_cache(tmp_path_factory):
    """Evaluation classifiers are trained into a per-session cache, never into the user's ~/.cache."""
    import os

    path = tmp_path_factory.mktemp("cache")
    old = os.environ.get("GANBENCH_CACHE")
    os.environ["GANBENCH_CACHE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("GANBENCH_CACHE", None)
    else:
        os.environ["GANBENCH_CACHE"] = old


@pytest.fixture
def write_suite(tmp_path: Path):
    def write(doc: dict | str, name: str = "suite.yaml") -> Path:
        path = tmp_path / name
        path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc))
        return path

    return write


@pytest.fixture
def invoke():
    def run(*args: str):
        return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)

    return run


def install_plugin(site: Path, monkeypatch, name: str, source: str, entry_points: dict[str, str],
                   registries=()) -> None:
    """An installed plugin package as Python finds one: ``name``.py under ``site`` with a dist-info whose
    ``ganbench.plugins`` entry points are ``entry_points`` (entry -> object reference). Plugins are loaded
    afresh, and what they register in ``registries`` stays local to the test."""
    import sys

    import ganbench.registry

    info = site / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (site / f"{name}.py").write_text(source)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[ganbench.plugins]\n" + "".join(f"{entry} = {ref}\n" for entry, ref in entry_points.items()))
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, name, raising=False)  # imported afresh: its decorators register again
    monkeypatch.setattr(ganbench.registry, "_plugins_loaded", False)
    for registry in registries:
        registry.load_builtins()  # registered into the real dict, not the test's copy
        monkeypatch.setattr(registry, "_items", dict(registry._items))
