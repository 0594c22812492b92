"""``ganbench calibrate``: the gate's false-alarm rate and power, measured."""

from __future__ import annotations

from pathlib import Path

import click

from ganbench.cli import cli, handle_errors
from ganbench.cli.progress import ConsoleProgress


@cli.command()
@click.argument("suite_file", type=click.Path(path_type=Path))
@click.option("--sets", default=10, show_default=True, type=click.IntRange(min=1),
              help="Disjoint seed sets (builds) checked against the baseline's seeds.")
@click.option("--inject", "injections", multiple=True, metavar="'NAME: AXIS=VALUE, ...'",
              help="A regression to inject into every variant, e.g. 'd-harder: d_lr=x10, n_critic=5' "
                   "(xF scales the variant's own d_lr, g_lr, regularizer_weight or n_critic). Repeatable.")
@click.option("--out", default="results", show_default=True, type=click.Path(path_type=Path),
              help="Results root (each scenario is a suite named <suite>-calibrate[-<injection>]).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Train this many jobs at once, in separate processes.")
@click.option("--summary", type=click.Path(path_type=Path), help="Also write the table (Markdown) here.")
@handle_errors
def calibrate(suite_file: Path, sets: int, injections: tuple[str, ...], out: Path, workers: int,
              summary: Path | None) -> None:
    """Measure SUITE_FILE's gate: how many builds that change only the seeds it fails (false alarms, per rule
    and overall), and how many builds with each injected regression it fails (detection).

    The suite's own seeds are the baseline; every further seed set is one build, checked with the suite's
    check: rules against that baseline, as `ganbench check --baseline` would.
    """
    from ganbench.calibrate import calibrate as run_calibration
    from ganbench.calibrate import parse_injection, table
    from ganbench.store import atomic_write

    parsed = [parse_injection(text) for text in injections]
    calibration = run_calibration(suite_file, sets, parsed, out, workers, ConsoleProgress())
    text = table(calibration)
    click.echo(text)
    if summary:
        atomic_write(summary, text)
