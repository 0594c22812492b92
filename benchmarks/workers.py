"""Parallel speed-up: 4 runs with --workers 2 vs sequential, measured in one run (goal >= 1.8x on 2 cores).

    python benchmarks/workers.py [--steps 800]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from ganbench.runner import run_suite
from ganbench.suite import parse_suite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=800)
    args = parser.parse_args()
    doc = {"name": "workers", "datasets": ["ring"], "variants": ["nonsaturating", "lsgan"], "seeds": 2,
           "device": "cpu", "train": {"steps": args.steps, "batch_size": 256, "eval_every": 200,
                                      "checkpoint_every": 10 * args.steps}}
    timings = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as out:
            began = time.perf_counter()
            result = run_suite(parse_suite(doc), out=out, workers=workers)
            timings[workers] = time.perf_counter() - began
            assert all(r["status"] == "completed" for r in result.runs)
    print(f"4 runs of {args.steps} steps; torch threads in this process: {torch.get_num_threads()}")
    print(f"sequential: {timings[1]:.1f} s   --workers 2: {timings[2]:.1f} s   speed-up {timings[1] / timings[2]:.2f}x"
          " (goal >= 1.8)")


if __name__ == "__main__":
    main()
