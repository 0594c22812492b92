"""Seed ensembles: run-throughput of K seeds trained as one ensemble vs the same K runs one after another, and
how closely members follow the separately trained runs. Everything measured in this one run.

    python benchmarks/ensemble.py [--sizes 1,4,16] [--steps 300] [--repeats 3]
                                  [--agreement-seeds 8] [--agreement-steps 2000]

Throughput: whole runs through run_suite (default collectors, evaluation, sample pictures, store), the quick
suite's model and data, sequential executor. Agreement: the same K seeds both ways; per seed the first logged
losses and the final metrics, and a Mann-Whitney U test of the final FIDs (members vs separate runs).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import pandas as pd
import torch
from scipy.stats import mannwhitneyu

from ganbench.execution.runner import run_suite
from ganbench.results import load_results
from ganbench.spec.suite import parse_suite


def suite(variant: str, seeds: int, steps: int, ensemble: bool) -> dict:
    return {"name": f"ensemble-{ensemble}", "datasets": [{"name": "ring", "std": 0.05}],
            "architecture": {"name": "mlp", "width": 128, "depth": 3},
            "variants": [{"name": variant, "d_lr": 1e-3, "g_lr": 1e-3}], "seeds": seeds, "device": "cpu",
            "train": {"steps": steps, "batch_size": 128, "z_dim": 16, "eval_every": max(steps // 4, 1),
                      "log_every": 10, "checkpoint_every": 10 * steps, "ensemble": ensemble}}


def timed(doc: dict, out: str):
    began = time.perf_counter()
    result = run_suite(parse_suite(doc), out=out)
    seconds = time.perf_counter() - began
    assert all(r["status"] == "completed" for r in result.runs), result.runs
    return seconds, result


def throughput(sizes: list[int], steps: int, variant: str, repeats: int) -> None:
    print(f"run-throughput, {variant}, {steps} steps per run, fastest of {repeats} interleaved repeats "
          "(run-steps per second; higher is better)")
    print(f"{'K':>4} {'separate':>10} {'ensemble':>10} {'speed-up':>9}")
    for k in sizes:
        separate, together = float("inf"), float("inf")
        for _ in range(repeats):  # noise from other processes only ever adds time
            with tempfile.TemporaryDirectory() as out:
                separate = min(separate, timed(suite(variant, k, steps, False), out)[0])
                together = min(together, timed(suite(variant, k, steps, True), out)[0])
        print(f"{k:>4} {k * steps / separate:>10.0f} {k * steps / together:>10.0f} {separate / together:>8.2f}x")


def agreement(seeds: int, steps: int, variant: str) -> None:
    with tempfile.TemporaryDirectory() as out:
        _, separate = timed(suite(variant, seeds, steps, False), out)
        _, together = timed(suite(variant, seeds, steps, True), out)
        rows = []
        for name, result in (("separate", separate), ("ensemble", together)):
            results = load_results(result.root)
            final = results.final()
            for run in result.runs:
                metrics = results.metrics[results.metrics.run_id == run["id"]]
                first = metrics[metrics.step == metrics.step.min()].set_index("name").value
                last = final.loc[run["id"]]
                rows.append({"how": name, "seed": run["seed"], "first_loss_d": first["loss_d"],
                             "first_loss_g": first["loss_g"], "fid": last["fid"],
                             "mode_coverage": last["mode_coverage"], "high_quality": last["high_quality"]})
    frame = pd.DataFrame(rows).pivot(index="seed", columns="how")
    print(f"\nagreement, {variant}, {seeds} seeds x {steps} steps: separate runs vs ensemble members")
    print(frame.round(4).to_string())
    first = (frame["first_loss_d"]["ensemble"] - frame["first_loss_d"]["separate"]).abs().max()
    print(f"largest |loss_d difference| at the first logged step: {first:.2e}")
    for metric in ("fid", "mode_coverage"):
        a, b = frame[metric]["separate"], frame[metric]["ensemble"]
        p = mannwhitneyu(a, b).pvalue
        print(f"final {metric}: separate {statistics.mean(a):.4f} +- {statistics.stdev(a):.4f}, ensemble "
              f"{statistics.mean(b):.4f} +- {statistics.stdev(b):.4f}; Mann-Whitney U p = {p:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,4,16")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--variant", default="nonsaturating")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--agreement-seeds", type=int, default=8)
    parser.add_argument("--agreement-steps", type=int, default=2000)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device cpu")
    throughput([int(k) for k in args.sizes.split(",")], args.steps, args.variant, args.repeats)
    if args.agreement_seeds > 1:
        agreement(args.agreement_seeds, args.agreement_steps, args.variant)


if __name__ == "__main__":
    main()
