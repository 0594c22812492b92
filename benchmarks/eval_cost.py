"""Evaluation cost on images: the share of a run's wall time spent evaluating (FID + KID + class coverage
+ the sample grid) at the default eval_every, on the offline digits set (goal <= 10 %).

    python benchmarks/eval_cost.py [--steps 1000]
"""

from __future__ import annotations

import argparse
import tempfile

from ganbench.data import make_dataset
from ganbench.execution.runner import run_suite
from ganbench.spec.suite import TrainConfig, parse_suite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    make_dataset("digits", {"size": 16}).classifier()  # train (or load) the classifier outside the timing
    eval_every = TrainConfig().eval_every
    doc = {"name": "eval-cost", "datasets": [{"name": "digits", "size": 16}], "variants": ["nonsaturating"],
           "architecture": {"name": "dcgan", "width": 32}, "device": "cpu",
           "train": {"steps": args.steps, "batch_size": 64, "eval_every": eval_every, "z_dim": 32,
                     "checkpoint_every": 10 * args.steps}}
    with tempfile.TemporaryDirectory() as out:
        result = run_suite(parse_suite(doc), out=out)
        status = __import__("json").loads((result.root / "runs" / result.runs[0]["id"] / "status.json").read_text())
    total, evaluation = status["time_s"], status["eval_time_s"]
    evals = len(range(eval_every, args.steps + 1, eval_every)) + (args.steps % eval_every != 0)
    print(f"digits 16x16, DCGAN width 32, batch 64, {args.steps} steps, eval_every {eval_every} ({evals} evaluations "
          f"of {TrainConfig().eval_samples} samples)")
    print(f"run {total:.1f} s, evaluation {evaluation:.2f} s: evaluation / training = "
          f"{evaluation / (total - evaluation):.3f} (goal <= 0.10)")


if __name__ == "__main__":
    main()
