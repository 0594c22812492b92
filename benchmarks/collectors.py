"""What the overfitting collectors cost, as a share of training time at their cadence, on the limited-digits
suite's run (digits 16 px, 10 % of the data, DCGAN width 32, batch 64, 2000 evaluation samples every 500 steps).
Times one training step, each step collector's reading (every ``every`` steps) and the memorization collector's
evaluation, in this one process, medians over repeats; a share is reading time / (every x step time).

    python benchmarks/collectors.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import torch

from ganbench.metrics.base import EvalContext, StepRecord
from ganbench.spec.suite import load_suite
from ganbench.training.loop import SingleTrainer, build_run

STEP_COLLECTORS = ("d_heldout", "spectral_norms", "g_conditioning")


def median_seconds(action, repeats: int) -> float:
    action()  # warm-up: first-call allocations, cached features
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)  # as every run trains (train.threads)
    suite = load_suite("suites/papers/limited-digits.yaml")
    spec = suite.expand()[0]
    spec = dataclasses.replace(spec, collectors=(*STEP_COLLECTORS, "memorization"))
    run = build_run(spec, torch.device("cpu"))
    trainer = SingleTrainer([run])
    step = median_seconds(lambda: trainer.step(False, False), args.repeats)
    with torch.no_grad():
        fake = run.g(run.eval_z)
    real, fake_out = torch.ones(spec.train.batch_size, 1), -torch.ones(spec.train.batch_size, 1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); {spec.dataset.params}, "
          f"{spec.architecture.name} {spec.architecture.params}, batch {spec.train.batch_size}")
    print(f"one training step: {step * 1000:.1f} ms")
    print(f"{'collector':<16}{'ms a reading':>13}{'every':>7}{'share of training':>19}")
    for name, collector in zip(spec.collectors, run.collectors):  # built in the order named
        if name in STEP_COLLECTORS:
            every = collector.every
            record = StepRecord(every, torch.tensor(0.0), torch.tensor(0.0), real, fake_out, run.d, run.g,
                                latent_shape=tuple(run.eval_z.shape[1:]))
            cost = median_seconds(lambda c=collector, r=record: c.on_step(r), args.repeats)
        else:  # memorization, at every evaluation
            every = spec.train.eval_every
            ctx = EvalContext(0, fake, run.eval_real, run.dataset)
            cost = median_seconds(lambda c=collector, x=ctx: c.evaluate(x), max(3, args.repeats // 3))
        print(f"{name:<16}{cost * 1000:>13.1f}{every:>7}{cost / (every * step):>18.1%}")


if __name__ == "__main__":
    main()
