"""Detector recall and false-positive rate on the labelled scenario sets: benchmarks/scenarios.yaml (the
8-Gaussian ring, 3 seeds) and benchmarks/digits_collapse.yaml (16 px digits with a DCGAN, 2 seeds).

    python benchmarks/detectors.py [--out results] [--workers 2]

Trains the scenarios (finished runs are reused), reruns the detectors with their current defaults over
the stored metrics, and prints for each detector its recall (share of runs labelled with its kind where it
fired) and false-positive rate (share of healthy runs where it fired).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ganbench.diagnostics import DETECTORS, run_detectors
from ganbench.execution.runner import run_suite
from ganbench.results import load_results

HERE = Path(__file__).parent
# scenario -> the event kind it must raise (None: healthy, must raise nothing)
LABELS = {
    "overpowered-minimax": "d_overpowering",  # saturating loss: D wins, G's gradient vanishes
    "overpowered-ns": "mode_collapse",  # non-saturating loss keeps G's gradient alive; G collapses instead
    "overpowered-hinge": "mode_collapse",
    "diverging-sgd": "divergence",
    "healthy-ns": None,
    "healthy-lsgan": None,
    "healthy-hinge": None,
    # digits_collapse.yaml
    "nonsaturating": None,
    "overpowered-minimax@digits": "d_overpowering",
    "reckless-g": "mode_collapse",  # G's learning rate 50x: one or two digit classes, sometimes hopping
    "overpowered-ns@digits": "unlabelled",  # degrades (FID 4x worse, 8-9 of 10 classes) without collapsing
}
SUITES = ("scenarios.yaml", "digits_collapse.yaml")


def label(variant: str, dataset: str) -> str | None:
    return LABELS.get(f"{variant}@{dataset}", LABELS.get(variant))


def events(results_dirs: list[Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every labelled run, and the events the current detectors find in its stored metrics."""
    runs, found = [], []
    for directory in results_dirs:
        results = load_results(directory)
        for run in results.runs.itertuples():
            expected = label(run.variant, run.dataset)
            if expected == "unlabelled" or (expected is None and run.variant not in LABELS):
                continue
            runs.append({"run_id": run.run_id, "variant": run.variant, "dataset": run.dataset, "label": expected})
            metrics = results.metrics[results.metrics.run_id == run.run_id][["step", "name", "value"]]
            found += [{"run_id": run.run_id, "variant": run.variant, "kind": e.kind, "step": e.step}
                      for e in run_detectors(metrics)]
    return pd.DataFrame(runs), pd.DataFrame(found, columns=["run_id", "variant", "kind", "step"])


def score(runs: pd.DataFrame, found: pd.DataFrame) -> list[dict]:
    fired = found.groupby("run_id").kind.apply(set).to_dict()
    healthy = runs[runs.label.isna()]
    rows = []
    for kind in DETECTORS.list():
        positives = runs[runs.label == kind]
        hits = sum(kind in fired.get(r, set()) for r in positives.run_id)
        false = sum(kind in fired.get(r, set()) for r in healthy.run_id)
        rows.append({"detector": kind, "positives": len(positives), "detected": hits,
                     "recall": hits / len(positives) if len(positives) else float("nan"),
                     "healthy": len(healthy), "false_positives": false, "fpr": false / len(healthy)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results", type=Path)
    parser.add_argument("--workers", default=2, type=int)
    args = parser.parse_args()
    roots = [run_suite(HERE / suite, out=args.out, workers=args.workers).root for suite in SUITES]
    runs, found = events(roots)
    rows = score(runs, found)
    print(f"{'detector':<16}{'recall':>18}{'false positives':>22}")
    for r in rows:
        recall = "n/a (no scenario)" if r["positives"] == 0 else f"{r['recall']:.0%} ({r['detected']}/{r['positives']})"
        print(f"{r['detector']:<16}{recall:>18}{r['fpr']:>14.0%} ({r['false_positives']}/{r['healthy']})")
    print("\nevents per scenario (kind @ step the condition began):")
    for (variant, dataset), group in runs.groupby(["variant", "dataset"], sort=False):
        ev = found[found.run_id.isin(group.run_id)]
        shown = ", ".join(f"{k}@{s}" for k, s in zip(ev.kind, ev.step)) or "none"
        expected = group.label.iloc[0] if isinstance(group.label.iloc[0], str) else "nothing"
        print(f"  {variant + ' / ' + dataset:<30} {len(group)} seeds, expected {expected:<15} got {shown}")


if __name__ == "__main__":
    main()
