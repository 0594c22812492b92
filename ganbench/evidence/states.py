"""What became of a run, and of a variant, as one word with its evidence -- computed here from stored results
only, and formatted by the front ends.

A run is
- ``failed`` / ``diverged``: its status says so;
- ``not converged``: on data with known modes, its samples never reached them -- at no evaluation were at least
  ``QUALITY_FLOOR`` of them high-quality members of a mode. Its mode coverage then measures the budget, not the
  recipe, and is not ranked as a measured quality. Also a run with an event of a kind marked
  ``nonconvergence``: it did not learn (a stalled G, a pinned D, samples that ended far from the data) or its
  parameters orbit the equilibrium instead of settling;
- ``collapsed``: a collapse event (mode_collapse, d_overpowering, or a plugin kind marked as collapse);
- ``healthy``: none of these.
A variant takes the state most of its runs are in (ties go to the worse state).
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

HEALTHY, COLLAPSED, NOT_CONVERGED, DIVERGED, FAILED = "healthy", "collapsed", "not converged", "diverged", "failed"
ORDER = (HEALTHY, COLLAPSED, NOT_CONVERGED, DIVERGED, FAILED)  # best first: how a ranking groups variants
MEASURED = (HEALTHY, COLLAPSED)  # states whose final metrics are measurements of the recipe
QUALITY_FLOOR = 0.2  # the mode_collapse detector's floor: a fifth of the samples on modes


def run_states(results) -> pd.Series:
    """run id -> state, for every run of ``results``."""
    from ganbench.diagnostics import event_kinds

    kinds = event_kinds().items()
    collapse = {k for k, kind in kinds if kind.collapse}
    collapsed = set(results.events[results.events.kind.isin(collapse)].run_id)
    unsettled = set(results.events[results.events.kind.isin({k for k, kind in kinds if kind.nonconvergence})].run_id)
    hq = results.metrics[results.metrics.name == "high_quality"].groupby("run_id").value.max()
    states = {}
    for run in results.runs.itertuples():
        if run.status in (FAILED, DIVERGED):
            states[run.run_id] = run.status
        elif run.status != "completed":
            states[run.run_id] = FAILED  # pending, running or interrupted: not a finished measurement
        elif (run.run_id in hq.index and not hq[run.run_id] >= QUALITY_FLOOR) or run.run_id in unsettled:
            states[run.run_id] = NOT_CONVERGED
        elif run.run_id in collapsed:
            states[run.run_id] = COLLAPSED
        else:
            states[run.run_id] = HEALTHY
    return pd.Series(states, name="state", dtype=object)


def variant_state(states: list[str]) -> str:
    """The state most runs are in; ties go to the worse state."""
    counts = Counter(states)
    return max(ORDER, key=lambda s: (counts[s], ORDER.index(s)))


def describe(states: list[str]) -> str:
    """'3 healthy, 1 not converged' in ORDER."""
    counts = Counter(states)
    return ", ".join(f"{counts[s]} {s}" for s in ORDER if counts[s])
