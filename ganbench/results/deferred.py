"""Deferred evaluations: a tracker (``ganbench.track(evaluation="deferred")``) saves G's samples at each
evaluation step under ``runs/<id>/deferred/`` and the first reader of the results measures them, so the loop
pays for a file write instead of the metrics.

The directory holds ``setup.pt`` (what rebuilds the evaluation: dataset, collectors, objective, the real
samples' stream state) and one ``step_<N>.npy`` per evaluation; it is removed once every batch is measured.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ganbench.data import make_dataset
from ganbench.data.pictures import render_samples
from ganbench.diagnostics import run_detectors
from ganbench.metrics import EvalContext, evaluation_values
from ganbench.metrics.base import make_collectors
from ganbench.recipes.objectives import make_objective
from ganbench.results.store import RunStore, atomic_write

SETUP = "setup.pt"


def save_setup(directory: Path, setup: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    torch.save(setup, buffer)
    atomic_write(directory / SETUP, buffer.getvalue())


def save_samples(directory: Path, step: int, samples: Tensor) -> None:
    """G's samples at ``step`` as a .npy file renamed into place. Not fsynced, nor torch.save'd (whose checksum over
    the bytes costs more than the write): writing a batch must cost the loop no more than a step or two."""
    path = directory / f"step_{step}.npy"
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        np.save(f, samples.detach().cpu().numpy(), allow_pickle=False)
    os.replace(tmp, path)


def _step_of(path: Path) -> int:
    return int(path.stem.split("_")[1])


def saved_steps(directory: Path) -> list[Path]:
    return sorted(directory.glob("step_*.npy"), key=_step_of)


def forget_from(directory: Path, step: int) -> None:
    """Drop the batches saved at or after ``step``: a restarted script evaluates those steps again."""
    for path in saved_steps(directory):
        if _step_of(path) >= step:
            path.unlink()


def measure_run(store: RunStore, run_id: str) -> None:
    """Measure a tracked run's deferred evaluations: the metrics and sample picture of each saved batch of G's
    samples, as the tracker would have measured them in the loop; then the detectors over every row. The caller
    holds the results directory's measuring lock and the run has ended."""
    directory = store.deferred_dir(run_id)
    setup = torch.load(directory / SETUP, weights_only=True)
    saved = saved_steps(directory)
    if saved:
        dataset = make_dataset(setup["dataset"]["name"], setup["dataset"]["params"], "data")
        cpu = torch.device("cpu")
        collectors = make_collectors(tuple(setup["collectors"]), dataset, make_objective(setup["objective"], {}), cpu)
        gen = torch.Generator()
        gen.set_state(setup["reference_state"])
        real = dataset.reference(setup["samples"], gen)
        logged = store.read_metrics(run_id)
        rows, pictures = [], []
        for path in saved:
            step, fake = _step_of(path), torch.from_numpy(np.load(path, allow_pickle=False))
            with torch.no_grad():
                values = evaluation_values(collectors, EvalContext(step, fake, real, dataset, setup["eval_key"]))
            # a measurement killed after writing its rows and before removing the batches: keep the rows once
            if logged is None or not ((logged.step == step) & logged.name.isin(list(values))).any():
                rows.append((step, values))
            pictures.append((step, render_samples(fake, dataset, f"{setup['title']} · step {step}")))
        store.append_metrics(run_id, rows)
        for step, png in pictures:
            store.write_sample_image(run_id, step, png)
        config = store.read_object(run_id, "config")
        store.write_events(run_id, run_detectors(store.read_metrics(run_id), config.get("detectors") or {}))
    shutil.rmtree(directory)


def measure_ended(store: RunStore, run_ids: list[str]) -> None:
    """Measure those of ``run_ids`` that hold deferred evaluations and have ended, one reader at a time."""
    with store.measuring():
        ended = [run_id for run_id in run_ids if (store.deferred_dir(run_id) / SETUP).exists()
                 and store.status(run_id).get("status") != "running"]
        if ended:
            print(f"ganbench: measuring the deferred evaluations of {len(ended)} tracked run(s) in {store.root}",
                  file=sys.stderr, flush=True)
        for run_id in ended:
            measure_run(store, run_id)
