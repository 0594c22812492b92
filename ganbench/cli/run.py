"""``ganbench run``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ganbench.cli import EXIT_FAILED, cli, handle_errors, invoked_as
from ganbench.cli.progress import console_progress


@cli.command()
@click.argument("suite_file", type=click.Path(path_type=Path))
@click.option("--out", default="results", show_default=True, type=click.Path(path_type=Path),
              help="Results root; runs go to OUT/<suite name>/.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Train this many runs (or seed ensembles) at once, in separate processes.")
@click.option("--executor", default=None, metavar="NAME",
              help="Where runs train: a registered executor (`ganbench list executors`); default sequential, or "
                   "processes when --workers > 1.")
@click.option("--address", default=None, help="Ray cluster address for --executor ray (default: a local Ray).")
@click.option("--gpus-per-task", default=1.0, show_default=True, type=click.FloatRange(min=0.0, max=1.0, min_open=True),
              help="With --executor ray, the share of a GPU each CUDA job asks for (0.25: four small jobs per GPU).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default=None,
              help="Override the suite's device (cuda:N goes in the suite file).")
@click.option("--fresh", is_flag=True, help="Discard finished runs and train everything again.")
@handle_errors
def run(suite_file: Path, out: Path, workers: int, executor: str | None, address: str | None, gpus_per_task: float,
        device: str | None, fresh: bool) -> None:
    """Train every variant x dataset x seed of SUITE_FILE; finished runs are skipped.

    Exit code 0 when every run completed or diverged, 1 when a run failed, 2 for bad input.
    """
    from ganbench.spec.suite import load_suite

    suite = load_suite(suite_file)  # a malformed suite is reported before the training stack is imported
    from ganbench.execution.runner import run_suite

    with console_progress() as reporter:
        result = run_suite(suite, out=out, device=device, fresh=fresh, workers=workers, executor=executor,
                           address=address, reporter=reporter, gpus_per_task=gpus_per_task)
    counts: dict[str, int] = {}
    for entry in result.runs:
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    click.echo(f"results in {result.root}: {summary}")
    for line in _unsettled(result.root):
        click.echo(line)
    command = invoked_as()
    click.echo(f"next: {command} report {result.root}    (the comparison page)\n"
               f"      {command} check {result.root}     (the CI gate's verdicts)")
    if result.failed:
        sys.exit(EXIT_FAILED)


def _unsettled(root: Path) -> list[str]:
    """One line per seed that collapsed or did not converge, with the first event it raised: what a user should
    look at before reading any table."""
    from ganbench.evidence.states import (
        COLLAPSED,
        NOT_CONVERGED,
        QUALITY_FLOOR,
        collapse_kinds,
        not_learned,
        run_states,
    )
    from ganbench.results import load_results

    results = load_results(root)
    unlearned = not_learned(results)
    states = run_states(results, unlearned)
    # each run's event kinds at their first step, onset order, the kinds that make a run collapsed first
    events = results.events.sort_values("step").drop_duplicates(["run_id", "kind"])
    events = events.assign(defines=~events.kind.isin(collapse_kinds())).sort_values(["defines", "step"], kind="stable")
    kinds = {run_id: [f"{e.kind} from step {e.step}" for e in frame.itertuples()]
             for run_id, frame in events.groupby("run_id")}
    lines, learned = [], {}
    for run in results.runs.sort_values(["variant", "dataset", "seed"]).itertuples():
        state = states.get(run.run_id)
        key = (run.variant, run.dataset)
        learned[key] = learned.get(key, False) or run.run_id not in unlearned
        if state in (COLLAPSED, NOT_CONVERGED):
            why = "; ".join(kinds.get(run.run_id, [])) or f"never {QUALITY_FLOOR:.0%} of its samples on a mode"
            also = ", not converged" if state == COLLAPSED and run.run_id in unlearned else ""
            lines.append(f"  {state}{also}: {run.variant} on {run.dataset}, seed {run.seed} ({why})")
    stuck = [f"{variant} on {dataset}" for (variant, dataset), ok in learned.items() if not ok]
    if stuck:  # a recipe that learned in no seed says more about its settings than about GANs
        lines.append(f"  no seed of {', '.join(stuck)} converged: give it more train.steps, or tune its learning "
                     "rates with an equal-budget sweep (docs/sweeps.md)")
    return lines
