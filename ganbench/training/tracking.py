"""Watch a GAN that your own loop trains: the same collectors, detectors and store as ``ganbench run``, so
``ganbench report``, ``check`` and ``diagnose`` read a tracked run like any other.

    tracker = ganbench.track("results", g=G, d=D, data="ring", variant="my-gan", z_dim=64)
    for step in range(1, steps + 1):           # step = the number of G updates so far
        ...                                    # your D update(s)
        tracker.after_d(step)                  # optional: D's gradients as its own step left them
        ...                                    # your G update
        tracker.log(step, loss_d=loss_d, loss_g=loss_g, real_out=d_real, fake_out=d_fake)
        if tracker.should_stop:                # divergence (and any event named in stop_on)
            break
    tracker.close()

The tracker is a pure observer: it draws from random streams of its own (torch's global state is as it found
it after every call), restores D's buffers (BatchNorm statistics, spectral-norm vectors) after the extra D pass
it makes for ||dD/dx||, and leaves every gradient in place, so a tracked run trains exactly as the untracked one.

Where an evaluation's metrics are measured is ``evaluation``: ``in_loop`` (at the evaluation step),
``beside`` (on a thread of the tracker's own, written at the next evaluation) or ``deferred`` (G's samples on
the fixed latents, or only G's weights where G is a program of torch.nn modules that a reader can run, are saved
at the evaluation step and measured when the results are first read: ``ganbench check``, ``report``, ``diagnose``
or ``load_results``). The values are the same in every place.

A tracked run is ``<out>/<suite>/runs/<variant>_<dataset>_s<seed>_<digest>/`` with the usual files; its id
depends on the names, the seed and ``config`` only, so a restarted script appends to the same run: rows
logged at or after the first step it logs again are replaced, earlier ones kept.
"""

from __future__ import annotations

import json
import math
import traceback
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import Tensor, nn

from ganbench.data import Dataset, make_dataset
from ganbench.data.pictures import render_samples
from ganbench.data.toy import GaussianMixture2D
from ganbench.diagnostics import DETECTORS
from ganbench.errors import GanbenchError
from ganbench.meta import make_run_id
from ganbench.metrics import EvalContext, StepRecord, collectors_config, evaluation_values, step_values
from ganbench.metrics.base import default_collectors, make_collectors
from ganbench.models.base import eval_mode
from ganbench.recipes.objectives import Objective
from ganbench.recipes.variants import objective_named
from ganbench.results.deferred import (
    PROBE,
    capture_generator,
    forget_from,
    generator_state,
    save_program,
    save_samples,
    save_setup,
    save_weights,
)
from ganbench.results.program import state_names
from ganbench.results.store import RunStore
from ganbench.spec.suite import safe_name
from ganbench.training.record import RunRecorder, divergence_bound
from ganbench.training.seeding import make_streams
from ganbench.versions import arithmetic_in_effect, versions

UNIT_LOGS = 20  # logged steps of D outputs in [0, 1] before the tracker says they look like probabilities
EVALUATIONS = ("in_loop", "beside", "deferred")
# samples of each batch whose ||dD/dx|| is measured: that extra D pass on full batches of a conv D cost the corpus's
# hinge SN-GAN 11 % of its wall time (benchmarks/tracking.py); 16 estimate the batch mean well enough for its plot
INPUT_GRAD_SAMPLES = 16
# latents per forward pass of G at an evaluation (G is in eval mode: the same samples as one pass, byte for byte on
# the corpus's five Gs). A 28-px conv G's activations for 256 fall out of a CPU's cache: the hinge SN-GAN's five
# evaluations took 1.3-2.3 s in chunks of 256 and 0.8 s in chunks of 128 (64 was no faster)
EVAL_CHUNK = 128
# events the detectors find from the logged steps alone: a deferred evaluation still stops the loop on these
STEP_EVENTS = frozenset({"divergence", "d_overpowering", "d_pinned", "g_no_gradient"})


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
        self.num_classes = None  # its samples come without labels

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

    def __init__(self, out: str | Path = "results", *, g: nn.Module, d: nn.Module, g_ema: nn.Module | None = None,
                 data: str | dict | Dataset | Tensor, suite: str = "tracked", variant: str = "own", seed: int = 0,
                 objective: str = "nonsaturating", d_outputs: str = "auto", z_dim: int | None = None,
                 z_shape: tuple[int, ...] | None = None, eval_latents: Tensor | None = None, eval_samples: int = 2500,
                 modes: Tensor | None = None, mode_std: float | None = None,
                 features: nn.Module | None = None, collectors: tuple[str, ...] | None = None,
                 detectors: dict[str, dict[str, float]] | None = None, log_every: int = 10, eval_every: int = 250,
                 stop_on: tuple[str, ...] = ("divergence",), loggers: tuple[str, ...] = (),
                 check: dict[str, Any] | None = None, config: dict[str, Any] | None = None,
                 steps: int | None = None, evaluation: str = "auto", classes: int | None = None,
                 eval_labels: Tensor | None = None) -> None:
        self.g, self.d = g, d
        self.evaluated = g if g_ema is None else g_ema  # what evaluation measures: the loop's own EMA of G if any
        self.device = next(g.parameters()).device
        with self._observing():  # building collectors and data may draw from the global RNG
            self.dataset, dataset_name, dataset_params = _dataset(data, modes, mode_std, features)
            self.objective = objective_named(objective)
            conditional = classes is not None or eval_labels is not None  # G(z, y), measured per class
            collectors = default_collectors(self.dataset, conditional) if collectors is None else tuple(collectors)
            self.collectors = make_collectors(collectors, self.dataset, self.objective, self.device)
            self.detectors, self.stop_on = dict(detectors or {}), tuple(stop_on)
            DETECTORS.get("divergence")(**self.detectors.get("divergence", {}))  # unknown thresholds fail here
            self.bound = divergence_bound(self.detectors)
            self.probabilities, self.d_outputs = _d_outputs(d_outputs, d, self.objective, objective)
            # logged outputs seen in [0, 1] so far, where they are logits by default; None once decided (read
            # otherwise, a value outside, or warned)
            self._unit_logs: int | None = 0 if (d_outputs, self.d_outputs["read_as"]) == ("auto", "logits") else None
            self.log_every, self.eval_every = log_every, eval_every
            streams = make_streams(seed)  # the evaluation batch a `ganbench run` with this seed would use
            if eval_latents is None:
                eval_latents = _latents(z_dim, z_shape, eval_samples, streams.eval)
            self.eval_z = eval_latents.to(self.device)
            reference_state = streams.eval.get_state()  # what a deferred measurement draws the real samples from
            n = len(self.eval_z)
            self.eval_y = _eval_labels(classes, eval_labels, self.dataset, n).to(self.device) if conditional else None
            self.eval_real, self.eval_real_y = self.dataset.evaluation_reals(n, streams.eval, conditional,
                                                                             self.device)
            self.eval_key = json.dumps(["tracked", dataset_name, dataset_params, seed, len(self.eval_z)],
                                       sort_keys=True, default=str)
            spec = {"suite": suite, "variant": variant, "dataset": {"name": dataset_name, "params": dataset_params},
                    "seed": seed, "objective": objective, "log_every": log_every, "eval_every": eval_every,
                    "config": config or {}, **({"classes": self.dataset.num_classes} if conditional else {})}
            self.run_id = make_run_id(safe_name(variant, "variant"), safe_name(dataset_name, "data"), seed, spec)
            self.entry = {"id": self.run_id, "variant": variant, "dataset": dataset_name, "seed": seed}
            self.store = RunStore(out, safe_name(suite, "suite"))
            self.steps = steps
            self.evaluation = _evaluation(evaluation, self.device, isinstance(data, (str, dict)), self.stop_on,
                                          live=bool(loggers))
            measurement = {"dataset": {"name": dataset_name, "params": dataset_params}, "steps": steps,
                           "eval_samples": len(self.eval_z), "architecture": _architecture(g, d)}
            self.recorder, arithmetic = self._prepare(spec, check, measurement, loggers)
            self.status, self.step, self.last_eval = "running", 0, 0
            self.should_stop = False
            self._d_grads: list[Tensor | None] | None = None
            # beside: measures each evaluation; deferred: writes each batch of samples (the write leaves the GIL,
            # so the loop's next steps go on meanwhile)
            self._evaluator = (ThreadPoolExecutor(1, thread_name_prefix="ganbench-eval")
                               if self.evaluation in ("beside", "deferred") else None)
            self._pending: tuple[int, Future] | None = None
            # deferred on a CPU: G captured as a program a reader can run at the first evaluation, from which on an
            # evaluation saves G's weights (the tensors the program reads, these names) instead of drawing its samples.
            # None: not tried yet; False: G is no such program
            self._program_state: list[str] | bool | None = (
                None if self.device.type == "cpu" and not conditional else False)  # a program of G(z) alone
            self._deferred = self.store.deferred_dir(self.run_id)
            if self.evaluation == "deferred":
                save_setup(self._deferred, {
                    "dataset": {"name": dataset_name, "params": dataset_params}, "collectors": list(collectors),
                    "objective": objective, "samples": len(self.eval_z), "reference_state": reference_state,
                    "eval_key": self.eval_key, "title": f"{variant} · {dataset_name}",
                    "latents": self.eval_z.cpu(), "chunk": EVAL_CHUNK, "arithmetic": arithmetic,
                    **({"labels": self.eval_y.cpu()} if conditional else {})})

    def _prepare(self, spec: dict[str, Any], check: dict[str, Any] | None, measurement: dict[str, Any],
                 loggers: tuple[str, ...]) -> tuple[RunRecorder, dict[str, Any]]:
        root = self.store.root
        suite_doc = self.store.suite_doc() if (root / "suite.yaml").exists() else {}
        suite_doc.update({"name": self.store.root.name, "tracked": True})
        if check is not None:
            suite_doc["check"] = check
        self.store.prepare(yaml.safe_dump(suite_doc, sort_keys=False))
        self.store.upsert_manifest({**self.entry, "status": "running"})
        collectors = collectors_config(self.collectors)
        measurement["feature_space"] = collectors.get("collectors", {}).get("fid", {}).get("feature_space")
        config = {"run_id": self.run_id, "tracked": spec, "device": str(self.device), **collectors,
                  "dataset": self.dataset.describe(), "detectors": self.detectors, "d_outputs": self.d_outputs,
                  "measurement": measurement, "versions": versions(self.device), "evaluation": self.evaluation,
                  "arithmetic": arithmetic_in_effect(),  # the loop's own: pinned if ganbench came before torch
                  "evaluated_g": "G (the trained weights)" if self.evaluated is self.g else "the loop's EMA of G"}
        # the metrics file opens at the first logged step: a restarted script keeps the rows before it
        return RunRecorder(self.store, self.run_id, config, loggers, self.detectors, lazy=True), config["arithmetic"]

    def _log_step(self, step: int) -> bool:
        return step % self.log_every == 0

    def after_d(self, step: int) -> None:
        """Call right after your D update: on logging steps, keeps D's gradients as that step left them (your G
        step may add to them or zero them), for grad_norm_d."""
        if self._log_step(step) and self.status == "running":
            self._d_grads = [None if p.grad is None else p.grad.detach().clone() for p in self.d.parameters()]

    def log(self, step: int, *, loss_d: Tensor | float, loss_g: Tensor | float, real_out: Tensor, fake_out: Tensor,
            real: Tensor | None = None, fake: Tensor | None = None, labels: Tensor | None = None) -> None:
        """Call once per G step, after it, with ``step`` the number of G updates so far (a loop that updates G on
        every n-th batch counts G updates, not batches). ``real_out`` / ``fake_out``: D's outputs (B, 1) on the
        real and generated batch of its last D step (logits or scores; probabilities where D ends in a sigmoid,
        see ``d_outputs``); ``real`` / ``fake``: a batch of each, to measure ||dD/dx|| on their first 16 samples
        (one extra D pass on logging steps); a conditional loop's D reads them with ``labels`` (B,), the
        classes both batches were judged as (without them, ||dD/dx|| is not measured)."""
        if self.status != "running":
            return
        try:  # not the context manager: this runs on every step, and a try costs nothing
            self._log(step, _number(loss_d), _number(loss_g), real_out, fake_out, real, fake, labels)
        except BaseException as error:
            self._record_end(error)
            raise

    def _log(self, step: int, loss_d: float, loss_g: float, real_out: Tensor, fake_out: Tensor,
             real: Tensor | None, fake: Tensor | None, labels: Tensor | None = None) -> None:
        self._open(step)
        self.step = step
        # most steps end here: two numbers checked, nothing drawn, no tensor made (a step of a small loop takes
        # a few milliseconds, so what the tracker does on every step must cost microseconds)
        losses = loss_d, loss_g
        if not all(math.isfinite(x) and abs(x) <= self.bound for x in losses):
            with self._observing():
                self._write(step, {"loss_d": losses[0], "loss_g": losses[1]})
                self._finish("diverged")
            return
        logging, evaluating = self._log_step(step), step % self.eval_every == 0
        if logging or evaluating:
            with self._observing():
                if logging:
                    real_out, fake_out = self._as_logits(real_out), self._as_logits(fake_out)
                    self._write(step, self._collect(step, losses, real_out, fake_out, real, fake, labels))
                if evaluating:
                    self._evaluate(step)

    def _as_logits(self, out: Tensor) -> Tensor:
        """D's outputs as the objectives read them: probabilities become logits (clamped off 0 and 1)."""
        out = out.detach()
        if self.probabilities:
            return torch.logit(out.double().clamp(1e-12, 1 - 1e-12)).to(out.dtype)
        if self._unit_logs is not None:  # logits leave [0, 1] as D learns; probabilities never do
            varied = out.numel() > 1 and bool(out.max() > out.min())  # a constant (a dead D) says nothing
            unit = bool(((out >= 0) & (out <= 1)).all())
            self._unit_logs = self._unit_logs + varied if unit else None
            if self._unit_logs is not None and self._unit_logs >= 2 * UNIT_LOGS:  # 2: real and fake each log
                self._unit_logs = None
                warnings.warn(f"ganbench.track: D's outputs stayed in [0, 1] for {UNIT_LOGS} logged steps and are "
                              "read as logits; if D ends in a sigmoid, pass d_outputs='probabilities'", stacklevel=4)
        return out

    def _collect(self, step: int, losses: tuple[float, float], real_out: Tensor, fake_out: Tensor,
                 real: Tensor | None, fake: Tensor | None, labels: Tensor | None = None) -> dict[str, float]:
        grads = (None, None)
        readable = self.eval_y is None or labels is not None  # a conditional D needs the batches' labels
        if real is not None and fake is not None and readable and any(c.needs_input_grad for c in self.collectors):
            buffers = [b.detach().clone() for b in self.d.buffers()]  # BatchNorm statistics, spectral-norm u
            x = [b[:INPUT_GRAD_SAMPLES].detach().requires_grad_(True) for b in (real, fake)]
            judge = self.d if labels is None else (lambda v: self.d(v, labels[:INPUT_GRAD_SAMPLES]))
            with torch.enable_grad():
                g_real, g_fake = torch.autograd.grad([judge(x[0]).sum(), judge(x[1]).sum()], x)
            with torch.no_grad():
                for b, saved_b in zip(self.d.buffers(), buffers):
                    b.copy_(saved_b)
            grads = (g_real.flatten(1), g_fake.flatten(1))
        record = StepRecord(step, losses[0], losses[1], real_out.detach(), fake_out.detach(), self.d, self.g,
                            *grads, latent_shape=tuple(self.eval_z.shape[1:]))
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

    def evaluate(self, step: int) -> dict[str, float]:
        """Evaluate G on the fixed latents now (``log`` does it every ``eval_every`` steps), write the sample
        picture, and run the detectors over the metrics so far."""
        with self._ending_on_error(), self._observing():
            return self._evaluate(step, now=True)

    @contextmanager
    def _observing(self):
        """Whatever the tracker draws comes from torch's global RNG state, which is put back afterwards."""
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            yield

    def _evaluate(self, step: int, now: bool = False) -> dict[str, float] | None:
        """G's samples on the fixed latents now; their metrics measured now (``now``, or evaluation in_loop),
        beside the loop (written when the next evaluation or close comes), or deferred to the first read."""
        self._open(step)
        self.step = max(self.step, step)
        mode = "in_loop" if now else self.evaluation
        if mode == "deferred" and self._program_state is None:  # the first: can a reader regenerate G's samples?
            captured = capture_generator(self.evaluated, self.eval_z, EVAL_CHUNK)
            self._program_state = captured is not None and state_names(captured)
            if captured is not None:
                save_program(self._deferred, captured)
        if mode == "deferred" and self._program_state:  # G's weights, and its samples on a few latents (the probe)
            weights = generator_state(self.evaluated, self._program_state)
            saving = save_weights, self._deferred, step, weights, self._samples(self.eval_z[:PROBE])
        else:
            fake = self._samples(self.eval_z)
            saving = save_samples, self._deferred, step, fake
        self._record_pending()  # the previous evaluation's rows come first
        self.last_eval = step
        if mode == "in_loop":
            return self._record(step, *self._measure(step, fake))
        if mode == "beside":
            self._pending = step, self._evaluator.submit(self._measure, step, fake)
            return None
        self._pending = step, self._evaluator.submit(*saving)
        # on the logged steps, the detectors whose events stop the loop (a divergence stops it as it would with
        # in-loop evaluations) and the divergence, which close() reads for the run's status; every detector runs
        # when the run ends, and again once the samples are measured
        self._detect(only={"divergence", *self.stop_on})
        self.recorder.running(self.step)
        return None

    def _samples(self, latents: Tensor) -> Tensor:
        """The evaluated G's samples on ``latents``, in eval mode, in chunks of EVAL_CHUNK."""
        with eval_mode(self.evaluated) as g, torch.no_grad():
            if self.eval_y is None:
                return torch.cat([g(z) for z in latents.split(EVAL_CHUNK)])
            labels = self.eval_y[:len(latents)].split(EVAL_CHUNK)
            return torch.cat([g(z, y) for z, y in zip(latents.split(EVAL_CHUNK), labels)])

    def _measure(self, step: int, fake: Tensor) -> tuple[dict[str, float], bytes]:
        """The evaluation metrics and the sample picture: a pure function of G's samples (no global RNG), so it
        may run on the evaluation thread."""
        with torch.no_grad():  # grad mode is per thread
            values = evaluation_values(self.collectors, EvalContext(step, fake, self.eval_real, self.dataset,
                                                                    self.eval_key, fake_labels=self.eval_y,
                                                                    real_labels=self.eval_real_y))
        title = f"{self.entry['variant']} · {self.entry['dataset']} · step {step}"
        return values, render_samples(fake, self.dataset, title, self.eval_y)

    def _record(self, step: int, values: dict[str, float], png: bytes) -> dict[str, float]:
        self.recorder.write(step, values)
        self.recorder.sample(step, png)
        self._detect()
        self.recorder.running(self.step)
        return values

    def _record_pending(self) -> None:
        if self._pending is not None:
            step, future = self._pending
            self._pending = None
            if self.evaluation == "deferred":
                future.result()  # the samples are on disk (or the write's error is raised here)
            else:
                self._record(step, *future.result())

    def _open(self, step: int) -> None:
        if not self.recorder.opened and self.evaluation == "deferred":  # a restarted script samples these again
            forget_from(self._deferred, step)
        self.recorder.open(step)

    def _write(self, step: int, values: dict[str, float]) -> None:
        self.recorder.write(step, values)

    def _detect(self, only: set[str] | None = None) -> None:
        self.recorder.detect(only)
        if any(e.kind in self.stop_on for e in self.recorder.events):
            self.should_stop = True

    def _finish(self, status: str, **extra: Any) -> None:
        try:
            self._record_pending()
        except Exception:
            if status in ("completed", "diverged"):
                raise  # else the run is ending by an error already, which this one would hide
        finally:
            self._pending = None
            if self._evaluator is not None:
                self._evaluator.shutdown(wait=True, cancel_futures=True)
        self.status = status
        # the step budget, when the loop did not say: the step a run that ran to its end reached
        measured = {"steps": self.step} if self.steps is None and status == "completed" else None
        self.recorder.finish(status, self.step, measured=measured, **extra)
        self.store.upsert_manifest({**self.entry, "status": status})
        stopping = [e.kind for e in self.recorder.events] + (["divergence"] if status == "diverged" else [])
        self.should_stop = self.should_stop or any(kind in self.stop_on for kind in stopping)

    def _end_by(self, error: BaseException) -> None:
        """End a running run by an exception: ``interrupted`` (Ctrl-C) or ``failed`` with its cause."""
        if self.status != "running":
            return
        if isinstance(error, KeyboardInterrupt):
            self._finish("interrupted")
        else:
            self._finish("failed", error="".join(traceback.format_exception_only(type(error), error)).strip())

    def _record_end(self, error: BaseException) -> None:
        """The run ended by ``error``, raised inside the tracker's own work: recorded, never left ``running``."""
        try:
            self._end_by(error)
        except Exception as also:  # the store failing too: the first error is the one to see
            error.add_note(f"ganbench could not record the run as ended: {also}")

    @contextmanager
    def _ending_on_error(self):
        try:
            yield
        except BaseException as error:
            self._record_end(error)
            raise

    def close(self) -> None:
        """End the run: the last logged step is evaluated, events written, status ``completed`` (or
        ``diverged``: the loss exploded, or the divergence detector saw the parameters blow up)."""
        if self.status == "running":
            with self._ending_on_error(), self._observing():
                if self.recorder.opened and self.step > self.last_eval:
                    self._evaluate(self.step)  # the last step is always evaluated
                self._record_pending()
                blew_up = any(e.kind == "divergence" for e in self.recorder.events)
                self._finish("diverged" if blew_up else "completed")

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, kind, error, tb) -> None:
        if kind is None:
            self.close()
        else:
            self._end_by(error)


def _evaluation(given: str, device: torch.device, named_data: bool, stop_on: tuple[str, ...],
                live: bool) -> str:
    """Where evaluations are measured. ``auto``: beside the loop where G trains on a GPU (the CPU idles); on a
    CPU deferred, as a second thread or the measuring itself in the loop slows a loop whose own threads keep
    every core busy (benchmarks/tracking.py) -- in the loop only where a later reader could not rebuild the data
    (your own tensor or Dataset), ``stop_on`` waits for an event only evaluations show, or live loggers
    (``live``) want each evaluation as it comes."""
    if given not in ("auto", *EVALUATIONS):
        raise GanbenchError(f"evaluation must be 'auto', {', '.join(map(repr, EVALUATIONS))}; got {given!r}")
    if given == "deferred" and not named_data:
        raise GanbenchError("evaluation='deferred' rebuilds the data by its name when the results are read; with "
                            "your own samples or Dataset object use evaluation='in_loop' or 'beside'")
    if given != "auto":
        return given
    if device.type == "cuda":
        return "beside"
    return "deferred" if named_data and set(stop_on) <= STEP_EVENTS and not live else "in_loop"


def _latents(z_dim: int | None, z_shape: tuple[int, ...] | None, n: int, generator: torch.Generator) -> Tensor:
    """``n`` N(0, 1) latents of ``z_dim`` numbers, shaped ``(n, *z_shape)`` where G takes them so (a DCGAN's
    ``(N, nz, 1, 1)``): the same numbers either way."""
    if z_shape is None:
        if z_dim is None:
            raise GanbenchError("give z_dim (latents are N(0, 1) of that size), z_shape (G's latent shape without "
                                "the batch, e.g. (100, 1, 1)) or eval_latents")
        z_shape = (z_dim,)
    z_shape = tuple(int(x) for x in z_shape)
    if z_dim is not None and math.prod(z_shape) != z_dim:
        raise GanbenchError(f"z_shape {z_shape} holds {math.prod(z_shape)} numbers, z_dim says {z_dim}")
    return torch.randn(n, math.prod(z_shape), generator=generator).view(n, *z_shape)


def _eval_labels(classes: int | None, eval_labels: Tensor | None, dataset: Dataset, n: int) -> Tensor:
    """A conditional loop's ``n`` evaluation labels: ``eval_labels`` as given, or every class of ``classes`` in
    turn (0, 1, ..., K - 1, 0, ...: each class evenly, as ``ganbench run`` asks)."""
    if not dataset.num_classes:
        raise GanbenchError(f"classes / eval_labels: a conditional loop is measured per class, and the data "
                            f"{type(dataset).__name__} has no class labels (use ring, grid, digits, mnist, ...)")
    if classes is not None and classes != dataset.num_classes:
        raise GanbenchError(f"classes={classes}, but the data has {dataset.num_classes} classes")
    if eval_labels is not None:
        labels = torch.as_tensor(eval_labels).long().flatten()
        if labels.numel() and (labels.min() < 0 or labels.max() >= dataset.num_classes):
            raise GanbenchError(f"eval_labels must be classes 0 to {dataset.num_classes - 1}")
        if len(labels) != n:
            raise GanbenchError(f"eval_labels holds {len(labels)} labels for {n} evaluation latents: give one label "
                                "per latent")
        return labels
    return dataset.even_labels(n)


def _number(value: Tensor | float) -> float:
    return float(value.detach()) if isinstance(value, Tensor) else float(value)


def _architecture(g: nn.Module, d: nn.Module) -> dict[str, Any]:
    """The networks as far as comparing measurements goes: their classes and sizes."""
    return {name: {"class": type(net).__name__, "parameters": sum(p.numel() for p in net.parameters())}
            for name, net in (("g", g), ("d", d))}


def _d_outputs(given: str, d: nn.Module, objective: Objective, name: str) -> tuple[bool, dict[str, str]]:
    """Whether D's outputs are probabilities, and what the run's config says of it. An objective without
    probabilities (least squares, Wasserstein, hinge) reads them as raw scores, as they are."""
    if given not in ("auto", "logits", "probabilities"):
        raise GanbenchError(f"d_outputs must be 'auto', 'logits' or 'probabilities'; got {given!r}")
    if not objective.probabilities:
        if given == "probabilities":
            raise GanbenchError(f"d_outputs='probabilities' needs a BCE-type objective; {name!r} reads D's outputs "
                                "as raw scores (leave d_outputs out)")
        return False, {"read_as": "scores", "because": f"the objective {name!r} reads D's outputs as raw scores"}
    if given != "auto":
        return given == "probabilities", {"read_as": given, "because": "d_outputs given"}
    last = list(d.modules())[-1]
    if isinstance(last, nn.Sigmoid):
        return True, {"read_as": "probabilities", "because": "D's last module is a Sigmoid"}
    return False, {"read_as": "logits", "because": "D's last module is no Sigmoid (auto)"}


def track(out: str | Path = "results", **options: Any) -> Tracker:
    """Start tracking a run of your own loop into ``out/<suite>/`` (see ``Tracker`` for the options)."""
    return Tracker(out, **options)
