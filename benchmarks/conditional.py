"""The conditional detectors on conditional suites: per variant and dataset, in how many seeds each of
``label_ignored``, ``class_collapse`` and ``class_diversity`` fires (re-run on the stored metrics at the shipped
thresholds), with the final label dependence and class spread ratio (median over seeds). Healthy recipes give
the false alarms, injected faults the detection.

    ganbench run benchmarks/conditional-faults.yaml
    ganbench run benchmarks/conditional-cut.yaml
    ganbench run suites/conditional.yaml --workers 2
    python benchmarks/conditional.py results/conditional-faults results/conditional-cut results/conditional
"""

from __future__ import annotations

import argparse

import pandas as pd

from ganbench.diagnostics.base import run_detectors
from ganbench.results.frames import load_results

KINDS = ("label_ignored", "class_collapse", "class_diversity")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="results directories of conditional suites")
    args = parser.parse_args()
    rows = []
    for root in args.results:
        results = load_results(root)
        final = results.final(["label_dependence", "class_spread_ratio"])
        for (variant, dataset), runs in results.runs.groupby(["variant", "dataset"], sort=True):
            fired = {kind: 0 for kind in KINDS}
            for run_id in runs.run_id:
                metrics = results.metrics[results.metrics.run_id == run_id]
                kinds = {event.kind for event in run_detectors(metrics[["step", "name", "value"]], only=set(KINDS))}
                for kind in kinds:
                    fired[kind] += 1
            last = final.loc[runs.run_id]
            rows.append({"suite": results.suite, "variant": variant, "dataset": dataset, "seeds": len(runs),
                         **{kind: f"{n} of {len(runs)}" for kind, n in fired.items()},
                         "label_dependence": round(float(last.label_dependence.median()), 2),
                         "class_spread_ratio": round(float(last.class_spread_ratio.median()), 2)})
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
