"""``ganbench calibrate``: the gate's false-alarm rate and power, measured -- on a suite, or on your own loop."""

from __future__ import annotations

from pathlib import Path

import click

from ganbench.cli import cli, handle_errors
from ganbench.cli.progress import console_progress
from ganbench.errors import GanbenchError


@cli.command()
@click.argument("suite_file", type=click.Path(path_type=Path), required=False)
@click.option("--loop", metavar="FILE.py:FUNCTION",
              help="Calibrate your own training loop instead of a suite: a function train(seed=, out=, suite=, "
                   "**knobs) that tracks itself with ganbench.track(out, suite=suite, seed=seed, ...).")
@click.option("--set", "settings", multiple=True, metavar="KNOB=VALUE",
              help="With --loop: a keyword argument every run gets, e.g. --set data=ring (repeatable).")
@click.option("--seeds", default=4, show_default=True, type=click.IntRange(min=1),
              help="With --loop: seeds per set (a suite's set is its own seeds).")
@click.option("--sets", default=10, show_default=True, type=click.IntRange(min=1),
              help="Disjoint seed sets (builds) checked against the baseline's seeds.")
@click.option("--inject", "injections", multiple=True, metavar="'NAME: AXIS=VALUE, ...'",
              help="A regression to inject into every variant, e.g. 'd-harder: d_lr=x10, n_critic=5' "
                   "(xF scales the variant's own d_lr, g_lr, regularizer_weight or n_critic; with --loop, any "
                   "keyword of the loop's function, from its default). Repeatable.")
@click.option("--out", default="results", show_default=True, type=click.Path(path_type=Path),
              help="Results root (each scenario is a suite named <suite>-calibrate[-<injection>]).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Train this many jobs at once, in separate processes.")
@click.option("--summary", type=click.Path(path_type=Path), help="Also write the table (Markdown) here.")
@handle_errors
def calibrate(suite_file: Path | None, loop: str | None, settings: tuple[str, ...], seeds: int, sets: int,
              injections: tuple[str, ...], out: Path, workers: int, summary: Path | None) -> None:
    """Measure a gate: how many builds that change only the seeds it fails (false alarms, per rule and
    overall), and how many builds with each injected regression it fails (detection).

    The first seed set is the baseline; every further seed set is one build, checked with the check: rules
    (a suite's, or those your loop's tracker stored) against that baseline, as `ganbench check --baseline`
    would. Then the same runs as builds of 1, 2, 4 and 8 seeds checked without a baseline, as a CI job checks
    its own seeds: false alarms and detection per size, and the fewest seeds that keep false alarms <= 5 %
    with every injection caught in >= 90 %. Last, the null rates of the seed-only runs, to paste into the
    suite's check: section.

    Graded injections -- one axis scaled by several factors (--inject 'd-x2: d_lr=x2' --inject 'd-x5:
    d_lr=x5') -- make a power ladder: the detection rate per strength, and the smallest strength caught in
    at least 80 % of the builds. With --loop, give the loop instead of SUITE_FILE:

    \b
        ganbench calibrate --loop train.py:train --set data=ring --seeds 4 --sets 3 --inject 'slow-g: g_lr=x0.01'
    """
    import yaml

    from ganbench.execution.calibrate import Loop, calibrate_loop, parse_injection, table
    from ganbench.execution.calibrate import calibrate as run_calibration
    from ganbench.results.store import atomic_write

    if (suite_file is None) == (loop is None):
        raise GanbenchError("give a SUITE_FILE or --loop FILE.py:FUNCTION (one of them)")
    if loop is None:
        if settings:
            raise GanbenchError("--set goes with --loop (a suite sets its own values)")
        with console_progress() as reporter:
            calibration = run_calibration(suite_file, sets, [parse_injection(text) for text in injections], out,
                                          workers, reporter)
    else:
        params = {}
        for setting in settings:
            key, sep, value = setting.partition("=")
            if not sep or not key.strip():
                raise GanbenchError(f"--set {setting!r}: expected KNOB=VALUE")
            params[key.strip()] = yaml.safe_load(value)
        name = Path(loop.rpartition(":")[0]).stem
        calibration = calibrate_loop(Loop(loop, params), seeds, sets,
                                     [parse_injection(text, scalable=None) for text in injections], out, workers,
                                     name, echo=click.echo)
    text = table(calibration)
    click.echo(text)
    if summary:
        atomic_write(summary, text)
