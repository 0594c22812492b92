"""Executors on one machine: the same 4-run suite sequential, with --workers 2, and on a local Ray with 2 CPUs,
measured in one run. Every run trains with one intra-op thread (``train.threads: 1``, the default) under every
executor, so all of them give the same bytes; the script also times sequential runs with ``threads: 2``.

    python benchmarks/workers.py [--steps 3000] [--batch-size 256]

Ray's time includes starting the local cluster (as ``ganbench run --executor ray`` starts it; timed apart, and
the ratio printed without it too: a cluster already up skips it) and its workers importing torch.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from ganbench.execution.executors import start_local_ray
from ganbench.execution.runner import run_suite
from ganbench.spec.suite import parse_suite


def timed(doc: dict, **how) -> float:
    with tempfile.TemporaryDirectory() as out:
        began = time.perf_counter()
        result = run_suite(parse_suite(doc), out=out, **how)
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
    two_threads = {**doc, "train": {**doc["train"], "threads": 2}}
    sequential = timed(doc)
    sequential_2 = timed(two_threads)
    workers = timed(doc, workers=2)
    import ray

    began = time.perf_counter()
    start_local_ray(2)
    init = time.perf_counter() - began
    on_ray = timed(doc, executor="ray", workers=2) + init
    ray.shutdown()
    print(f"4 runs of {args.steps} steps, batch {args.batch_size}, ring MLP, 2 cores")
    print(f"sequential (threads 1): {sequential:.1f} s   sequential (threads 2): {sequential_2:.1f} s   "
          f"--workers 2: {workers:.1f} s   --executor ray (2 CPUs): {on_ray:.1f} s (of which ray.init {init:.1f} s)")
    print(f"--workers 2 over sequential: {sequential / workers:.2f}x; ray over sequential: {sequential / on_ray:.2f}x; "
          f"ray / --workers 2 throughput: {workers / on_ray:.2f} ({workers / (on_ray - init):.2f} without "
          f"ray.init)")
    print(f"threads 2 over threads 1, sequential: {sequential / sequential_2:.2f}x")


if __name__ == "__main__":
    main()
