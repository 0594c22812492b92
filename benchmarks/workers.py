"""Parallel speed-up: 4 runs with --workers 2 vs sequential, measured in one run (goal >= 1.8x on 2 cores).

    python benchmarks/workers.py [--steps 3000] [--batch-size 256]

Sequential runs in this process with torch's default intra-op threads (one per core), so it already uses
every core for part of each step; the workers split the cores, one thread each. The script also times
sequential with one thread, which separates the two effects: the speed-up over 1-thread sequential is how
well runs scale over processes; the 1-thread / default-thread ratio is what intra-op threading already
gives sequential (the workers' speed-up can be at most cores / that ratio).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from ganbench.execution.runner import run_suite
from ganbench.spec.suite import parse_suite


def timed(doc: dict, workers: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        began = time.perf_counter()
        result = run_suite(parse_suite(doc), out=out, workers=workers)
        seconds = time.perf_counter() - began
    assert all(r["status"] == "completed" for r in result.runs), result.runs
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    doc = {"name": "workers", "datasets": ["ring"], "variants": ["nonsaturating", "lsgan"], "seeds": 2,
           "device": "cpu", "train": {"steps": args.steps, "batch_size": args.batch_size, "eval_every": 500,
                                      "checkpoint_every": 10 * args.steps}}
    threads = torch.get_num_threads()
    sequential = timed(doc, 1)
    parallel = timed(doc, 2)
    torch.set_num_threads(1)
    single_thread = timed(doc, 1)
    torch.set_num_threads(threads)
    print(f"4 runs of {args.steps} steps, batch {args.batch_size}; torch threads in this process: {threads}")
    print(f"sequential ({threads} threads): {sequential:.1f} s   sequential (1 thread): {single_thread:.1f} s   "
          f"--workers 2: {parallel:.1f} s")
    print(f"speed-up of --workers 2 over sequential: {sequential / parallel:.2f}x (goal >= 1.8)")
    print(f"speed-up of --workers 2 over 1-thread sequential (process scaling): {single_thread / parallel:.2f}x")
    bound = single_thread / sequential
    print(f"intra-op threading already speeds sequential up {bound:.2f}x, so 2 workers can beat it by at most "
          f"{2 / bound:.2f}x")


if __name__ == "__main__":
    main()
