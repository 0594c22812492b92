"""Report and check time on a large synthetic results directory (goal: 200 runs x 10,000 metric rows in
<= 30 s on 2 cores). The directory is written through the RunStore, exactly as training writes it.

    python benchmarks/report_speed.py [--runs 200] [--rows 10000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from ganbench.diagnostics import Event
from ganbench.evidence.gate import check
from ganbench.report.render import write_report
from ganbench.results.store import RunStore

STEP_NAMES = ["loss_d", "loss_g", "d_real", "d_fake", "d_accuracy", "grad_norm_d", "grad_norm_g",
              "grad_norm_d_input", "d_gap", "grad_norm_d_input_real", "grad_norm_d_input_fake"]
EVAL_NAMES = ["fid", "mode_coverage", "high_quality", "mode_kl", "modes_covered"] + [f"mode_share/{k}" for k in
                                                                                     range(8)]


def synthesize(root: Path, runs: int, rows: int) -> Path:
    rng = np.random.default_rng(0)
    store = RunStore(root, "synthetic")
    store.prepare("name: synthetic\ncheck: {thresholds: {mode_coverage: {min: 0.5}}}\n")
    variants, datasets = [f"variant-{i}" for i in range(10)], ["ring", "grid"]
    seeds = runs // (len(variants) * len(datasets))
    log_steps = rows // len(STEP_NAMES)  # plus the evaluation rows every 250 steps: a little over `rows`
    entries = []
    for variant in variants:
        for dataset in datasets:
            for seed in range(seeds):
                run_id = f"{variant}_{dataset}_s{seed}"
                writer = store.metrics_writer(run_id)
                for step in range(10, 10 * log_steps + 1, 10):
                    writer.write(step, dict(zip(STEP_NAMES, rng.random(len(STEP_NAMES)).tolist())))
                    if step % 250 == 0:
                        writer.write(step, dict(zip(EVAL_NAMES, rng.random(len(EVAL_NAMES)).tolist())))
                writer.close()
                store.write_events(run_id, [Event("mode_collapse", 500, {"mode_coverage": 0.1})] if seed == 0 else [])
                store.write_config(run_id, {"device": "cpu", "versions": {"torch": "x"}, "determinism": {}})
                store.set_status(run_id, "completed", step=10 * log_steps, time_s=1.0)
                entries.append({"id": run_id, "variant": variant, "dataset": dataset, "seed": seed,
                                "status": "completed"})
    store.write_manifest(entries)
    return store.root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = synthesize(Path(tmp), args.runs, args.rows)
        rows = sum(1 for p in root.rglob("metrics.csv") for _ in p.open()) - args.runs
        began = time.perf_counter()
        write_report(root)
        report_s = time.perf_counter() - began
        began = time.perf_counter()
        verdicts = check(root)
        check_s = time.perf_counter() - began
    print(f"{args.runs} runs, {rows} metric rows in all ({rows / args.runs:.0f} per run)")
    print(f"report: {report_s:.1f} s (goal <= 30 s, ratio to goal {report_s / 30:.2f})")
    print(f"check:  {check_s:.1f} s ({len(verdicts)} verdicts)")


if __name__ == "__main__":
    main()
