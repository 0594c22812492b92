"""The shipped null rates (ganbench/evidence/null_rates.json): how often runs that changed nothing show each event
kind, or do not learn. The gate tests a build without a baseline against them (docs/gate.md). Counted, with
today's detectors (re-run over the stored metrics first), on

- the loop corpus's unchanged runs that were labelled ok from their samples (``benchmarks/corpus.py train``,
  ``examples/corpus/labels.yaml``);
- the seed-only runs of shipped suites that learn in every seed (``ganbench calibrate suites/ci.yaml``): from
  their results (``--suites``), or as the suite file records them (``--suite-rates``: its ``check.null_rates``,
  which ``calibrate`` printed).

Only the corpus's baseline seeds (0-3) are counted: the later seeds are the one-seed builds that
``benchmarks/corpus.py single`` judges against these rates.

    python benchmarks/null_rates.py --corpus results/corpus --suite-rates suites/ci.yaml [--write]

Prints the counts per kind, pooled and per dataset; ``--write`` writes the file.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from ganbench.evidence.null_rates import SHIPPED, measure, pooled  # noqa: E402
from ganbench.spec.suite import load_suite  # noqa: E402


def main() -> None:
    from dataclasses import replace

    from corpus import SEEDS, _label, _labels, redetect

    from ganbench.diagnostics import event_kinds
    from ganbench.results import load_results

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="the corpus's results (benchmarks/corpus.py train --out)")
    parser.add_argument("--suites", type=Path, nargs="*", default=[], help="results of seed-only suite runs")
    parser.add_argument("--suite-rates", type=Path, nargs="*", default=[],
                        help="suite files whose check.null_rates calibrate measured")
    parser.add_argument("--labels", type=Path, default=ROOT / "examples" / "corpus" / "labels.yaml")
    parser.add_argument("--write", action="store_true", help=f"write {SHIPPED.relative_to(ROOT)}")
    args = parser.parse_args()
    kinds = list(event_kinds())
    sources = []
    measured = []
    if args.corpus is not None:
        labels = _labels(args.labels)
        for root in sorted(args.corpus.glob("*-calibrate")):  # the unchanged loops' runs
            loop, data = root.name.removesuffix("-calibrate").rsplit("-", 1)
            baseline = load_results(root).subset(range(SEEDS))
            if len(baseline.runs) < SEEDS or not set(baseline.runs.status) <= {"completed", "diverged", "failed"}:
                print(f"skipped {root.name}: its baseline seeds are still training")
                continue
            redetect(root)
            results = load_results(root)
            ok = [s for s in results.runs.seed if s < SEEDS and _label(labels, loop, data, "healthy", int(s)) == "ok"]
            measured.append(results.subset(ok))
        sources.append(f"{sum(len(r.runs) for r in measured)} unchanged loop-corpus runs (baseline seeds 0-3) "
                       "labelled ok from their samples")
    for root in args.suites:
        redetect(root)
        measured.append(load_results(root))
        sources.append(f"{len(measured[-1].runs)} seed-only runs of {root.name}")
    rates = [measure(results, "", kinds) for results in measured]
    for path in args.suite_rates:
        suite = load_suite(path)
        found = suite.check.null_rates
        if found is None:
            raise SystemExit(f"{path} has no check.null_rates")
        if not found.datasets and len(suite.datasets) == 1:  # measured on the suite's one dataset
            found = replace(found, datasets={suite.datasets[0].name: found.counts})
        rates.append(found)
        sources.append(f"{found.source} ({path.name})")
    rates = pooled(rates, "shipped calibration: " + "; ".join(sources) + " (docs/gate.md)")
    for dataset, by_kind in [("all", rates.counts), *rates.datasets.items()]:
        print(f"{dataset}: " + ", ".join(f"{kind} {k}/{n}" for kind, (k, n) in sorted(by_kind.items())))
    if args.write:
        text = re.sub(r"\[\s+(\d+),\s+(\d+)\s+\]", r"[\1, \2]", json.dumps(rates.to_json(), indent=1))  # [k, n]
        SHIPPED.write_text(text + "\n")
        print(f"written to {SHIPPED}")


if __name__ == "__main__":
    main()
