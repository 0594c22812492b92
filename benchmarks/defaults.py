"""Do the registry's defaults learn? Every registered variant by name on the ring and the grid, nothing else set
(benchmarks/newcomer.yaml): the registry's settings there (recipes.variants.TUNED, chosen by
suites/sweep-defaults*.yaml) and 2D data's own budget (recipes.variants.DEFAULT_STEPS), 4 fresh seeds each. The
script checks the runs are what the registry trains now (the sweeps' winners on these seeds are: give their results
too), then counts per variant and dataset the seeds that learned (not "not converged": at some evaluation a fifth
of the samples on modes, and no nonconvergence event) and the healthy ones.

    ganbench run benchmarks/newcomer.yaml --workers 2
    python benchmarks/defaults.py results/newcomer results/sweep-defaults-*

Exits 1 when a variant learns in fewer than 3 of 4 seeds on a dataset: the check that the defaults learn, kept
out of the unit tests because it trains 96 runs of 6000 steps (about an hour on 2 cores).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ganbench.evidence.states import HEALTHY, not_learned, run_states
from ganbench.results.frames import load_results
from ganbench.spec.suite import load_suite

GOAL = 3  # of 4 seeds, per variant and dataset (issue 50)


def _ended(path: str):
    """The ended runs under ``path`` with their state, whether they learned, and their final mode coverage."""
    results = load_results(path)
    states, unlearned = run_states(results), not_learned(results)
    ended = results.runs[results.runs.status.isin(["completed", "diverged", "failed"])]
    runs = ended.assign(state=ended.run_id.map(states), learned=~ended.run_id.isin(unlearned))
    return runs.assign(coverage=runs.run_id.map(results.final(["mode_coverage"]).mode_coverage))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="results/newcomer, trained from benchmarks/newcomer.yaml (and "
                        "results/sweep-defaults-*: their winners, scored on the same seeds, are the "
                        "registry's runs there)")
    args = parser.parse_args()
    suite = load_suite(Path(__file__).with_name("newcomer.yaml"))
    defaults = {(s.variant, s.dataset.name, s.seed): s.run_id.rsplit("_", 1)[1] for s in suite.expand()}
    found = {}
    for path in args.results:  # the first directory holding a run the registry trains now wins
        for run in _ended(path).itertuples():
            key = (run.variant, run.dataset, run.seed)
            if defaults.get(key) == run.run_id.rsplit("_", 1)[1]:
                found.setdefault(key, run._asdict())
    missing = sorted(set(defaults) - set(found))
    if missing:
        raise SystemExit(f"{len(missing)} runs the registry's defaults train now have not ended in "
                         f"{', '.join(args.results)}, e.g. {missing[0]}: train benchmarks/newcomer.yaml on this code")
    runs = pd.DataFrame([found[key] for key in defaults])
    budget = {d.name: suite.budget(d).steps for d in suite.datasets}
    print(f"{len(runs)} runs: registered variants by name at the defaults ({budget} steps), seeds {list(suite.seeds)}")
    print(f"{'variant':<16}{'dataset':<8}{'learned':>8}{'healthy':>8}  final mode_coverage (median)")
    short = []
    for (variant, dataset), group in runs.groupby(["variant", "dataset"], sort=False):
        learned, healthy = int(group.learned.sum()), int((group.state == HEALTHY).sum())
        if learned < GOAL:
            short.append(f"{variant} on {dataset}")
        print(f"{variant:<16}{dataset:<8}{learned:>6}/{len(group)}{healthy:>6}/{len(group)}  "
              f"{group.coverage.median():.3f}")
    total = int(runs.learned.sum())
    print(f"learned: {total} of {len(runs)} runs; goal >= {GOAL} of 4 seeds per variant and dataset: "
          + ("met by all" if not short else f"missed by {', '.join(short)}"))
    if short:
        raise SystemExit(1)  # the check the issue asked of the defaults: every variant learns in most seeds


if __name__ == "__main__":
    main()
