"""The GPU check: on a machine with a CUDA GPU, one command that measures in a few minutes and prints one JSON
object. It has not run on the machine ganbench is developed on (no GPU there); run it where you have one.

    python benchmarks/gpu.py [--out DIR] [--quick]

1. determinism: a small suite (ring MLP, and the DCGAN on the digits) trained twice with ``deterministic: true``
   on the GPU; whether every run's metrics.csv is the same bytes both times.
2. ensembles: run-throughput (run-steps per second) of K = 1, 4, 16, 64 seeds trained as one seed ensemble
   against the same K runs one after another.
3. overhead: the trainer with its default collectors against a bare PyTorch loop doing the same updates on the
   same GPU, sides alternating every logging step (as benchmarks/overhead.py does on the CPU).
4. resnet: steps per second of the SN-GAN ResNet at 32 px on synthetic images (random PNGs through the real
   ``image_folder`` loading code), with no collectors and with the image collectors.

``--quick`` shrinks every budget (a smoke test of the script itself); ``--device cpu`` runs it on the CPU,
which measures nothing about a GPU and says so in its output (``--device cpu --quick``: about 5 minutes on 2
cores, most of it the ResNet, whose step is seconds on a CPU).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch
from overhead import Interleave, PlainLoop  # benchmarks/overhead.py: the bare loop, stepped as the trainer reports

from ganbench.execution.jobs import ProgressReporter
from ganbench.execution.runner import run_suite
from ganbench.spec.suite import parse_suite


def _suite(name: str, device: str, steps: int, **parts) -> dict:
    train = {"steps": steps, "batch_size": 64, "z_dim": 64, "eval_every": max(steps // 2, 1), "log_every": 10,
             "checkpoint_every": 10 * steps, **parts.pop("train", {})}
    return {"name": name, "device": device, "deterministic": True, "variants": ["nonsaturating"], "seeds": 1,
            "train": train, **parts}


def _timed(doc: dict, out: Path, reporter: ProgressReporter | None = None) -> tuple[float, object]:
    began = time.perf_counter()
    result = run_suite(parse_suite(doc), out=out, reporter=reporter)
    seconds = time.perf_counter() - began
    bad = [r for r in result.runs if r["status"] != "completed"]
    if bad:
        raise SystemExit(f"error: runs did not complete: {bad}")
    return seconds, result


def determinism(device: str, steps: int, out: Path) -> dict:
    doc = _suite("gpu-determinism", device, steps, seeds=2,
                 datasets=["ring", {"name": "digits", "size": 32}])
    files = []
    for attempt in ("first", "second"):
        _, result = _timed(doc, out / attempt)
        files.append({r["id"]: (result.root / "runs" / r["id"] / "metrics.csv").read_bytes() for r in result.runs})
    return {"runs": len(files[0]), "identical": files[0] == files[1],
            "differing_runs": sorted(k for k in files[0] if files[0][k] != files[1].get(k))}


def ensembles(device: str, sizes: list[int], steps: int, out: Path) -> list[dict]:
    rows = []
    for k in sizes:
        base = _suite(f"gpu-ensemble-{k}", device, steps, seeds=k, datasets=[{"name": "ring", "std": 0.05}],
                      architecture={"name": "mlp", "width": 128, "depth": 3})
        separate, _ = _timed({**base, "name": f"{base['name']}-separate"}, out)
        together, _ = _timed({**base, "name": f"{base['name']}-ensemble",
                              "train": {**base["train"], "ensemble": True}}, out)
        rows.append({"K": k, "separate_run_steps_per_s": round(k * steps / separate, 1),
                     "ensemble_run_steps_per_s": round(k * steps / together, 1),
                     "speedup": round(separate / together, 2)})
    return rows


def overhead(device: str, steps: int, out: Path) -> dict:
    doc = _suite("gpu-overhead", device, steps, datasets=[{"name": "ring", "std": 0.05}],
                 architecture={"name": "mlp", "width": 128, "depth": 3})
    bare = PlainLoop(doc, device)
    total, _ = _timed(doc, out, reporter=Interleave(bare))
    trainer = total - bare.seconds
    return {"steps": steps, "trainer_steps_per_s": round(steps / trainer, 1),
            "bare_loop_steps_per_s": round(steps / bare.seconds, 1), "ratio": round(bare.seconds / trainer, 3)}


def _synthetic_images(root: Path, count: int) -> None:
    """Random 32 x 32 RGB PNGs in ten class folders: data of the right shape, read by the real loader."""
    from PIL import Image

    generator = torch.Generator().manual_seed(0)
    for i in range(count):
        folder = root / f"class{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = torch.randint(0, 256, (32, 32, 3), generator=generator, dtype=torch.uint8).numpy()
        Image.fromarray(pixels).save(folder / f"{i}.png")


def resnet(device: str, steps: int, out: Path, eval_samples: int) -> dict:
    images = out / "synthetic"
    _synthetic_images(images, 1000)
    found = {}
    for label, collectors in (("no_collectors", ["losses"]), ("image_collectors", None)):
        doc = _suite(f"gpu-resnet-{label}", device, steps,
                     datasets=[{"name": "image_folder", "root": str(images), "size": 32}],
                     architecture={"name": "resnet"}, train={"eval_samples": eval_samples})
        doc["variants"] = [{"name": "sngan", "base": "hinge", "spectral_norm": "d", "betas": [0.0, 0.9],
                            "n_critic": 5}]
        if collectors is not None:
            doc["collectors"] = collectors
        seconds, _ = _timed(doc, out)
        found[label] = round(steps / seconds, 2)
    return {"steps": steps, "steps_per_s": found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (the point of this script) or cpu (a smoke test)")
    parser.add_argument("--out", type=Path, default=None, help="keep the results here (default: a temp dir)")
    parser.add_argument("--quick", action="store_true", help="tiny budgets: checks the script, measures nothing")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("error: benchmarks/gpu.py measures a CUDA GPU and this machine has none "
              f"(torch {torch.__version__}, torch.cuda.is_available() is False); "
              "run it on a machine with an NVIDIA GPU and a CUDA build of torch", file=sys.stderr)
        sys.exit(2)
    quick = args.quick
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch)
        report = {
            "device": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu (not a GPU check)",
            "torch": torch.__version__, "cuda": torch.version.cuda}
        sections = {
            "determinism": lambda: determinism(args.device, 20 if quick else 300, out / "determinism"),
            "ensembles": lambda: ensembles(args.device, [1, 4] if quick else [1, 4, 16, 64], 20 if quick else 300,
                                           out / "ensembles"),
            "overhead": lambda: overhead(args.device, 50 if quick else 2000, out / "overhead"),
            "resnet": lambda: resnet(args.device, 2 if quick else 200, out / "resnet", 64 if quick else 1000)}
        for name, measure in sections.items():
            started = time.perf_counter()
            report[name] = measure()
            print(f"gpu.py: {name} measured in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    report["seconds"] = round(time.perf_counter() - began, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
