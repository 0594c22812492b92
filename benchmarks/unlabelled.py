"""Do precision / recall and density / coverage tell a collapsed generator from a healthy one without class
labels? The healthy non-saturating recipe against one whose G steps too hard (lr 1e-2, beta1 0.9: it
collapses), on `digits` (classifier features) and on the same digits as an `image_folder` of PNGs with no
class subfolders (no classifier: 8x8 pixel features), over two seeds. Prints each run's final values and the
mode_collapse events, which on the folder come from recall and precision alone.

    python benchmarks/unlabelled.py [--steps 1000] [--workers 2] [--out results/unlabelled]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch

from ganbench.data.images import _sklearn_digits
from ganbench.execution.runner import run_suite
from ganbench.results import load_results
from ganbench.spec.suite import parse_suite

METRICS = ("precision", "recall", "density", "coverage", "fid", "mode_coverage")


def write_folder(root: Path) -> None:
    """The digits as 16 px grey PNGs, all in one folder: no classes."""
    from PIL import Image

    images, _ = _sklearn_digits(16)
    root.mkdir(parents=True)
    for i, image in enumerate(((images[:, 0] + 1) * 127.5).round().to(torch.uint8)):
        Image.fromarray(image.numpy(), mode="L").save(root / f"{i:04d}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, help="keep the results here (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "digits-png"
        write_folder(folder)
        doc = {"name": "unlabelled", "seeds": 2, "device": "cpu",
               "datasets": [{"name": "digits", "size": 16},
                            {"name": "image_folder", "root": str(folder), "size": 16, "channels": 1}],
               "architecture": {"name": "dcgan", "width": 32},
               "variants": ["nonsaturating", {"name": "reckless-g", "base": "nonsaturating", "g_lr": 1.0e-2,
                                              "betas": [0.9, 0.999]}],
               "train": {"steps": args.steps, "batch_size": 64, "eval_every": 100, "z_dim": 32,
                         "eval_samples": 1000, "checkpoint_every": args.steps}}
        result = run_suite(parse_suite(doc), out=args.out or Path(tmp) / "results", workers=args.workers)
        results = load_results(result.root)
    final = results.final()
    print(f"{args.steps} steps, 1000 evaluation samples, final values:")
    print(f"{'dataset':13} {'variant':14} seed " + " ".join(f"{m:>13}" for m in METRICS) + "  mode_collapse")
    for run_id, row in final.sort_values(["dataset", "variant", "seed"]).iterrows():
        events = results.events[(results.events.run_id == run_id) & (results.events.kind == "mode_collapse")]
        cells = " ".join(f"{row.get(m, float('nan')):13.3f}" for m in METRICS)
        first = f"from step {int(events.step.min())}" if len(events) else "-"
        print(f"{row.dataset:13} {row.variant:14} {row.seed:4} {cells}  {first}")
    spaces = {c["spec"]["dataset"]["name"]: c["collectors"]["recall"]["feature_space"]
              for c in results.configs.values()}
    print("feature spaces:", json.dumps(spaces))

if __name__ == "__main__":
    main()
