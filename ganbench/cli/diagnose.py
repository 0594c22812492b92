"""``ganbench diagnose``: rerun the detectors over stored metrics, with new thresholds, without training."""

from __future__ import annotations

import json
from pathlib import Path

import click
import yaml

from ganbench.cli import cli, handle_errors
from ganbench.errors import GanbenchError


@cli.command()
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--set", "settings", multiple=True, metavar="DETECTOR.PARAM=VALUE",
              help="Override a threshold, e.g. --set mode_collapse.coverage=0.4 (repeatable).")
@click.option("--write", is_flag=True, help="Replace each run's events.jsonl with the new events.")
@handle_errors
def diagnose(results_dir: Path, settings: tuple[str, ...], write: bool) -> None:
    """Run the detectors over RESULTS_DIR's stored metrics and print the events, one JSON object a line."""
    from ganbench.diagnostics import run_detectors
    from ganbench.results import load_results
    from ganbench.results.store import RunStore
    from ganbench.spec.suite import parse_detectors

    overrides: dict[str, dict[str, float]] = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        detector, dot, param = key.partition(".")
        if not sep or not dot:
            raise GanbenchError(f"--set {setting!r}: expected DETECTOR.PARAM=VALUE")
        overrides.setdefault(detector, {})[param] = yaml.safe_load(value)
    overrides = parse_detectors(overrides)
    results = load_results(results_dir)
    store = RunStore.at(results_dir)
    for run_id, metrics in results.metrics.groupby("run_id", sort=True):
        events = run_detectors(metrics[["step", "name", "value"]], overrides)
        for event in events:
            click.echo(json.dumps({"run_id": run_id, **event.to_json()}, sort_keys=True))
        if write:
            store.write_events(run_id, events)
