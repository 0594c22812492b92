"""Detector recall and false-positive rate on the labelled scenario set (benchmarks/scenarios.yaml).

    python benchmarks/detectors.py [--out results] [--workers 2]

Trains the scenarios (finished runs are reused), then for each detector prints recall (share of runs
labelled with its kind where it fired) and false-positive rate (share of healthy runs where it fired).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ganbench.diagnostics import DETECTORS
from ganbench.results import load_results
from ganbench.runner import run_suite

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
}


def score(results_dir: Path) -> list[dict]:
    results = load_results(results_dir)
    fired = results.events.groupby("run_id").kind.apply(set).to_dict()
    runs = results.runs.assign(label=results.runs.variant.map(LABELS))
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
    result = run_suite(HERE / "scenarios.yaml", out=args.out, workers=args.workers)
    rows = score(result.root)
    print(f"{'detector':<16}{'recall':>18}{'false positives':>22}")
    for r in rows:
        recall = "n/a (no scenario)" if r["positives"] == 0 else f"{r['recall']:.0%} ({r['detected']}/{r['positives']})"
        print(f"{r['detector']:<16}{recall:>18}{r['fpr']:>14.0%} ({r['false_positives']}/{r['healthy']})")
    events = load_results(result.root).events
    print("\nevents per scenario (kind @ step, one per seed):")
    for variant in LABELS:
        ev = events[events.variant == variant]
        shown = ", ".join(f"{k}@{s}" for k, s in zip(ev.kind, ev.step)) or "none"
        print(f"  {variant:<20} expected {LABELS[variant] or 'nothing':<15} got {shown}")


if __name__ == "__main__":
    main()
