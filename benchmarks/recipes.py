"""What each of today's recipe axes costs per training step: the trainer's steps (D step, G step, the
schedule, the generator EMA's update) with the axis against the same recipe without it, on the digits with the
DCGAN networks (the image axes need images). Prints one ratio per axis, measured in this one run.

    python benchmarks/recipes.py [--chunks 12] [--chunk-steps 10]

The two sides alternate every ``chunk-steps`` steps (this shared VM changes speed for tens of seconds at a
time, so separately timed runs disagree); the ratio is the median over chunks of (with) / (without). Evaluation
is not timed: every axis but the EMA leaves it unchanged, and the EMA only changes which weights it reads.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from ganbench.spec.suite import parse_suite
from ganbench.training.loop import SingleTrainer, build_run

BASE = {"name": "base", "base": "nonsaturating"}
R1 = {**BASE, "regularizer": ["r1"], "regularizer_weight": [10.0]}
AXES = {  # axis: (the recipe with it, the same recipe without it)
    "g_ema 0.999": ({**BASE, "g_ema": 0.999}, BASE),
    "lr_schedule cosine": ({**BASE, "lr_schedule": "cosine"}, BASE),
    "regularizer r1": (R1, BASE),
    "+ r2 (r1 + r2)": ({**BASE, "regularizer": ["r1", "r2"], "regularizer_weight": [10.0, 10.0]}, R1),
    "+ regularizer_schedule (r1)": ({**R1, "regularizer_schedule": "cosine", "regularizer_weight_end": 0.1}, R1),
    "objective relativistic (RpGAN)": ({**BASE, "objective": "relativistic"}, BASE),
    "regularizer lecam": ({**BASE, "regularizer": "lecam"}, BASE),
    "regularizer bcr": ({**BASE, "regularizer": "bcr"}, BASE),
    "augment color,translation,cutout": ({**BASE, "augment": ["color", "translation", "cutout"]}, BASE),
    "ada_target 0.6 (same augment)": ({**BASE, "augment": ["color", "translation", "cutout"], "ada_target": 0.6},
                                      {**BASE, "augment": ["color", "translation", "cutout"]}),
}


def trainer(variant: dict, steps: int):
    doc = {"name": "cost", "datasets": [{"name": "digits", "size": 16}], "architecture": {"name": "dcgan",
           "width": 32}, "variants": [variant], "device": "cpu", "collectors": ["losses"],
           "train": {"steps": steps, "batch_size": 64, "z_dim": 64, "eval_every": steps, "log_every": steps,
                     "checkpoint_every": steps}}
    run = build_run(parse_suite(doc).expand()[0], torch.device("cpu"))
    return SingleTrainer([run]), run


def seconds(pair, first: int, n: int, steps: int) -> float:
    trainer_, run = pair
    began = time.perf_counter()
    for step in range(first, first + n):
        trainer_.schedule(step, steps)
        trainer_.step(False, False)
        if run.g_ema is not None:
            run.g_ema.update(run.g, step)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=12)
    parser.add_argument("--chunk-steps", type=int, default=10)
    args = parser.parse_args()
    steps = args.chunks * args.chunk_steps + 1
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; digits 16 px, DCGAN width 32, batch 64; "
          f"{args.chunks} chunks of {args.chunk_steps} steps per side")
    print(f"{'axis':36s} {'ms/step with':>12s} {'without':>8s} {'ratio':>6s}")
    for name, (with_axis, without) in AXES.items():
        a, b = trainer(with_axis, steps), trainer(without, steps)
        seconds(a, 1, 2, steps), seconds(b, 1, 2, steps)  # warm-up: first-call allocations
        ratios, times_a, times_b = [], [], []
        for chunk in range(args.chunks):
            first = 3 + chunk * args.chunk_steps
            ta, tb = seconds(a, first, args.chunk_steps, steps), seconds(b, first, args.chunk_steps, steps)
            ratios.append(ta / tb)
            times_a.append(ta), times_b.append(tb)
        per = 1000 / args.chunk_steps
        print(f"{name:36s} {statistics.median(times_a) * per:12.1f} {statistics.median(times_b) * per:8.1f} "
              f"{statistics.median(ratios):6.2f}")


if __name__ == "__main__":
    main()
