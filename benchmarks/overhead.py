"""Collector overhead: training throughput with the default collectors vs the same trainer with none, and vs
the plainest PyTorch loop doing the same updates. Prints ratios measured in this one run (goal >= 0.95).

    python benchmarks/overhead.py [--steps 1000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch
import torch.nn.functional as F

from ganbench.runner import run_suite
from ganbench.suite import parse_suite


def suite(collectors: list[str] | None, steps: int) -> dict:
    return {"name": "overhead", "datasets": ["ring"], "variants": ["nonsaturating"], "device": "cpu",
            "train": {"steps": steps, "batch_size": 256, "eval_every": 250, "log_every": 10,
                      "checkpoint_every": 10 * steps}, **({"collectors": collectors} if collectors is not None else {})}


def time_trainer(collectors: list[str] | None, steps: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        began = time.perf_counter()
        result = run_suite(parse_suite(suite(collectors, steps)), out=out)
        assert result.runs[0]["status"] == "completed"
        return time.perf_counter() - began


def time_plain_loop(steps: int) -> float:
    """The same models, data and updates with nothing else: no logging, no evaluation, no store."""
    from ganbench.train import SingleTrainer, build_run

    spec = parse_suite(suite([], steps)).expand()[0]
    began = time.perf_counter()
    run = build_run(spec, torch.device("cpu"))
    g, d, data, streams = run.g, run.d, run.dataset, run.streams
    trainer = SingleTrainer(run)
    opt_d, opt_g = trainer.opt_d, trainer.opt_g
    for _ in range(steps):
        real = data.sample(256, streams.data)
        with torch.no_grad():
            fake = g(torch.randn(256, 64, generator=streams.latent))
        real_out, fake_out = d(real), d(fake)
        loss_d = F.softplus(-real_out).mean() + F.softplus(fake_out).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        d.requires_grad_(False)
        loss_g = F.softplus(-d(g(torch.randn(256, 64, generator=streams.latent)))).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        d.requires_grad_(True)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    time_trainer([], 50)  # warm-up: imports, allocator, matplotlib
    default, bare, plain = [], [], []
    for _ in range(args.repeats):  # interleaved, so drift in machine load hits every variant alike
        default.append(time_trainer(None, args.steps))
        bare.append(time_trainer([], args.steps))
        plain.append(time_plain_loop(args.steps))
    # The fastest repeat of each: noise from other processes only ever adds time (as timeit reports its minimum).
    d, b, p = (min(x) for x in (default, bare, plain))
    print(f"steps per run: {args.steps}, repeats: {args.repeats}, torch threads: {torch.get_num_threads()}")
    print(f"trainer, default collectors : {args.steps / d:8.1f} steps/s  ({d:.2f} s)")
    print(f"trainer, no collectors      : {args.steps / b:8.1f} steps/s  ({b:.2f} s)")
    print(f"plain PyTorch loop          : {args.steps / p:8.1f} steps/s  ({p:.2f} s)")
    print(f"ratio trainer (default collectors) / plain loop: {p / d:.3f}  (goal >= 0.95)")
    print(f"ratio default collectors / no collectors: {b / d:.3f}")


if __name__ == "__main__":
    main()
