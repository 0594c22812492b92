"""The memorization detector's false alarms and power. Healthy runs at full data (benchmarks/memorization.yaml):
their events as trained are the false alarms through the pipeline. Then each run's final generator draws two
evaluation batches on fresh latents (the detector's patience is two evaluations), and a share rho of each batch
is replaced by training images plus Gaussian noise -- a generator that copies. A run is caught when the
memorization detector, given the two batches' statistics as two evaluations, fires. Prints, per rho, the runs
caught with a 95 % interval, and the smallest rho caught in >= 80 % of runs.

    ganbench run benchmarks/memorization.yaml --workers 2
    python benchmarks/memorization.py results/memorization
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import torch

from ganbench.diagnostics.base import metric_stream
from ganbench.diagnostics.detectors import Memorization as Detector
from ganbench.evidence.statistics import clopper_pearson
from ganbench.metrics.base import EvalContext
from ganbench.metrics.overfitting import Memorization
from ganbench.results.frames import load_results
from ganbench.results.store import RunStore
from ganbench.spec.suite import load_suite
from ganbench.training.loop import build_run

RHOS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2)


def copier(fake: torch.Tensor, train: torch.Tensor, rho: float, noise: float, seed: int) -> torch.Tensor:
    """``fake`` with its first round(rho N) samples replaced by random training images plus N(0, noise^2)."""
    gen = torch.Generator().manual_seed(seed)
    k = round(rho * len(fake))
    copies = train[torch.randint(len(train), (k,), generator=gen)]
    out = fake.clone()
    out[:k] = (copies + noise * torch.randn(copies.shape, generator=gen)).clamp(-1, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="results/memorization, trained from benchmarks/memorization.yaml")
    parser.add_argument("--noise", type=float, default=0.05, help="std of the noise on copies (pixels in [-1, 1])")
    args = parser.parse_args()
    root = Path(args.results)
    results = load_results(root)
    events = results.events
    alarms = set(events[events.kind == "memorization"].run_id)
    print(f"{len(results.runs)} healthy runs at full data, as trained: memorization raised in {len(alarms)}")
    suite = load_suite(Path(__file__).with_name("memorization.yaml"))
    # by seed: this process imported torch before ganbench, so its run ids carry the native arithmetic's label
    specs = {s.seed: s for s in suite.expand()}
    store, detector = RunStore(root.parent, root.name), Detector()
    caught = {rho: 0 for rho in RHOS}
    ids = dict(zip(results.runs.run_id, results.runs.seed))
    for run_id, seed in ids.items():
        run = build_run(specs[seed], torch.device("cpu"))
        run.g.load_state_dict(store.load_checkpoint(run_id)["g"])
        run.g.eval()
        collector = Memorization(run.dataset, run.objective, torch.device("cpu"))
        train = run.dataset.training_set()
        for rho in RHOS:
            rows = []
            for draw in range(detector.patience):  # evaluations on fresh latents, as the detector's patience asks
                gen = torch.Generator().manual_seed(10_000 + draw)
                with torch.no_grad():
                    fake = run.g(torch.randn(len(run.eval_z), run.eval_z.shape[1], generator=gen))
                fake = copier(fake, train, rho, args.noise, 20_000 + draw)
                stats = collector.evaluate(EvalContext(draw, fake, run.eval_real, run.dataset))
                rows += [(500 * (draw + 1), name, value) for name, value in stats.items()]
            stream = metric_stream(pd.DataFrame(rows, columns=["step", "name", "value"]))
            caught[rho] += bool(detector.detect(stream))
    n = len(ids)
    print(f"copies: training images + N(0, {args.noise}^2) noise; caught = the detector fires on two evaluations")
    print(f"{'rho':>6}  caught  95% interval")
    for rho in RHOS:
        low, high = clopper_pearson(caught[rho], n)
        print(f"{rho:>6.2f}  {caught[rho]:>2}/{n}   [{low:.2f}, {high:.2f}]")
    powered = [rho for rho in RHOS if rho > 0 and caught[rho] >= 0.8 * n]
    print(f"smallest rho caught in >= 80 % of runs: {min(powered) if powered else 'none'}")


if __name__ == "__main__":
    main()
