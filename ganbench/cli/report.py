"""``ganbench report``."""

from __future__ import annotations

from pathlib import Path

import click

from ganbench.cli import cli, handle_errors


@cli.command()
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--baseline", type=click.Path(path_type=Path), help="Another results directory to compare against.")
@click.option("--out", type=click.Path(path_type=Path), help="Where to write (default RESULTS_DIR/report).")
@handle_errors
def report(results_dir: Path, baseline: Path | None, out: Path | None) -> None:
    """Write RESULTS_DIR's comparison report: report/index.html (self-contained) and report/report.md."""
    from ganbench.report.render import write_report

    out = write_report(results_dir, out, baseline)
    click.echo(f"report written to {out / 'index.html'} and {out / 'report.md'}")
