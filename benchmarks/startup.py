"""Whole-process timings, as a user meets them: how long the CLI takes to answer (--help, a malformed suite,
list, show), and the throughput of a whole `ganbench run` of one 3000-step ring run against the plainest
PyTorch script doing the same steps (start-up, imports and writing results included).

    python benchmarks/startup.py [--repeats 5] [--steps 3000]
    python benchmarks/startup.py --attribute [--repeats 3]

``--attribute`` splits the run's gap to the bare script: the same run with one part of ganbench taken away at a
time (the pinned arithmetic, evaluations, per-step collectors, the store's checkpoints), and start-up alone (a
1-step run); each part's share is how much of the gap its removal closes. Sides alternate as above.

Goals: --help and a suite-validation error < 0.5 s; list / show < 2 s; the one-run suite >= 0.93 of the bare
script's throughput. The two sides of the ratio alternate, so both see the same machine (this shared VM
switches between a fast and a slower regime for tens of seconds at a time).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

GANBENCH = [sys.executable, "-m", "ganbench"]

# The same GAN as the suite below with nothing else: ring data, 3x128 MLPs, non-saturating loss, Adam.
BARE = '''
import math, sys
import torch
from torch import nn
import torch.nn.functional as F

steps, batch, z_dim = int(sys.argv[1]), 256, 64
torch.manual_seed(0)
def mlp(n_in, n_out, act):
    layers, width = [], 128
    for i in range(3):
        layers += [nn.Linear(n_in if i == 0 else width, width), act()]
    return nn.Sequential(*layers, nn.Linear(width, n_out))
g, d = mlp(z_dim, 2, nn.ReLU), mlp(2, 1, lambda: nn.LeakyReLU(0.2))
opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
angles = torch.arange(8) * 2 * math.pi / 8
modes = torch.stack([2 * angles.cos(), 2 * angles.sin()], 1)
for step in range(steps):
    real = modes[torch.randint(8, (batch,))] + 0.02 * torch.randn(batch, 2)
    with torch.no_grad():
        fake = g(torch.randn(batch, z_dim))
    loss_d = F.softplus(-d(real)).mean() + F.softplus(d(fake)).mean()
    opt_d.zero_grad(set_to_none=True); loss_d.backward(); opt_d.step()
    d.requires_grad_(False)
    loss_g = F.softplus(-d(g(torch.randn(batch, z_dim)))).mean()
    opt_g.zero_grad(set_to_none=True); loss_g.backward(); opt_g.step()
    d.requires_grad_(True)
'''

# the bare script's recipe: the paper's rates, not the registry's tuned ring rates (a schedule the script lacks)
SUITE = {"name": "startup", "datasets": ["ring"], "variants": [{"name": "nonsaturating", "d_lr": 2e-4, "g_lr": 2e-4}],
         "seeds": 1, "device": "cpu",
         "train": {"steps": 3000, "batch_size": 256, "eval_every": 250, "log_every": 10, "checkpoint_every": 1000}}
BAD_SUITE = "name: x\ndatasets: [ring]\nvariants: [vanilla]\ntrian: {steps: 3}\n"


def wall(command: list[str], ok=(0,)) -> float:
    began = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    if result.returncode not in ok:
        raise SystemExit(f"{' '.join(command)} exited {result.returncode}:\n{result.stderr[-2000:]}")
    return seconds


def attribute(tmp: Path, steps: int, repeats: int) -> None:
    """Median whole-process seconds of the run with each part removed, and each part's share of the gap."""
    import os

    train = {**SUITE["train"], "steps": steps}
    without = {  # label -> (suite train overrides, other suite keys, environment)
        "ganbench run": ({}, {}, {}),
        "native arithmetic (no pins)": ({}, {}, {"GANBENCH_CPU_ARITHMETIC": "native"}),
        "evaluation only at the end": ({"eval_every": steps}, {}, {}),
        "no per-step metrics": ({"log_every": steps}, {}, {}),
        "no checkpoints": ({"checkpoint_every": 10 * steps}, {}, {}),
        "no collectors": ({}, {"collectors": []}, {}),
        "start-up alone (1 step)": ({"steps": 1, "eval_every": 1, "checkpoint_every": 1}, {}, {}),
    }
    script = tmp / "bare.py"
    script.write_text(BARE)
    times: dict[str, list[float]] = {label: [] for label in [*without, "bare script"]}
    for i in range(repeats):
        for label, (overrides, keys, env) in without.items():
            suite = tmp / f"attr{i}-{len(times[label])}.yaml"
            suite.write_text(yaml.safe_dump({**SUITE, **keys, "name": f"a{abs(hash(label)) % 10**6}",
                                             "train": {**train, **overrides}}))
            began = time.perf_counter()
            subprocess.run(GANBENCH + ["run", str(suite), "--out", str(tmp / f"attr-out{i}")], check=True,
                           capture_output=True, env={**os.environ, **env})
            times[label].append(time.perf_counter() - began)
        times["bare script"].append(wall([sys.executable, str(script), str(steps)]))
    median = {label: statistics.median(t) for label, t in times.items()}
    gap = median["ganbench run"] - median["bare script"]
    print(f"one {steps}-step ring run, median of {repeats} whole processes; gap to the bare script {gap:.2f} s "
          f"(ratio {median['bare script'] / median['ganbench run']:.3f})")
    for label, seconds in median.items():
        share = (median["ganbench run"] - seconds) / gap if label not in ("ganbench run", "bare script") else None
        closes = "" if share is None else f"   removing it closes {share:6.1%} of the gap"
        if label.startswith("start-up"):
            closes = f"   a fixed cost of {seconds:.2f} s = {seconds / gap:.1%} of the gap"
        print(f"  {label:30} {seconds:6.2f} s{closes}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--attribute", action="store_true", help="split the run's gap to the bare script")
    args = parser.parse_args()
    if args.attribute:
        with tempfile.TemporaryDirectory() as tmp:
            attribute(Path(tmp), args.steps, args.repeats)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bad = tmp / "bad.yaml"
        bad.write_text(BAD_SUITE)
        commands = {"ganbench --help": (["--help"], (0,), 0.5), "ganbench run --help": (["run", "--help"], (0,), 0.5),
                    "malformed suite (exit 2)": (["run", str(bad)], (2,), 0.5),
                    "ganbench list": (["list"], (0,), 2.0), "ganbench list variants": (["list", "variants"], (0,), 2.0),
                    "ganbench show sngan": (["show", "sngan"], (0,), 2.0)}
        print(f"median of {args.repeats} whole processes each:")
        for label, (argv, ok, goal) in commands.items():
            times = [wall(GANBENCH + argv, ok) for _ in range(args.repeats)]
            median = statistics.median(times)
            print(f"  {label:26} {median:6.2f} s  (min {min(times):.2f}, max {max(times):.2f}; goal < {goal} s: "
                  f"{'met' if median < goal else 'NOT met'})")
        suite = tmp / "suite.yaml"
        suite.write_text(yaml.safe_dump({**SUITE, "train": {**SUITE["train"], "steps": args.steps}}))
        script = tmp / "bare.py"
        script.write_text(BARE)
        ratios = []
        for i in range(args.repeats):
            sides = {"run": GANBENCH + ["run", str(suite), "--out", str(tmp / f"out{i}")],
                     "bare": [sys.executable, str(script), str(args.steps)]}
            order = list(sides) if i % 2 == 0 else list(sides)[::-1]
            times = {side: wall(sides[side]) for side in order}
            run, bare = times["run"], times["bare"]
            ratios.append(bare / run)
            print(f"  repeat {i + 1}: ganbench run {run:.2f} s, bare script {bare:.2f} s, ratio {bare / run:.3f}")
        print(f"one {args.steps}-step ring run, whole process: throughput ratio ganbench / bare script "
              f"{statistics.median(ratios):.3f} (repeats {min(ratios):.3f}-{max(ratios):.3f}; goal >= 0.93)")


if __name__ == "__main__":
    main()
