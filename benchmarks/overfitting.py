"""The overfitting detectors on the limited-data digits: per run, the evaluation where FID was best (where it
turns), when ``d_overfitting`` began and how far from the turn, and whether ``past_best`` fired and named the
best evaluation. Detectors are re-run on the stored metrics, at the shipped thresholds or at ``--auc`` /
``--window`` (the thresholds are set on suites/papers/limited-digits.yaml's seeds 0-4, held to
benchmarks/limited-digits-fresh.yaml's seeds 5-9). Any other results directory with ``d_heldout`` and ``fid``
reads too: benchmarks/limited-digits-fractions.yaml (1 % and 100 % of the data), benchmarks/d-stronger.yaml (a D
with four times G's channels on all of it).

    ganbench run suites/papers/limited-digits.yaml --workers 2
    ganbench run benchmarks/limited-digits-fresh.yaml --workers 2
    python benchmarks/overfitting.py results/limited-digits results/limited-digits-fresh
"""

from __future__ import annotations

import argparse

from ganbench.diagnostics.base import run_detectors
from ganbench.diagnostics.detectors import DOverfitting
from ganbench.results.frames import load_results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="results directories of limited-digits suites")
    parser.add_argument("--auc", type=float, default=DOverfitting.auc)
    parser.add_argument("--window", type=int, default=DOverfitting.window)
    args = parser.parse_args()
    overrides = {"d_overfitting": {"auc": args.auc, "window": args.window}}
    print(f"d_overfitting at auc {args.auc}, window {args.window} readings; past_best at its defaults")
    print(f"{'suite':<26}{'variant':<13}{'images':>7}{'seed':>5}{'FID best':>10}{'at step':>8}{'final':>7}"
          f"{'AUC end':>8}{'overfitting from':>18}{'- turn':>8}{'past_best (best step)':>23}")
    tally: dict[str, list] = {}
    for root in args.results:
        results = load_results(root)
        for run in results.runs[results.runs.status == "completed"].itertuples():
            metrics = results.metrics[results.metrics.run_id == run.run_id]
            fid = metrics[metrics.name == "fid"].set_index("step").value
            turn = int(fid.idxmin())
            events = {e.kind: e for e in run_detectors(metrics[["step", "name", "value"]], overrides,
                                                       only=["d_overfitting", "past_best"])}
            over, past = events.get("d_overfitting"), events.get("past_best")
            data = results.configs[run.run_id]["dataset"]
            images = data.get("trained_on_images", data["train_images"])
            auc = metrics[metrics.name == "d_overfit_auc"].value
            tally.setdefault((results.suite, run.variant, images), []).append((over, past, turn))
            named = f"{past.step} ({past.evidence['best_step']})" if past else "-"
            print(f"{results.suite:<26}{run.variant:<13}{images:>7}{run.seed:>5}{fid.min():>10.1f}{turn:>8}"
                  f"{fid.iloc[-1]:>7.1f}{auc.iloc[-1] if len(auc) else float('nan'):>8.2f}"
                  f"{(over.step if over else '-'):>18}{(over.step - turn if over else '-'):>8}"
                  f"{named:>23}")
    print()
    for (suite, variant, images), rows in tally.items():
        fired = [(o, t) for o, _, t in rows if o]
        after = sum(o.step >= t for o, t in fired)
        named = sum(p.evidence["best_step"] == t for _, p, t in rows if p)
        print(f"{suite} {variant}, {images} training images: d_overfitting in {len(fired)} of {len(rows)} runs "
              f"({after} at or after the FID turn); "
              f"past_best in {sum(p is not None for _, p, _ in rows)} of {len(rows)}, naming the FID minimum in "
              f"{named}")


if __name__ == "__main__":
    main()
