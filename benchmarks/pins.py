"""Which of the arithmetic pins (ganbench.arithmetic) changes a run's bytes on this machine, and does an emulated
older machine (the dispatch variables capped at SSE4.2) differ? One ring and one digits run of 500 steps per
setting, each in a fresh process with GANBENCH_CPU_ARITHMETIC=native and the variables set by hand; prints a digest
of each run's metrics.csv. Equal digests: the same bytes.

    python benchmarks/pins.py
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from ganbench.arithmetic import PINS

SUITE = {"name": "arith", "datasets": ["ring", {"name": "digits", "size": 16}], "variants": ["nonsaturating"],
         "seeds": 1, "device": "cpu", "train": {"steps": 500, "batch_size": 64, "eval_every": 250, "log_every": 10,
                                              "checkpoint_every": 10000, "eval_samples": 1000}}
OLD = {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "ONEDNN_MAX_CPU_ISA": "SSE41"}
CASES = {"native": {}, "all pins": PINS, **{f"{k} only": {k: v} for k, v in PINS.items()},
         "emulated SSE4.2 machine, native": OLD, "MKL_CBWR=AVX2 (no STRICT)": {"MKL_CBWR": "AVX2"}}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        suite = Path(tmp) / "s.yaml"
        suite.write_text(yaml.safe_dump(SUITE))
        for i, (name, extra) in enumerate(CASES.items()):
            env = {k: v for k, v in os.environ.items() if k not in PINS and k not in OLD}
            env.update(extra, GANBENCH_CPU_ARITHMETIC="native")
            out = Path(tmp) / str(i)
            subprocess.run([sys.executable, "-m", "ganbench", "run", str(suite), "--out", str(out)], env=env,
                           check=True, capture_output=True)
            runs = sorted((out / "arith" / "runs").iterdir())
            digests = {r.name.split("_")[1]: hashlib.sha256((r / "metrics.csv").read_bytes()).hexdigest()[:10]
                       for r in runs}
            print(f"{name:<36} {digests}", flush=True)


if __name__ == "__main__":
    main()
