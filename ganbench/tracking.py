"""Watch a GAN that your own loop trains: the same collectors, detectors and store as ``ganbench run``, so
``ganbench report``, ``check`` and ``diagnose`` read a tracked run like any other.

    tracker = ganbench.track("results", g=G, d=D, data="ring", variant="my-gan", z_dim=64)
    for step in range(1, steps + 1):
        ...                                    # your D update
        tracker.after_d(step)                  # optional: D's gradients as its own step left them
        ...                                    # your G update
        tracker.log(step, loss_d=loss_d, loss_g=loss_g, real_out=d_real, fake_out=d_fake)
        if tracker.should_stop:                # divergence (and any event named in stop_on)
            break
    tracker.close()

A tracked run is ``<out>/<suite>/runs/<variant>_<dataset>_s<seed>_<digest>/`` with the usual files; its id
depends on the names, the seed and ``config`` only, so a restarted script appends to the same run: rows
logged at or after the first step it logs again are replaced, earlier ones kept.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import traceback
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import Tensor, nn

from ganbench.data import Dataset, make_dataset
from ganbench.data.toy import GaussianMixture2D
from ganbench.diagnostics import run_detectors
from ganbench.errors import GanbenchError
from ganbench.loggers import make_loggers
from ganbench.metrics import EvalContext, StepRecord, collectors_config, evaluation_values, make_collectors, step_values
from ganbench.objectives import make_objective
from ganbench.samples import render_samples
from ganbench.seeding import make_streams
from ganbench.store import RunStore
from ganbench.suite import safe_name
from ganbench.versions import versions


class OwnData(GaussianMixture2D):
    """Real samples you already hold, as a dataset: evaluation draws from them; ``modes`` (K, *sample_shape)
    with ``mode_std`` make mode coverage available; ``features`` (a module mapping samples to (N, F)) replaces
    the coordinates as FID's and the sliced Wasserstein distance's feature space."""

    def __init__(self, real: Tensor, modes: Tensor | None = None, mode_std: float | None = None,
                 features: nn.Module | None = None) -> None:
        self.real = real.detach().cpu()
        self.sample_shape = tuple(real.shape[1:])
        self.features = features
        self.num_modes = None
        if modes is not None:
            if mode_std is None:
                raise GanbenchError("modes need mode_std: the std of each mode (high quality = within 3 of it)")
            super().__init__(torch.as_tensor(modes).flatten(1), mode_std)

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        return self.real[torch.randint(len(self.real), (n,), generator=generator)]

    def fid_features(self, device: torch.device) -> tuple[nn.Module, str]:
        from ganbench.metrics.fid import Coordinates

        if self.features is None:
            return Coordinates(math.prod(self.sample_shape)), "coordinates"
        return self.features.to(device), f"user features: {type(self.features).__name__}"

    def describe(self) -> dict[str, Any]:
        return {"own_data": True, "real_samples": len(self.real), "modes": self.num_modes}


def _dataset(data: str | dict | Dataset | Tensor, modes, mode_std, features) -> tuple[Dataset, str, dict]:
    """The dataset, its name in the run id, and its parameters."""
    if isinstance(data, Dataset):
        return data, type(data).__name__.lower(), {}
    if isinstance(data, Tensor):
        return OwnData(data, modes, mode_std, features), "own", {"real_samples": len(data)}
    name, params = (data, {}) if isinstance(data, str) else (data.get("name"), {k: v for k, v in data.items()
                                                                                 if k != "name"})
    return make_dataset(name, params, "data"), name, params


class Tracker:
    """One tracked run. Build it with ``ganbench.track``; see the module docstring for the loop."""

    def __init__(self, out: str | Path = "results", *, g: nn.Module, d: nn.Module,
                 data: str | dict | Dataset | Tensor, suite: str = "tracked", variant: str = "own", seed: int = 0,
                 objective: str = "nonsaturating", z_dim: int | None = None, eval_latents: Tensor | None = None,
                 eval_samples: int = 2500, modes: Tensor | None = None, mode_std: float | None = None,
                 features: nn.Module | None = None, collectors: tuple[str, ...] | None = None,
                 detectors: dict[str, dict[str, float]] | None = None, log_every: int = 10, eval_every: int = 250,
                 stop_on: tuple[str, ...] = ("divergence",), loggers: tuple[str, ...] = (),
                 check: dict[str, Any] | None = None, config: dict[str, Any] | None = None) -> None:
        self.g, self.d = g, d
        self.device = next(g.parameters()).device
        self.dataset, dataset_name, dataset_params = _dataset(data, modes, mode_std, features)
        self.objective = make_objective(objective, {})
        self.collectors = make_collectors(collectors, self.dataset, self.objective, self.device)
        self.detectors, self.stop_on = dict(detectors or {}), tuple(stop_on)
        self.log_every, self.eval_every = log_every, eval_every
        streams = make_streams(seed)  # the evaluation batch a `ganbench run` with this seed would use
        if eval_latents is None:
            if z_dim is None:
                raise GanbenchError("give z_dim (latents are N(0, 1) of that size) or eval_latents")
            eval_latents = torch.randn(eval_samples, z_dim, generator=streams.eval)
        self.eval_z = eval_latents.to(self.device)
        self.eval_real = self.dataset.sample(len(self.eval_z), streams.eval).to(self.device)
        self.eval_key = json.dumps(["tracked", dataset_name, dataset_params, seed, len(self.eval_z)], sort_keys=True,
                                   default=str)
        spec = {"suite": suite, "variant": variant, "dataset": {"name": dataset_name, "params": dataset_params},
                "seed": seed, "objective": objective, "log_every": log_every, "eval_every": eval_every,
                "config": config or {}}
        digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:8]
        self.run_id = f"{safe_name(variant, 'variant')}_{safe_name(dataset_name, 'data')}_s{seed}_{digest}"
        self.entry = {"id": self.run_id, "variant": variant, "dataset": dataset_name, "seed": seed}
        self.store = RunStore(out, safe_name(suite, "suite"))
        self._prepare(spec, check)
        self.loggers = make_loggers(loggers, self.store.root / "tensorboard" / self.run_id)
        self.writer = None  # opened at the first logged step: a restart keeps the rows before it
        self.status, self.step, self.last_eval = "running", 0, 0
        self.should_stop = False
        self._began = time.perf_counter()
        self._d_grads: list[Tensor | None] | None = None
        self.events: list = []

    def _prepare(self, spec: dict[str, Any], check: dict[str, Any] | None) -> None:
        root = self.store.root
        suite_doc = self.store.suite_doc() if (root / "suite.yaml").exists() else {}
        suite_doc.update({"name": self.store.root.name, "tracked": True})
        if check is not None:
            suite_doc["check"] = check
        self.store.prepare(yaml.safe_dump(suite_doc, sort_keys=False))
        self.store.upsert_manifest({**self.entry, "status": "running"})
        self.store.write_config(self.run_id, {
            "run_id": self.run_id, "tracked": spec, "device": str(self.device), **collectors_config(self.collectors),
            "dataset": self.dataset.describe(), "detectors": self.detectors, "versions": versions(self.device)})
        self.store.set_status(self.run_id, "running", step=0)

    def _log_step(self, step: int) -> bool:
        return step % self.log_every == 0

    def after_d(self, step: int) -> None:
        """Call right after your D update: on logging steps, keeps D's gradients as that step left them (your G
        step may add to them or zero them), for grad_norm_d."""
        if self._log_step(step):
            self._d_grads = [None if p.grad is None else p.grad.detach().clone() for p in self.d.parameters()]

    def log(self, step: int, *, loss_d: Tensor | float, loss_g: Tensor | float, real_out: Tensor, fake_out: Tensor,
            real: Tensor | None = None, fake: Tensor | None = None) -> None:
        """Call once per G step, after it. ``real_out`` / ``fake_out``: D's raw outputs (B, 1) in its last step;
        ``real`` / ``fake``: a batch of each, to measure ||dD/dx|| (one extra D pass on logging steps)."""
        if self.status != "running":
            return
        self._open(step)
        self.step = step
        losses = torch.stack([torch.as_tensor(loss_d, dtype=torch.float64).detach().cpu(),
                              torch.as_tensor(loss_g, dtype=torch.float64).detach().cpu()])
        bound = float(self.detectors.get("divergence", {}).get("bound", 1e6))
        if not torch.isfinite(losses).all() or losses.abs().max() > bound:
            self._write(step, {"loss_d": float(losses[0]), "loss_g": float(losses[1])})
            self._finish("diverged")
            return
        if self._log_step(step):
            self._write(step, self._collect(step, losses, real_out, fake_out, real, fake))
        if step % self.eval_every == 0:
            self.evaluate(step)

    def _collect(self, step: int, losses: Tensor, real_out: Tensor, fake_out: Tensor, real: Tensor | None,
                 fake: Tensor | None) -> dict[str, float]:
        grads = (None, None)
        if real is not None and fake is not None and any(c.needs_input_grad for c in self.collectors):
            x = [real.detach().requires_grad_(True), fake.detach().requires_grad_(True)]
            g_real, g_fake = torch.autograd.grad([self.d(x[0]).sum(), self.d(x[1]).sum()], x)
            grads = (g_real.flatten(1), g_fake.flatten(1))
        record = StepRecord(step, losses[0], losses[1], real_out.detach(), fake_out.detach(), self.d, self.g,
                            *grads)
        saved = None
        if self._d_grads is not None:  # D's gradients as its own step left them
            saved = [p.grad for p in self.d.parameters()]
            for p, grad in zip(self.d.parameters(), self._d_grads):
                p.grad = grad
        try:
            return step_values(self.collectors, record)
        finally:
            if saved is not None:
                for p, grad in zip(self.d.parameters(), saved):
                    p.grad = grad
                self._d_grads = None

    @torch.no_grad()
    def evaluate(self, step: int) -> dict[str, float]:
        """Evaluate G on the fixed latents now (``log`` does it every ``eval_every`` steps), write the sample
        picture, and run the detectors over the metrics so far."""
        self._open(step)
        self.step = max(self.step, step)
        was_training = self.g.training
        self.g.eval()
        fake = self.g(self.eval_z)
        self.g.train(was_training)
        values = evaluation_values(self.collectors, EvalContext(step, fake, self.eval_real, self.dataset,
                                                                self.eval_key))
        self._write(step, values)
        png = render_samples(fake, self.dataset, f"{self.entry['variant']} · {self.entry['dataset']} · step {step}")
        self.store.write_sample_image(self.run_id, step, png)
        for logger in self.loggers:
            logger.image(step, png)
        self.last_eval = step
        self._detect()
        self.store.set_status(self.run_id, "running", step=step)
        return values

    def _open(self, step: int) -> None:
        """The metrics file, at the first step this process writes: rows before it are kept, the rest replaced."""
        if self.writer is None:
            self.writer = self.store.metrics_writer(self.run_id, resume_step=step - 1)

    def _write(self, step: int, values: dict[str, float]) -> None:
        self.writer.write(step, values)
        for logger in self.loggers:
            logger.scalars(step, values)

    def _detect(self) -> None:
        self.writer.flush()
        metrics = self.store.read_metrics(self.run_id)
        events = run_detectors(metrics, self.detectors) if metrics is not None and len(metrics) else []
        new = events[len(self.events):] if events[:len(self.events)] == self.events else events
        self.events = events
        self.store.write_events(self.run_id, events)
        for logger in self.loggers:
            logger.events(new)
        if any(e.kind in self.stop_on for e in events):
            self.should_stop = True

    def _finish(self, status: str, **extra: Any) -> None:
        if self.writer is not None:
            self._detect()
            self.writer.close()
        self.status = status
        if status == "diverged":
            self.should_stop = self.should_stop or "divergence" in self.stop_on
        self.store.set_status(self.run_id, status, step=self.step,
                              time_s=round(time.perf_counter() - self._began, 3), **extra)
        self.store.upsert_manifest({**self.entry, "status": status})
        for logger in self.loggers:
            logger.close()

    def close(self) -> None:
        """End the run: the last logged step is evaluated, events written, status ``completed`` (or
        ``diverged``, as recorded when the loss exploded)."""
        if self.status == "running":
            if self.writer is not None and self.step > self.last_eval:
                self.evaluate(self.step)  # the last step is always evaluated
            self._finish("completed")

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, kind, error, tb) -> None:
        if self.status != "running":
            return
        if kind is None:
            self.close()
        elif issubclass(kind, KeyboardInterrupt):
            self._finish("interrupted")
        else:
            self._finish("failed", error="".join(traceback.format_exception_only(kind, error)).strip())


def track(out: str | Path = "results", **options: Any) -> Tracker:
    """Start tracking a run of your own loop into ``out/<suite>/`` (see ``Tracker`` for the options)."""
    return Tracker(out, **options)
