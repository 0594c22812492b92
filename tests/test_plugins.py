"""A third-party plugin package, installed through the public entry point: its collector's metric and its
detector's event reach the report and the gate exactly as built-in ones do."""

from __future__ import annotations

import pytest

from ganbench.results import load_results
from tests.conftest import install_plugin, tiny_suite

PLUGIN = '''
from dataclasses import dataclass
from typing import ClassVar

from ganbench.diagnostics import DETECTORS, Event
from ganbench.meta import EventKind, MetricInfo
from ganbench.metrics import COLLECTORS, Collector


@COLLECTORS.register("sample_spread")
class SampleSpread(Collector):
    metrics = (MetricInfo("spread", "mean per-coordinate std of the samples", higher_is_better=True,
                          evaluation=True),)

    def evaluate(self, ctx):
        return {"spread": float(ctx.fake.std(dim=0).mean())}


@DETECTORS.register("narrow")
@dataclass(frozen=True)
class Narrow:
    """Samples narrower than ``below`` at an evaluation."""

    events: ClassVar = (EventKind("too_narrow", "the samples' spread fell below a floor"),)
    below: float = 1e9

    def detect(self, stream):
        spread = stream.get("spread")
        low = spread[spread < self.below] if spread is not None else []
        return [Event("too_narrow", int(low.index[0]), {"spread": float(low.iloc[0])})] if len(low) else []
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """``gbplugin`` on the path with a dist-info whose entry points name the module and a class (a class is
    imported, never instantiated)."""
    from ganbench.diagnostics import DETECTORS
    from ganbench.metrics import COLLECTORS

    install_plugin(tmp_path / "site", monkeypatch, "gbplugin", PLUGIN,
                   {"all": "gbplugin", "collector": "gbplugin:SampleSpread"}, [COLLECTORS, DETECTORS])


def test_a_plugin_metric_and_event_reach_report_and_gate(plugin, tmp_path, write_suite, invoke):
    doc = tiny_suite(collectors=["losses", "d_outputs", "grad_norms", "fid", "mode_coverage", "sample_spread"],
                     check={"fail_on": ["too_narrow"], "thresholds": {"spread": {"min": 1e9}}}, seeds=5)
    result = invoke("check", write_suite(doc), "--out", tmp_path / "out")
    assert result.exit_code == 1, result.output
    assert "FAIL  nonsaturating on ring  events:too_narrow: too_narrow in 5 of 5 seeds" in result.output
    assert "FAIL  nonsaturating on ring  threshold:spread: 5 of 5 seeds outside min 1e+09" in result.output

    results = load_results(tmp_path / "out" / "tiny")
    assert results.metric_info()["spread"].higher_is_better is True
    report = invoke("report", tmp_path / "out" / "tiny")
    assert report.exit_code == 0, report.output
    text = (tmp_path / "out" / "tiny" / "report" / "report.md").read_text()
    assert "spread: mean per-coordinate std of the samples (higher is better)" in text
    assert "| too_narrow |" in text  # a column of the event-rate table


def test_rules_name_only_metrics_with_a_direction(plugin, write_suite, invoke, tmp_path):
    doc = tiny_suite(check={"thresholds": {"loss_d": {"max": 1.0}}})
    result = invoke("run", write_suite(doc), "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "unknown metric 'loss_d'" in result.output and "spread" in result.output
