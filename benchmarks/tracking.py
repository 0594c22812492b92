"""Overhead of the tracking API on the corpus's own loops (examples/corpus): each loop's wall time tracked over
the same loop untracked (goal <= 1.05 on the image loops). Each run is a fresh process, timed inside it from the
start of ``train`` (tracker set-up, evaluations and the closing evaluation included; interpreter start-up and
imports not); the two sides alternate which goes first, so both see the same machine. The evaluation
classifier is trained (and cached) before the first timing.

    python benchmarks/tracking.py [--data digits] [--loops bce_mlp logits_dcgan ...] [--steps 1200] [--repeats 3]
                                  [--background auto|on|off]

``--background`` places the evaluations: ``auto`` the tracker's default (beside the loop on a GPU, in it on a
CPU), ``on`` on the tracker's own thread, ``off`` in the loop.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

EXAMPLES = Path(__file__).parent.parent / "examples"
TIMED = ("import functools, json, sys, time; sys.path.insert(0, sys.argv[1]); import importlib, ganbench; "
         "bg = json.loads(sys.argv[4]); track = ganbench.track; "
         "ganbench.track = track if bg is None else functools.partial(track, background=bg); "
         "loop = importlib.import_module('corpus.' + sys.argv[2]); kw = json.loads(sys.argv[3]); "
         "began = time.perf_counter(); loop.train(**kw); print(time.perf_counter() - began)")


def timed(loop: str, kwargs: dict, background: bool | None = None) -> float:
    command = [sys.executable, "-c", TIMED, str(EXAMPLES), loop, json.dumps(kwargs), json.dumps(background)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="digits")
    parser.add_argument("--loops", nargs="+", default=["bce_mlp", "logits_dcgan", "wgan_gp", "hinge_sngan",
                                                       "lightning_gan"])
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--background", choices=["auto", "on", "off"], default="auto")
    args = parser.parse_args()
    background = {"auto": None, "on": True, "off": False}[args.background]
    with tempfile.TemporaryDirectory() as out:
        timed("bce_mlp", {"data": args.data, "steps": 1, "out": out, "suite": "warm-up"})  # trains the classifier
        for loop in args.loops:
            common = {"data": args.data, "steps": args.steps, "out": out, "seed": 0}
            ratios = []
            for i in range(args.repeats):
                sides = [("bare", {**common, "track": False}), ("tracked", {**common, "suite": f"r{i}"})]
                times = dict((name, timed(loop, kw, background)) for name, kw in (sides if i % 2 == 0 else sides[::-1]))
                ratios.append(times["tracked"] / times["bare"])
                print(f"  {loop} repeat {i + 1}: bare {times['bare']:.2f} s, tracked {times['tracked']:.2f} s, "
                      f"ratio {ratios[-1]:.3f}", flush=True)
            print(f"{loop} on {args.data}, {args.steps} steps: wall time tracked / untracked "
                  f"{statistics.median(ratios):.3f} (repeats {min(ratios):.3f}-{max(ratios):.3f}; evaluations "
                  f"{args.background}; goal <= 1.05)",
                  flush=True)


if __name__ == "__main__":
    main()
