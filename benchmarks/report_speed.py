"""Report and check time, and peak memory, on large synthetic results directories (goal: 10,000 runs x 2,000
metric rows, report + check in <= 30 s on 2 cores). Each directory is written through the RunStore as training
writes it (metrics.csv, and the columnar metrics.arrow a run writes when it ends); each size is read in a fresh
process, so its peak memory is its own.

    python benchmarks/report_speed.py [--runs 200 1000 10000] [--rows 2000]

The first read of each directory is timed on its own (``ganbench run``'s closing summary makes it, and it writes
the suite's read cache); report and check then read through the cache. Also timed: the first read of a directory
without any Arrow files (one written by ganbench 0.1.0, or copied without them), which parses every CSV.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

STEP_NAMES = ["loss_d", "loss_g", "d_real", "d_fake", "d_accuracy", "grad_norm_d", "grad_norm_g",
              "grad_norm_d_input", "d_gap", "grad_norm_d_input_real", "grad_norm_d_input_fake"]
EVAL_NAMES = ["fid", "mode_coverage", "high_quality", "mode_kl", "modes_covered"] + [f"mode_share/{k}" for k in
                                                                                     range(8)]
GOAL_S = 30.0


def synthesize(root: Path, runs: int, rows: int, summaries: bool = True) -> Path:
    from ganbench.diagnostics import Event
    from ganbench.metrics import metric_catalog
    from ganbench.results.store import RunStore

    # what a trained run's config.json records of its metrics (metrics/base.py): readers take it from there
    metadata = {name: info.to_json() for name, info in metric_catalog().items()}

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
                frame = writer.frame()
                writer.close()
                if summaries:  # as a run's end writes it (training/record.py)
                    store.write_summary(run_id, frame)
                store.write_events(run_id, [Event("mode_collapse", 500, {"mode_coverage": 0.1})] if seed == 0 else [])
                store.write_config(run_id, {"device": "cpu", "versions": {"torch": "x"}, "determinism": {},
                                            "metrics": metadata})
                store.set_status(run_id, "completed", step=10 * log_steps, time_s=1.0)
                entries.append({"id": run_id, "variant": variant, "dataset": dataset, "seed": seed,
                                "status": "completed"})
    store.write_manifest(entries)
    return store.root


def measure(root: Path) -> dict:
    """In this process: load, report and check ``root``; seconds and this process's peak memory."""
    from ganbench.evidence.gate import check
    from ganbench.report.render import write_report
    from ganbench.results.frames import load_results

    began = time.perf_counter()
    results = load_results(root)
    load_s = time.perf_counter() - began
    rows = len(results.metrics)
    del results
    began = time.perf_counter()
    write_report(root)
    report_s = time.perf_counter() - began
    began = time.perf_counter()
    verdicts = check(root)
    check_s = time.perf_counter() - began
    return {"rows": rows, "load_s": load_s, "report_s": report_s, "check_s": check_s, "verdicts": len(verdicts),
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[200, 1000, 10_000])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child process's job
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    print(f"synthetic runs of {args.rows} metric rows; report + check goal <= {GOAL_S:.0f} s")
    for runs in args.runs:
        with tempfile.TemporaryDirectory() as tmp:
            began = time.perf_counter()
            root = synthesize(Path(tmp), runs, args.rows)
            written = time.perf_counter() - began
            child = subprocess.run([sys.executable, __file__, "--measure", str(root)], capture_output=True,
                                   text=True, check=True)
            got = json.loads(child.stdout.splitlines()[-1])
            for summary in [*root.glob("runs/*/metrics.arrow"), root / ".read-cache.arrow"]:
                summary.unlink()
            began = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import sys; from ganbench.results.frames import load_results; "
                            "load_results(sys.argv[1])", str(root)], check=True)
            first = time.perf_counter() - began
        total = got["report_s"] + got["check_s"]
        print(f"{runs:>6} runs ({got['rows']:,} rows, written in {written:.0f} s): first read {got['load_s']:.1f} s, "
              f"report {got['report_s']:.1f} s, check {got['check_s']:.1f} s; report + check {total:.1f} s "
              f"(ratio to goal {total / GOAL_S:.2f}); peak memory {got['peak_mib']:.0f} MiB; "
              f"first read without Arrow files {first:.1f} s (process included)")


if __name__ == "__main__":
    main()
