"""Overhead of the tracking API on examples/own_loop.py: the instrumented loop's throughput over the same loop
with `--no-track` (goal >= 0.95). Each loop runs in a fresh process and is timed inside it from the start of
the loop (tracker set-up, evaluations and the closing evaluation included; interpreter start-up and imports
not); the two sides alternate which goes first, so both see the same machine (this shared VM switches between
a fast and a slower regime for tens of seconds at a time).

    python benchmarks/tracking.py [--steps 2000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

EXAMPLES = Path(__file__).parent.parent / "examples"
TIMED = ("import sys, time; sys.path.insert(0, sys.argv[1]); import own_loop, ganbench.tracking; "
         "began = time.perf_counter(); own_loop.main(sys.argv[2:]); print(time.perf_counter() - began)")


def timed(argv: list[str]) -> float:
    done = subprocess.run([sys.executable, "-c", TIMED, str(EXAMPLES), *argv], capture_output=True, text=True,
                          check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        common = ["--out", out, "--steps", str(args.steps)]
        ratios = []
        for i in range(args.repeats):
            sides = [("bare", common + ["--no-track"]), ("tracked", common + ["--name", f"r{i}"])]
            times = dict((name, timed(argv)) for name, argv in (sides if i % 2 == 0 else sides[::-1]))
            ratios.append(times["bare"] / times["tracked"])
            print(f"  repeat {i + 1}: bare {times['bare']:.2f} s, tracked {times['tracked']:.2f} s, "
                  f"ratio {ratios[-1]:.3f}")
    print(f"{args.steps}-step own loop: throughput tracked / untracked {statistics.median(ratios):.3f} "
          f"(repeats {min(ratios):.3f}-{max(ratios):.3f}; goal >= 0.95)")


if __name__ == "__main__":
    main()
