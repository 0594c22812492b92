"""``ganbench check``: the CI gate."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from ganbench.cli import EXIT_FAILED, cli, handle_errors
from ganbench.cli.progress import console_progress


@cli.command()
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--baseline", type=click.Path(path_type=Path),
              help="A baseline JSON (from --write-baseline) or a results directory to check regressions against.")
@click.option("--junit", type=click.Path(path_type=Path), help="Write JUnit XML here (a testcase per variant x rule).")
@click.option("--summary", type=click.Path(path_type=Path), help="Write a Markdown summary here.")
@click.option("--write-baseline", type=click.Path(path_type=Path),
              help="Save these results' per-seed final metrics as a small baseline JSON.")
@click.option("--out", default="results", show_default=True, type=click.Path(path_type=Path),
              help="Results root when TARGET is a suite file.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Parallel runs when TARGET is a suite file.")
@handle_errors
def check(target: Path, baseline: Path | None, junit: Path | None, summary: Path | None,
          write_baseline: Path | None, out: Path, workers: int) -> None:
    """Check TARGET (a results directory, or a suite file or shipped suite name to run first) against its
    suite's check: rules.

    Every rule over seeds is an exact test (see docs/gate.md). Without a baseline, events and seeds that did
    not learn are tested against the rates measured on runs that changed nothing (the suite's null_rates from
    `ganbench calibrate`, else the shipped calibration). The output opens with what each rule can decide at
    these seeds. A verdict is pass, fail, seen-not-significant, inconclusive (saw nothing, could not have
    failed) or not comparable (a baseline measured differently). The suite's `inconclusive: pass | warn | fail`
    says what the undecided ones do (default warn). Exit code 0 when nothing fails, 1 when a check fails, 2
    for bad input. With $GITHUB_STEP_SUMMARY set, the Markdown summary is appended there; with
    $GITHUB_ACTIONS, failures and warnings are printed as annotations.
    """
    from ganbench.cli.gate_output import annotations, counts, junit_xml, line, markdown, policy
    from ganbench.evidence.baseline import from_results, load_baseline, other_cpus
    from ganbench.evidence.gate import build_reach, evaluate, rules_of
    from ganbench.results import load_results
    from ganbench.results.store import atomic_write
    from ganbench.spec.suite import shipped_suites

    base = load_baseline(baseline) if baseline is not None else None  # a bad baseline fails before any training
    # a suite file, or a shipped suite's name (`ci`, as `ganbench run ci`): run it first (load_suite reports a
    # missing file)
    if target.is_file() or target.suffix in (".yaml", ".yml") or (
            not target.exists() and target.as_posix() in shipped_suites()):
        from ganbench.execution.runner import run_suite
        from ganbench.spec.suite import load_suite

        suite = load_suite(target)
        with console_progress() as reporter:
            trained = run_suite(suite, out=out, workers=workers, reporter=reporter)
        results = load_results(trained.root)
        rules = suite.check
    else:
        results = load_results(target)
        rules = rules_of(results)
    reach = build_reach(results, rules, base)
    click.echo(f"What this build can decide (alpha {rules.alpha}):")
    for text in reach:
        click.echo(f"  {text}")
    verdicts = evaluate(results, rules, base)
    for v in verdicts:
        click.echo(line(v))
    click.echo(f"{counts(verdicts)} ({policy(rules)})")
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for text in annotations(verdicts, rules):
            click.echo(text)
    if base is None and rules.regression:
        click.echo("note: regression rules need --baseline; they were not checked")
    if base is not None and (note := other_cpus(base, results)):
        click.echo(note)
    if junit:
        atomic_write(junit, junit_xml(verdicts, results.suite, rules))
    text = markdown(verdicts, results.suite, rules, reach)
    if summary:
        atomic_write(summary, text)
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as f:
            f.write(text)
    if write_baseline:
        doc = from_results(results).to_json(results.suite)
        atomic_write(write_baseline, json.dumps(doc, indent=1, sort_keys=True) + "\n")
        click.echo(f"baseline written to {write_baseline}")
    if any(rules.fails(v) for v in verdicts):
        sys.exit(EXIT_FAILED)

