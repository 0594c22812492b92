"""Overhead of the tracking API on the corpus's own loops (examples/corpus): each loop's wall time tracked over
the same loop untracked (goal <= 1.05 on the image loops). Each run is a fresh process, timed inside it from the
start of ``train`` (tracker set-up, evaluations and the closing evaluation included; interpreter start-up and
imports not); the two sides alternate which goes first, so both see the same machine. The evaluation
classifier is trained (and cached) before the first timing.

    python benchmarks/tracking.py [--data digits] [--loops bce_mlp logits_dcgan ...] [--steps 1200] [--repeats 10]
                                  [--evaluation auto|in_loop|beside|deferred]

Two ratios: tracked over untracked wall time (the honest one, but on a shared VM two runs of the same loop differ by
up to 30 %), and the tracked run's time over that time less what it spent inside the tracker's own calls (``track``,
``log``, ``after_d``, ``evaluate``, ``close``), which the machine's noise moves far less; it leaves out what the
tracker costs outside its calls (a deferred write finishing on its thread, caches it evicts). Each is summarised
over the repeats as ganbench summarises seeds (``ganbench.evidence.statistics.summarize``): the interquartile mean
of the paired ratios with its 95 % bootstrap interval. The goal is shown when the interval's upper end is at or
below 1.05, refuted when its lower end is above, and neither shown nor refuted otherwise.

Both sides run with glibc's malloc thresholds fixed (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``).
By default glibc serves each large buffer (a conv layer's activations on a batch) with a fresh mmap and raises
that threshold only after a large buffer is freed: the tracker's first evaluation does that, so the untracked
loop went on faulting in fresh pages at every step and ran the hinge SN-GAN 20-30 % slower than the tracked one
(tracked / untracked 0.77). The thresholds fixed, both sides allocate alike and the ratio measures the tracker.

``--evaluation`` places the evaluations (``ganbench.track(evaluation=...)``): ``auto`` is the tracker's default
(beside the loop on a GPU, deferred on a CPU). A deferred run's measurement happens when its results are first
read: the benchmark times that read too, in the same process right after the loop, and prints it beside.
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

from ganbench.evidence.statistics import summarize

EXAMPLES = Path(__file__).parent.parent / "examples"
GOAL = 1.05
MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(16 << 20), "MALLOC_TRIM_THRESHOLD_": str(64 << 20)}  # see above
TIMED = """
import functools, json, sys, time
sys.path.insert(0, sys.argv[1])
import importlib, ganbench
from ganbench.results import load_results
from ganbench.training.tracking import Tracker
inside = [0.0]  # seconds spent in the tracker's own calls


def timing(method):
    @functools.wraps(method)
    def timed_method(*args, **kwargs):
        began = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            inside[0] += time.perf_counter() - began
    return timed_method


for name in ("__init__", "log", "after_d", "evaluate", "close"):
    setattr(Tracker, name, timing(getattr(Tracker, name)))
ganbench.track = functools.partial(ganbench.track, evaluation=sys.argv[4])
loop = importlib.import_module("corpus." + sys.argv[2])
kw = json.loads(sys.argv[3])
began = time.perf_counter()
loop.train(**kw)
print(time.perf_counter() - began, inside[0])
began = time.perf_counter()
if kw.get("track", True):
    load_results(f"{kw['out']}/{kw['suite']}")
print(time.perf_counter() - began)
"""


def timed(loop: str, kwargs: dict, evaluation: str) -> tuple[float, float, float]:
    """The loop's wall time, the part of it spent inside the tracker's calls, and the time of reading its results
    right after (where deferred evaluations are measured)."""
    command = [sys.executable, "-c", TIMED, str(EXAMPLES), loop, json.dumps(kwargs), evaluation]
    done = subprocess.run(command, capture_output=True, text=True, check=True, env={**os.environ, **MALLOC})
    loop_line, read_s = done.stdout.strip().splitlines()[-2:]
    loop_s, inside_s = map(float, loop_line.split())
    return loop_s, inside_s, float(read_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="digits")
    parser.add_argument("--loops", nargs="+", default=["bce_mlp", "logits_dcgan", "wgan_gp", "hinge_sngan",
                                                       "lightning_gan"])
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--evaluation", choices=["auto", "in_loop", "beside", "deferred"], default="auto")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        # trains the classifier
        timed("bce_mlp", {"data": args.data, "steps": 1, "out": out, "suite": "warm-up"}, args.evaluation)
        for loop in args.loops:
            common = {"data": args.data, "steps": args.steps, "out": out, "seed": 0}
            ratios, attributed, reads = [], [], []
            for i in range(args.repeats):
                sides = [("bare", {**common, "track": False, "suite": "bare"}),
                         ("tracked", {**common, "suite": f"{loop}-r{i}"})]
                times = {name: timed(loop, kw, args.evaluation) for name, kw in (sides if i % 2 == 0 else sides[::-1])}
                (bare, _, _), (tracked, inside, read) = times["bare"], times["tracked"]
                ratios.append(tracked / bare)
                attributed.append(tracked / (tracked - inside))
                reads.append(read)
                print(f"  {loop} repeat {i + 1}: bare {bare:.2f} s, tracked {tracked:.2f} s (ratio {ratios[-1]:.3f}), "
                      f"{inside:.2f} s of it in the tracker's calls (ratio {attributed[-1]:.3f}); first read of the "
                      f"results {read:.2f} s", flush=True)
            print(f"{loop} on {args.data}, {args.steps} steps, evaluation {args.evaluation}, {args.repeats} repeats: "
                  f"wall time tracked / untracked {_summary(ratios)}; tracked / (tracked - time in the tracker's "
                  f"calls) {_summary(attributed)}. First read of the results {statistics.median(reads):.2f} s "
                  "(median)", flush=True)


def _summary(ratios: list[float]) -> str:
    """The ratios' IQM, 95 % interval, range, and what they say of the goal."""
    s = summarize(ratios)
    verdict = ("goal shown" if s["ci_high"] <= GOAL else "goal refuted" if s["ci_low"] > GOAL
               else "goal neither shown nor refuted")
    return (f"IQM {s['iqm']:.3f} [{s['ci_low']:.3f}, {s['ci_high']:.3f}] (repeats {min(ratios):.3f}-"
            f"{max(ratios):.3f}): {verdict} (<= {GOAL})")

if __name__ == "__main__":
    main()
