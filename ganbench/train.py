"""The training loop: n_critic D steps, one G step, collectors on logging steps, evaluation on the fixed
latent batch every ``eval_every`` steps, checkpoints every ``checkpoint_every`` steps.

A non-finite loss ends the run as ``diverged`` at the step it appeared; it never raises.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ganbench.data import Dataset, make_dataset
from ganbench.diagnostics import run_detectors
from ganbench.metrics import Collector, EvalContext, StepRecord, make_collectors
from ganbench.models import build_models
from ganbench.objectives import Objective
from ganbench.regularizers import Regularizer, make_regularizer
from ganbench.samples import render_samples
from ganbench.seeding import Streams, apply_determinism, make_streams
from ganbench.store import MetricsWriter, RunStore, read_metrics
from ganbench.suite import RunSpec
from ganbench.versions import versions

Progress = Callable[[int, int], None]  # (step, total steps)


@dataclass
class Run:
    """Everything one run trains with, built from its RunSpec."""

    spec: RunSpec
    device: torch.device
    dataset: Dataset
    g: nn.Module
    d: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    objective: Objective
    regularizer: Regularizer
    collectors: list[Collector]
    streams: Streams
    eval_z: Tensor  # (N, z_dim) fixed evaluation latents: the same for every variant with this seed
    eval_real: Tensor  # (N, *sample_shape) fixed real samples for FID
    eval_real_key: str  # what determines eval_real: the dataset with its parameters, the seed and N
    eval_seconds: float = 0.0  # wall time spent evaluating (reported in status.json, never in metrics)

    def state(self, step: int) -> dict[str, Any]:
        return {"step": step, "g": self.g.state_dict(), "d": self.d.state_dict(), "opt_g": self.opt_g.state_dict(),
                "opt_d": self.opt_d.state_dict(), "rng": self.streams.state()}

    def load_state(self, state: dict[str, Any]) -> int:
        self.g.load_state_dict(state["g"])
        self.d.load_state_dict(state["d"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.streams.load_state(state["rng"])
        return int(state["step"])


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} requested but CUDA is not available")
    return device


def _optimizer(name: str, params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.SGD(params, lr=lr)


def build_run(spec: RunSpec, device: torch.device) -> Run:
    recipe = spec.recipe
    dataset = make_dataset(spec.dataset.name, spec.dataset.params)
    streams = make_streams(spec.seed)
    with torch.random.fork_rng(devices=[]):  # module initializers draw from the global RNG
        torch.manual_seed(streams.init)
        g, d = build_models(spec.architecture.name, spec.architecture.params, dataset.sample_shape,
                            spec.train.z_dim, recipe.spectral_norm)
    g, d = g.to(device), d.to(device)
    objective = recipe.build_objective()
    n = spec.train.eval_samples
    eval_z = torch.randn(n, spec.train.z_dim, generator=streams.eval).to(device)
    eval_real = dataset.sample(n, streams.eval).to(device)
    real_key = json.dumps([spec.dataset.name, spec.dataset.params, spec.seed, n], sort_keys=True)
    return Run(spec, device, dataset, g, d,
               _optimizer(recipe.optimizer, g.parameters(), recipe.g_lr, recipe.betas),
               _optimizer(recipe.optimizer, d.parameters(), recipe.d_lr, recipe.betas),
               objective, make_regularizer(recipe.regularizer, recipe.regularizer_weight),
               make_collectors(spec.collectors, dataset, objective, device), streams, eval_z, eval_real,
               real_key)


def _d_step(run: Run, want_input_grad: bool) -> tuple[Tensor, Tensor, Tensor, tuple[Tensor | None, ...]]:
    batch, z_dim = run.spec.train.batch_size, run.spec.train.z_dim
    real = run.dataset.sample(batch, run.streams.data).to(run.device)  # (B, *sample_shape)
    z = torch.randn(batch, z_dim, generator=run.streams.latent).to(run.device)  # (B, z_dim)
    with torch.no_grad():
        fake = run.g(z)
    real.requires_grad_(want_input_grad)
    fake.requires_grad_(want_input_grad)
    real_out, fake_out = run.d(real), run.d(fake)  # (B, 1) each
    loss = run.objective.d_loss(real_out, fake_out)
    penalty = run.regularizer.penalty(run.d, real, fake, run.streams.data)
    if penalty is not None:
        loss = loss + penalty
    input_grads: tuple[Tensor | None, ...] = (None, None)
    if want_input_grad:  # dD/dx on logging steps only; reuses this step's forward pass
        input_grads = torch.autograd.grad((real_out.sum(), fake_out.sum()), (real, fake), retain_graph=True)
        input_grads = tuple(t.flatten(1) for t in input_grads)
    run.opt_d.zero_grad(set_to_none=True)
    loss.backward()
    run.opt_d.step()
    run.regularizer.after_d_step(run.d)
    return loss.detach(), real_out.detach(), fake_out.detach(), input_grads


def _g_step(run: Run) -> Tensor:
    z = torch.randn(run.spec.train.batch_size, run.spec.train.z_dim, generator=run.streams.latent).to(run.device)
    run.d.requires_grad_(False)  # G's step needs no D weight gradients; D's .grad keeps its last step's values
    loss = run.objective.g_loss(run.d(run.g(z)))
    run.opt_g.zero_grad(set_to_none=True)
    loss.backward()
    run.opt_g.step()
    run.d.requires_grad_(True)
    return loss.detach()


def _collect(run: Run, record: StepRecord) -> dict[str, float]:
    values: dict[str, Tensor | float] = {}
    for collector in run.collectors:
        values.update(collector.on_step(record))
    names = list(values)
    if not names:
        return {}
    stacked = torch.stack([torch.as_tensor(values[n], dtype=torch.float64, device=run.device) for n in names])
    return dict(zip(names, stacked.tolist()))  # one device sync for every metric of the step


@torch.no_grad()
def _evaluate(run: Run, step: int) -> tuple[dict[str, float], bytes]:
    run.g.eval()
    fake = run.g(run.eval_z)  # (N, *sample_shape)
    run.g.train()
    ctx = EvalContext(step, fake, run.eval_real, run.dataset, run.eval_real_key)
    values: dict[str, float] = {}
    for collector in run.collectors:
        values.update(collector.evaluate(ctx))
    title = f"{run.spec.variant} · {run.spec.dataset.name} · seed {run.spec.seed} · step {step}"
    return values, render_samples(fake, run.dataset, title)


def _first_nonfinite(losses: list[Tensor], first_step: int) -> tuple[int, Tensor] | None:
    """The first step whose (loss_d, loss_g) is not finite, checked once per logging window (one sync)."""
    window = torch.stack(losses)  # (steps, 2)
    bad = ~torch.isfinite(window).all(dim=1)
    if not bool(bad.any()):
        return None
    i = int(bad.nonzero()[0, 0])
    return first_step + i, window[i]


def _loop(run: Run, store: RunStore, writer: MetricsWriter, start: int, progress: Progress | None) -> tuple[str, int]:
    cfg, run_id = run.spec.train, run.spec.run_id
    want_grad = any(c.needs_input_grad for c in run.collectors)
    window: list[Tensor] = []
    run.eval_seconds = 0.0
    for step in range(start + 1, cfg.steps + 1):
        evaluate = step % cfg.eval_every == 0 or step == cfg.steps
        checkpoint = step % cfg.checkpoint_every == 0 and step < cfg.steps
        log = step % cfg.log_every == 0 or evaluate or checkpoint  # a checkpoint is never of diverged weights
        n_critic = run.spec.recipe.n_critic
        for i in range(n_critic):
            loss_d, real_out, fake_out, input_grads = _d_step(run, want_grad and log and i == n_critic - 1)
        loss_g = _g_step(run)
        window.append(torch.stack([loss_d, loss_g]))
        if not log:
            continue
        bad = _first_nonfinite(window, step - len(window) + 1)
        window = []
        if bad is not None:
            bad_step, (bad_d, bad_g) = bad
            writer.write(bad_step, {"loss_d": float(bad_d), "loss_g": float(bad_g)})
            return "diverged", bad_step
        record = StepRecord(step, loss_d, loss_g, real_out, fake_out, run.d, run.g, *input_grads)
        writer.write(step, _collect(run, record))
        if evaluate:
            began = time.perf_counter()
            values, png = _evaluate(run, step)
            run.eval_seconds += time.perf_counter() - began
            writer.write(step, values)
            store.write_sample_image(run_id, step, png)
            writer.flush()
        if checkpoint:
            writer.flush()
            store.save_checkpoint(run_id, run.state(step))
        if progress:
            progress(step, cfg.steps)
    return "completed", cfg.steps


def run_config(run: Run, determinism: dict[str, Any]) -> dict[str, Any]:
    collectors: dict[str, Any] = {}
    for c in run.collectors:
        collectors.update(c.describe())
    return {"run_id": run.spec.run_id, "spec": run.spec.to_dict(), "device": str(run.device),
            "determinism": determinism, "collectors": collectors, "dataset": run.dataset.describe(),
            "versions": versions(run.device)}


def train(spec: RunSpec, store: RunStore, progress: Progress | None = None) -> dict[str, Any]:
    """Train one run (resuming from its checkpoint if it has one) and return its final status."""
    began = time.perf_counter()
    run_id = spec.run_id
    device = resolve_device(spec.device)
    determinism = apply_determinism(spec.deterministic, device)
    run = build_run(spec, device)
    checkpoint = store.load_checkpoint(run_id)
    start = run.load_state(checkpoint) if checkpoint else 0
    store.write_config(run_id, run_config(run, determinism))
    store.set_status(run_id, "running", step=start)
    writer = store.metrics_writer(run_id, resume_step=start if checkpoint else None)
    try:
        status, step = _loop(run, store, writer, start, progress)
    finally:
        writer.close()
    metrics_path = store.run_dir(run_id) / "metrics.csv"
    store.write_events(run_id, run_detectors(read_metrics(metrics_path), spec.detectors))
    result = {"status": status, "step": step, "time_s": round(time.perf_counter() - began, 3),
              "eval_time_s": round(run.eval_seconds, 3), "resumed_from": start}
    store.set_status(run_id, **result)
    return result
