"""Trainer overhead: training throughput of the full trainer (default collectors, logging, evaluation, sample
pictures, store) vs the plainest PyTorch loop doing the same updates, and vs the trainer with no collectors.
Prints ratios measured in this one run (goal >= 0.95).

    python benchmarks/overhead.py [--steps 1000] [--repeats 5]

The two sides run interleaved in one process: every time the trainer reports progress (each logging step,
every 10 steps) the plain loop takes the same 10 steps, timed apart. This shared VM switches between a fast
and a ~1.45x slower regime for tens of seconds at a time, which made separately timed runs disagree by up to
+-30%; interleaved every 10 steps, both sides see the same machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F

from ganbench.execution.jobs import ProgressReporter
from ganbench.execution.runner import run_suite
from ganbench.spec.suite import parse_suite
from ganbench.training.loop import SingleTrainer, build_run


def suite(collectors: list[str] | None, steps: int) -> dict:
    return {"name": "overhead", "datasets": ["ring"], "variants": ["nonsaturating"], "device": "cpu",
            "train": {"steps": steps, "batch_size": 256, "eval_every": 250, "log_every": 10,
                      "checkpoint_every": 10 * steps}, **({"collectors": collectors} if collectors is not None else {})}


class PlainLoop:
    """The same models, data and updates as the suite ``doc``'s first run, with nothing else: no logging, no
    evaluation, no store. On a GPU each batch of steps ends with a synchronize, so its time is the work's."""

    def __init__(self, doc: dict, device: str = "cpu") -> None:
        self.run = build_run(parse_suite(doc).expand()[0], torch.device(device))
        trainer = SingleTrainer([self.run])
        self.opt_d, self.opt_g = trainer.opt_d, trainer.opt_g
        self.batch, self.z_dim = self.run.spec.train.batch_size, self.run.spec.train.z_dim
        self.device, self.seconds = torch.device(device), 0.0

    def steps(self, n: int) -> None:
        began = time.perf_counter()
        g, d, data, streams = self.run.g, self.run.d, self.run.dataset, self.run.streams
        for _ in range(n):
            real = data.sample(self.batch, streams.data).to(self.device)
            with torch.no_grad():
                fake = g(torch.randn(self.batch, self.z_dim, generator=streams.latent).to(self.device))
            real_out, fake_out = d(real), d(fake)
            loss_d = F.softplus(-real_out).mean() + F.softplus(fake_out).mean()
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
            d.requires_grad_(False)
            z = torch.randn(self.batch, self.z_dim, generator=streams.latent).to(self.device)
            loss_g = F.softplus(-d(g(z))).mean()
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self.opt_g.step()
            d.requires_grad_(True)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self.seconds += time.perf_counter() - began


class Interleave(ProgressReporter):
    def __init__(self, plain: PlainLoop) -> None:
        self.plain, self.last = plain, 0

    def step(self, spec, step, steps) -> None:
        self.plain.steps(step - self.last)
        self.last = step


def measure(collectors: list[str] | None, steps: int) -> tuple[float, float]:
    """(trainer seconds, plain-loop seconds) for ``steps`` steps each, interleaved."""
    plain = PlainLoop(suite([], steps))
    with tempfile.TemporaryDirectory() as out:
        began = time.perf_counter()
        result = run_suite(parse_suite(suite(collectors, steps)), out=out, reporter=Interleave(plain))
        total = time.perf_counter() - began
    assert result.runs[0]["status"] == "completed"
    return total - plain.seconds, plain.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    measure([], 50)  # warm-up: imports, allocator
    full, bare = [], []
    for _ in range(args.repeats):
        full.append(measure(None, args.steps))
        bare.append(measure([], args.steps))
    vs_plain = [plain / trainer for trainer, plain in full]
    vs_bare = [plain / trainer for trainer, plain in bare]
    print(f"steps per run: {args.steps}, repeats: {args.repeats}, torch threads: {torch.get_num_threads()}")
    for label, pairs in (("trainer, default collectors", full), ("trainer, no collectors", bare)):
        trainer, plain = (statistics.median(x) for x in zip(*pairs))
        print(f"{label:28}: {args.steps / trainer:7.1f} steps/s; plain loop beside it: "
              f"{args.steps / plain:7.1f} steps/s")
    print(f"ratio trainer (default collectors) / plain loop: {statistics.median(vs_plain):.3f} "
          f"(repeats {min(vs_plain):.3f}-{max(vs_plain):.3f})  (goal >= 0.95)")
    print(f"ratio trainer (no collectors) / plain loop: {statistics.median(vs_bare):.3f} "
          f"(repeats {min(vs_bare):.3f}-{max(vs_bare):.3f})")


if __name__ == "__main__":
    main()
