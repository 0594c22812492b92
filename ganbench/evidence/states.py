"""What became of a run, and of a variant, as one word with its evidence -- computed here from stored results
only, and formatted by the front ends.

A run is
- ``failed`` / ``diverged``: its status says so;
- ``unfinished``: it never ended -- interrupted, still running, or never started (a rerun resumes it);
- ``collapsed``: a collapse event (mode_collapse, d_overpowering, or a plugin kind marked as collapse), whether
  or not it also learned: a G that draws one blurred picture for every latent is collapsed, and not converged too
  (``not_learned`` says so, and the report says both);
- ``not converged``: it did not learn (``not_learned``). On data with known modes its samples never reached them
  -- at no evaluation were at least ``QUALITY_FLOOR`` of them high-quality members of a mode -- so its mode
  coverage measures the budget, not the recipe, and is not ranked as a measured quality. Also a run with an event
  of a kind marked ``nonconvergence``: a stalled G, a pinned D, samples that ended far from the data, or
  parameters that orbit the equilibrium instead of settling;
- ``healthy``: none of these.
A variant takes the state most of its runs are in (ties go to the worse state).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

HEALTHY, COLLAPSED, NOT_CONVERGED, DIVERGED, FAILED = "healthy", "collapsed", "not converged", "diverged", "failed"
UNFINISHED = "unfinished"
ORDER = (HEALTHY, COLLAPSED, NOT_CONVERGED, DIVERGED, FAILED, UNFINISHED)  # best first: how a ranking groups them
FINISHED = ("completed", "diverged")  # run statuses whose metrics and events cover the whole run
MEASURED = (HEALTHY, COLLAPSED)  # states whose final metrics are measurements of the recipe
QUALITY_FLOOR = 0.2  # the mode_collapse detector's floor: a fifth of the samples on modes


def collapse_kinds() -> tuple[str, ...]:
    """The event kinds that make a run collapsed (declared ``collapse`` by their detectors)."""
    from ganbench.diagnostics import event_kinds

    return tuple(k for k, kind in event_kinds().items() if kind.collapse)


def nonconvergence_kinds() -> tuple[str, ...]:
    """The event kinds that say a run did not learn (declared ``nonconvergence``)."""
    from ganbench.diagnostics import event_kinds

    return tuple(k for k, kind in event_kinds().items() if kind.nonconvergence)


def not_learned(results) -> set[str]:
    """The finished runs that did not learn: samples that never reached the modes, or a nonconvergence event."""
    events = results.events
    unsettled = set(events[events.kind.isin(nonconvergence_kinds())].run_id)
    hq = results.metrics[results.metrics.name == "high_quality"].groupby("run_id").value.max()
    done = results.runs[results.runs.status == "completed"].run_id
    never = set(hq[~(hq >= QUALITY_FLOOR)].index)  # never a fifth of the samples on a mode
    return {run_id for run_id in done if run_id in unsettled or run_id in never}


def run_states(results, unlearned: set[str] | None = None) -> pd.Series:
    """run id -> state, for every run of ``results`` (``unlearned``: ``not_learned(results)``, if known)."""
    collapsed = set(results.events[results.events.kind.isin(collapse_kinds())].run_id)
    unlearned = not_learned(results) if unlearned is None else unlearned
    states = {}
    for run in results.runs.itertuples():
        if run.status in (FAILED, DIVERGED):
            states[run.run_id] = run.status
        elif run.status != "completed":
            states[run.run_id] = UNFINISHED  # pending, running or interrupted: not a finished measurement
        elif run.run_id in collapsed:
            states[run.run_id] = COLLAPSED
        elif run.run_id in unlearned:
            states[run.run_id] = NOT_CONVERGED
        else:
            states[run.run_id] = HEALTHY
    import pandas as pd  # here, not at the top: the gate imports this module, and `check --help` needs no pandas

    return pd.Series(states, name="state", dtype=object)


def variant_state(states: list[str]) -> str:
    """The state most runs are in; ties go to the worse state."""
    counts = Counter(states)
    return max(ORDER, key=lambda s: (counts[s], ORDER.index(s)))


def describe(states: list[str], collapsed_unlearned: int = 0) -> str:
    """'3 healthy, 1 collapsed (also not converged)' in ORDER; ``collapsed_unlearned``: the collapsed runs that did
    not learn either."""
    counts = Counter(states)
    also = f" ({collapsed_unlearned if collapsed_unlearned < counts[COLLAPSED] else 'all'} also not converged)"
    return ", ".join(f"{counts[s]} {s}" + (also if s == COLLAPSED and collapsed_unlearned else "")
                     for s in ORDER if counts[s])
