"""Do the registry's defaults learn at the suite defaults? Every registered variant on the ring and the grid
(2000 steps, batch 256, z 64, the default MLP), 4 seeds each, as suites/sweep-defaults.yaml retrains its
winners on seeds 2000-2003 -- which are the registry's 2D rates (recipes.variants.TUNED), so these runs are what
a suite naming the variants trains. The script checks that, then counts per variant and dataset the seeds that
learned (not "not converged": at some evaluation a fifth of the samples on modes) and the healthy ones.

    ganbench run suites/sweep-defaults.yaml --workers 2
    python benchmarks/defaults.py results/sweep-defaults
"""

from __future__ import annotations

import argparse

from ganbench.evidence.states import HEALTHY, not_learned, run_states
from ganbench.results.frames import load_results
from ganbench.spec.suite import load_suite, parse_suite

GOAL = 3  # of 4 seeds, per variant and dataset (issue 50)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="results/sweep-defaults, trained from suites/sweep-defaults.yaml")
    args = parser.parse_args()
    results = load_results(args.results)
    sweep = load_suite("suites/sweep-defaults.yaml")
    # the suite a newcomer writes: the registered names, nothing else, at the same data, budget and seeds
    plain = parse_suite({"name": "plain", "datasets": [d.name for d in sweep.datasets],
                         "variants": [name for name, _ in sweep.variants], "seeds": list(sweep.seeds),
                         "train": {"ensemble": True}, "device": "cpu"})
    defaults = {(s.variant, s.dataset.name, s.seed): s.run_id.rsplit("_", 1)[1] for s in plain.expand()}
    ran = {(r.variant, r.dataset, r.seed): r.run_id.rsplit("_", 1)[1] for r in results.runs.itertuples()}
    differ = sorted(key for key, digest in defaults.items() if ran.get(key) != digest)
    if differ:
        raise SystemExit(f"{len(differ)} runs are not what the registry's defaults train now, e.g. {differ[0]}: "
                         "train suites/sweep-defaults.yaml on this code")
    states, unlearned = run_states(results), not_learned(results)
    runs = results.runs.assign(state=results.runs.run_id.map(states),
                               learned=~results.runs.run_id.isin(unlearned))
    cov = results.final(["mode_coverage"]).mode_coverage
    runs = runs.assign(coverage=runs.run_id.map(cov))
    print(f"{len(runs)} runs: registered variants by name at the suite defaults, seeds {list(sweep.seeds)}")
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


if __name__ == "__main__":
    main()
