"""What the first read of a tracked run costs, by case: a deferred evaluation (``ganbench.track`` on a CPU) is
measured when the results are first read (``ganbench check``, ``report``, ``diagnose``, ``load_results``).

    python benchmarks/first_read.py [--steps 1250] [--repeats 3]

Each case trains the corpus's BCE MLP loop (examples/corpus/bce_mlp.py, evaluations every 250 steps) in a fresh
process, then times ``load_results`` on its results in the same process. Cases: the ring; 28-px digits where G is
captured as a program (each evaluation saves G's weights); the same digits loop with G's capture refused (each
evaluation saves G's 2,500 samples, 7.8 MB: a G that torch.fx cannot trace); and digits with an empty
``$GANBENCH_CACHE`` (the loop's ``track`` trains the evaluation classifier then, so the read finds it cached).
Prints each case's median read time and its time per evaluation.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

EXAMPLES = Path(__file__).parent.parent / "examples"
TIMED = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import ganbench.results.deferred as deferred
from ganbench.results import load_results
from corpus import bce_mlp
kw = json.loads(sys.argv[2])
if sys.argv[3] == "samples":
    deferred.capture_generator = lambda *args: None  # as for a G torch.fx cannot trace
import ganbench.training.tracking as tracking
tracking.capture_generator = deferred.capture_generator
bce_mlp.train(**kw)
began = time.perf_counter()
results = load_results(f"{kw['out']}/{kw['suite']}")
evaluations = results.metrics[results.metrics.name == "sliced_wasserstein"].step.nunique()
print(time.perf_counter() - began, evaluations)
"""
CASES = (("ring, G's weights", "ring", "weights", False), ("digits, G's weights", "digits", "weights", False),
         ("digits, G's samples", "digits", "samples", False),
         ("digits, G's weights, empty classifier cache before the loop", "digits", "weights", True))


def timed(out: str, data: str, saved: str, steps: int, seed: int, cache: str | None) -> tuple[float, int]:
    kw = {"data": data, "steps": steps, "out": out, "suite": f"{data}-{saved}-{seed}-{cache is not None}",
          "seed": seed}
    env = {**os.environ, **({"GANBENCH_CACHE": cache} if cache else {})}
    done = subprocess.run([sys.executable, "-c", TIMED, str(EXAMPLES), json.dumps(kw), saved], capture_output=True,
                          text=True, check=True, env=env)
    read_s, evaluations = done.stdout.split()[-2:]
    return float(read_s), int(evaluations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1250)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        timed(out, "digits", "weights", 1, 99, None)  # the classifier cached for the cases that want it cached
        for name, data, saved, cold in CASES:
            reads, evaluations = [], 0
            for seed in range(args.repeats):
                cache = tempfile.mkdtemp(dir=out) if cold else None
                read_s, evaluations = timed(out, data, saved, args.steps, seed, cache)
                reads.append(read_s)
            median = statistics.median(reads)
            print(f"{name}: first read {median:.2f} s (median of {args.repeats}; {min(reads):.2f}-{max(reads):.2f}), "
                  f"{evaluations} evaluations, {median / evaluations:.2f} s per evaluation", flush=True)


if __name__ == "__main__":
    main()
