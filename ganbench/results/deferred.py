"""Deferred evaluations: a tracker (``ganbench.track(evaluation="deferred")``) saves what its evaluations need
under ``runs/<id>/deferred/`` and the first reader of the results measures them, so the loop pays for a file
write instead of the metrics.

An evaluation saves G's samples on the fixed latents (``step_<N>.npy``), or, where G could be captured as a program
that needs none of the loop's code (``generator.json``: torch.fx's graph of its forward over torch.nn modules, as
data; results/program.py), only G's weights (``step_<N>.pt``), and the reader regenerates the samples from them
under the arithmetic the loop ran with: then the loop does not pay for G's forward pass over every latent.
``setup.pt`` holds what rebuilds the evaluation (dataset, collectors, objective, the real samples' stream state, the
latents, the loop's arithmetic). The directory is removed once every evaluation is measured.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ganbench import arithmetic
from ganbench.data import make_dataset
from ganbench.data.pictures import render_samples
from ganbench.diagnostics import run_detectors
from ganbench.metrics import EvalContext, evaluation_values
from ganbench.metrics.base import make_collectors
from ganbench.models.base import eval_mode
from ganbench.recipes.variants import objective_named
from ganbench.results import program
from ganbench.results.store import RunStore, atomic_write

SETUP = "setup.pt"
PROGRAM = "generator.json"
PROBE = 8  # latents whose samples each evaluation keeps beside G's weights: the reader checks it regenerates them


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


def capture_generator(g: nn.Module, latents: Tensor, chunk: int) -> dict[str, Any] | None:
    """G (in eval mode) as a program a reader can run without the loop's code (results/program.py), if, rebuilt
    from its saved form, it gives G's own samples byte for byte on the first and the last chunk of ``latents``
    (drawn in chunks of ``chunk``); else None (G's forward has Python control flow on its input, modules or
    functions of the loop's own, randomness)."""
    with eval_mode(g):  # the graph holds the branches G's forward takes in eval mode
        try:
            captured = program.loads(program.dumps(program.capture(g)))
            built = program.build(captured, generator_state(g, program.state_names(captured)))
            chunks = latents.split(chunk)
            with torch.no_grad():
                if not all(torch.equal(built(chunks[i]), g(chunks[i])) for i in sorted({0, len(chunks) - 1})):
                    return None
        except (program.NotAProgram, KeyError):
            return None
    return captured


def generator_state(g: nn.Module, names: list[str]) -> dict[str, Tensor]:
    """Copies of G's parameters and buffers (persistent or not) named ``names``."""
    tensors = {**dict(g.named_parameters(remove_duplicate=False)), **dict(g.named_buffers(remove_duplicate=False))}
    return {name: tensors[name].detach().clone() for name in names}


def save_program(directory: Path, captured: dict[str, Any]) -> None:
    atomic_write(directory / PROGRAM, program.dumps(captured))


def save_weights(directory: Path, step: int, weights: dict[str, Tensor], probe: Tensor) -> None:
    """G's weights at ``step`` and its samples on the first ``PROBE`` latents, renamed into place (not fsynced)."""
    path = directory / f"step_{step}.pt"
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save({"weights": weights, "probe": probe}, tmp)
    os.replace(tmp, path)


def regenerate(directory: Path) -> None:
    """Each evaluation saved as G's weights becomes its samples (``step_<N>.pt`` -> ``step_<N>.npy``), drawn as the
    tracker draws them: in eval mode, in its chunks, with the loop's intra-op threads. An evaluation whose probe
    samples come out other than the loop's (a forward pass that reads Python state the graph fixed, a reader on
    another CPU) is left unmeasured, and said so."""
    setup = torch.load(directory / SETUP, weights_only=True)
    captured = program.loads((directory / PROGRAM).read_text())
    latents, chunk = setup["latents"], setup["chunk"]
    threads = torch.get_num_threads()
    torch.set_num_threads(setup["arithmetic"]["threads"])
    try:
        for path in saved_steps(directory):
            if path.suffix != ".pt":
                continue
            saved = torch.load(path, weights_only=True)
            try:
                g = program.build(captured, saved["weights"])
                with torch.no_grad():
                    same = torch.equal(g(latents[:len(saved["probe"])]), saved["probe"])
                    if same:
                        save_samples(directory, _step_of(path), torch.cat([g(z) for z in latents.split(chunk)]))
                why = "G's samples regenerated from its saved weights differ from the loop's (G's forward pass reads " \
                      "state its graph does not hold, or this is another CPU)"
            except (program.NotAProgram, KeyError, RuntimeError) as error:
                same, why = False, f"G's saved program does not run: {error}"
            if not same:
                print(f"ganbench: the evaluation at step {_step_of(path)} of {directory.parent.name} is not measured: "
                      f"{why}; track this G with evaluation='in_loop' or 'beside'", file=sys.stderr, flush=True)
            path.unlink()
    finally:
        torch.set_num_threads(threads)


def _regenerate_as_trained(directory: Path, trained: dict[str, Any]) -> None:
    """``regenerate`` here where this process's arithmetic is the loop's, else in a process that has the loop's."""
    if arithmetic.label() == trained["label"] and torch.backends.cpu.get_cpu_capability() == trained["cpu_capability"]:
        regenerate(directory)
        return
    subprocess.run([sys.executable, "-c", "import sys; from ganbench.results.deferred import regenerate; "
                    "regenerate(__import__('pathlib').Path(sys.argv[1]))", str(directory)],
                   env=arithmetic.environment(trained), check=True)


def _step_of(path: Path) -> int:
    return int(path.stem.split("_")[1])


def saved_steps(directory: Path) -> list[Path]:
    """The saved evaluations: samples (.npy) or G's weights (.pt)."""
    return sorted(directory.glob("step_*.*"), key=_step_of)


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
    if any(path.suffix == ".pt" for path in saved_steps(directory)):
        _regenerate_as_trained(directory, setup["arithmetic"])
    saved = saved_steps(directory)
    if saved:
        dataset = make_dataset(setup["dataset"]["name"], setup["dataset"]["params"], "data")
        cpu = torch.device("cpu")
        collectors = make_collectors(tuple(setup["collectors"]), dataset, objective_named(setup["objective"]), cpu)
        gen = torch.Generator()
        gen.set_state(setup["reference_state"])
        labels = setup.get("labels")  # a conditional loop's evaluation labels; its reals then come with theirs
        real, real_labels = dataset.evaluation_reals(setup["samples"], gen, labels is not None)
        logged = store.read_metrics(run_id)
        rows, pictures = [], []
        for path in saved:
            step, fake = _step_of(path), torch.from_numpy(np.load(path, allow_pickle=False))
            with torch.no_grad():
                values = evaluation_values(collectors, EvalContext(step, fake, real, dataset, setup["eval_key"],
                                                                   fake_labels=labels, real_labels=real_labels))
            # a measurement killed after writing its rows and before removing the batches: keep the rows once
            if logged is None or not ((logged.step == step) & logged.name.isin(list(values))).any():
                rows.append((step, values))
            pictures.append((step, render_samples(fake, dataset, f"{setup['title']} · step {step}", labels)))
        store.append_metrics(run_id, rows)
        for step, png in pictures:
            store.write_sample_image(run_id, step, png)
        config = store.read_object(run_id, "config")
        store.write_events(run_id, run_detectors(store.read_metrics(run_id), config.get("detectors") or {}))
    shutil.rmtree(directory)


def measure_ended(store: RunStore, run_ids: list[str]) -> None:
    """Measure those of ``run_ids`` that hold deferred evaluations and have ended, one reader at a time, saying
    how far it got: a run costs about its evaluations x the time of one (docs/benchmarks.md)."""
    with store.measuring():
        ended = [run_id for run_id in run_ids if (store.deferred_dir(run_id) / SETUP).exists()
                 and store.status(run_id).get("status") != "running"]
        if ended:
            print(f"ganbench: measuring the deferred evaluations of {len(ended)} tracked run(s) in {store.root}",
                  file=sys.stderr, flush=True)
        for i, run_id in enumerate(ended, 1):
            saved = saved_steps(store.deferred_dir(run_id))
            kinds = {".pt": "G's weights", ".npy": "G's samples"}
            what = " and ".join(sorted({kinds[path.suffix] for path in saved})) or "nothing"
            began = time.perf_counter()
            measure_run(store, run_id)
            print(f"ganbench: [{i}/{len(ended)}] {run_id}: {len(saved)} evaluation(s) from {what} in "
                  f"{time.perf_counter() - began:.1f} s", file=sys.stderr, flush=True)
