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
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line (for scripts) instead of a table.")
@handle_errors
def diagnose(results_dir: Path, settings: tuple[str, ...], write: bool, as_json: bool) -> None:
    """Run the detectors over RESULTS_DIR's stored metrics and print the events: a line per event, grouped by
    run, with its onset step and evidence (--json: one JSON object a line)."""
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
    found = 0
    for run_id, metrics in results.metrics.groupby("run_id", sort=True):
        events = run_detectors(metrics[["step", "name", "value"]], overrides)
        found += len(events)
        for event in events:
            if as_json:
                click.echo(json.dumps({"run_id": run_id, **event.to_json()}, sort_keys=True))
            else:
                shown = ", ".join(f"{k}={v}" for k, v in (event.evidence or {}).items() if k != "window")
                click.echo(f"{run_id}  {event.kind} from step {event.step}" + (f"  ({shown})" if shown else ""))
        if write:
            store.write_events(run_id, events)
    if not as_json:
        click.echo(f"{found} event(s) in {results.runs.run_id.nunique()} run(s)"
                   + ("; events.jsonl rewritten" if write else " (--write to store them)"))
