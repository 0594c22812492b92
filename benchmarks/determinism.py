"""What pinning the CPU arithmetic costs (ganbench.arithmetic): the same suite in fresh processes with the pins
(the default) and with ``GANBENCH_CPU_ARITHMETIC=native``, sides alternating, and whether the bytes differ.

    python benchmarks/determinism.py [--repeats 3]

The suite: one ring run (MLP) and one digits run (DCGAN, 16 px), 1,000 steps each, one thread.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

SUITE = {"name": "arithmetic", "datasets": ["ring", {"name": "digits", "size": 16}], "variants": ["nonsaturating"],
         "seeds": 1, "device": "cpu", "train": {"steps": 1000, "batch_size": 64, "eval_every": 500, "log_every": 10,
                                              "checkpoint_every": 10000, "eval_samples": 1000}}


def run(suite: Path, out: Path, native: bool) -> tuple[float, dict[str, bytes]]:
    env = dict(os.environ)
    if native:
        env["GANBENCH_CPU_ARITHMETIC"] = "native"
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ganbench", "run", str(suite), "--out", str(out), "--fresh"], env=env,
                   check=True, capture_output=True)
    seconds = time.perf_counter() - began
    runs = sorted((out / "arithmetic" / "runs").iterdir())
    return seconds, {r.name.rsplit("_", 1)[0]: (r / "metrics.csv").read_bytes() for r in runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        suite = Path(tmp) / "suite.yaml"
        suite.write_text(yaml.safe_dump(SUITE))
        times: dict[bool, list[float]] = {False: [], True: []}
        files: dict[bool, dict[str, bytes]] = {}
        for _ in range(args.repeats):
            for native in (False, True):
                seconds, files[native] = run(suite, Path(tmp) / str(native), native)
                times[native].append(seconds)
    pinned, native = statistics.median(times[False]), statistics.median(times[True])
    print(f"whole `ganbench run` processes, ring + digits, 1,000 steps each, median of {args.repeats}")
    print(f"pinned to AVX2: {pinned:.1f} s   native: {native:.1f} s   pinned / native time: {pinned / native:.2f}")
    same = [name for name in files[False] if files[False][name] == files[True].get(name)]
    print(f"runs with the same metrics.csv bytes both ways: {len(same)} of {len(files[False])} "
          "(their ids differ: the native label is part of the run id)")


if __name__ == "__main__":
    main()
