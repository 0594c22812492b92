"""The training loop: n_critic D steps, one G step, collectors on logging steps, evaluation on the fixed
latent batch every ``eval_every`` steps, checkpoints every ``checkpoint_every`` steps.

One loop drives a *trainer*: ``SingleTrainer`` trains one run; ``ganbench.training.ensemble.EnsembleTrainer`` trains
the seeds of one variant together as a seed ensemble. Either way each run (member) gets its own metrics,
samples, events, checkpoint and status, so everything downstream reads one layout.

A non-finite loss, or one whose magnitude passes the divergence detector's ``bound`` (unless the suite sets
``train.stop_on_divergence: false``), ends a run as ``diverged`` at the step it appeared (an ensemble's other
members go on); it never raises.
"""

from __future__ import annotations

import json
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import functional_call

from ganbench.data import Dataset, make_dataset
from ganbench.data.pictures import render_samples
from ganbench.errors import GanbenchError
from ganbench.metrics import (
    Collector,
    EvalContext,
    StepRecord,
    collectors_config,
    evaluation_values,
    make_collectors,
    step_values,
)
from ganbench.models import build_models, packed_d
from ganbench.models.base import eval_mode, final_features
from ganbench.recipes.augment import AdaptiveP, augment
from ganbench.recipes.objectives import Objective
from ganbench.recipes.regularizers import Regularizer, make_regularizer
from ganbench.recipes.schedules import lr_factor, weight_factor
from ganbench.recipes.unroll import unrolled_params
from ganbench.results.store import RunStore
from ganbench.spec.suite import RunSpec
from ganbench.training.conditional import ConditionalSteps
from ganbench.training.ema import GeneratorEMA
from ganbench.training.interrupt import interrupt_between_steps
from ganbench.training.record import RunRecorder, divergence_bound
from ganbench.training.seeding import Streams, apply_determinism, make_streams
from ganbench.versions import arithmetic_in_effect, versions

Progress = Callable[[int, int], None]  # (step, total steps)


@dataclass
class Run:
    """Everything one run (or one ensemble member) is, built from its RunSpec; the trainer owns the updates."""

    spec: RunSpec
    device: torch.device
    dataset: Dataset
    g: nn.Module
    d: nn.Module
    objective: Objective
    regularizer: Regularizer
    collectors: list[Collector]
    streams: Streams
    eval_z: Tensor  # (N, z_dim) fixed evaluation latents: the same for every variant with this seed
    eval_real: Tensor  # (N, *sample_shape) fixed real samples for FID
    eval_real_key: str  # what determines eval_real: the dataset with its parameters, the seed and N
    eval_seconds: float = 0.0  # wall time spent evaluating (reported in status.json, never in metrics)
    g_ema: GeneratorEMA | None = None  # the averaged G that evaluation measures, when the recipe keeps one
    # conditional runs: the evaluation labels (N,), the fixed real samples' labels (N,), the last real batch's
    eval_y: Tensor | None = None
    eval_real_y: Tensor | None = None
    batch_labels: Tensor | None = None

    @property
    def evaluated_g(self) -> nn.Module:
        return self.g if self.g_ema is None else self.g_ema.module

    @property
    def draws(self) -> int:
        """Samples per batch: ``batch_size`` packs of ``pack`` samples (PacGAN; one sample each without packing)."""
        return self.spec.train.batch_size * self.spec.recipe.pack

    def real_batch(self) -> Tensor:  # (draws, *sample_shape) from the data stream
        if self.eval_y is None:
            return self.dataset.sample(self.draws, self.streams.data).to(self.device)
        x, y = self.dataset.sample_labeled(self.draws, self.streams.data)  # the same draw, read with its labels
        self.batch_labels = y.to(self.device)
        return x.to(self.device)

    def real_labels(self) -> Tensor:  # (draws,) the labels of the last real batch
        return self.batch_labels

    def labels(self) -> Tensor:  # (draws,) class labels for G from the latent stream, as the data has its classes
        return torch.multinomial(self.dataset.label_prior(), self.draws, replacement=True,
                                 generator=self.streams.latent).to(self.device)

    def latents(self) -> Tensor:  # (draws, z_dim) from the latent stream
        return torch.randn(self.draws, self.spec.train.z_dim, generator=self.streams.latent).to(self.device)

    def noise(self) -> Tensor:  # (draws, *sample_shape) N(0, 1) from the data stream, for instance noise
        return torch.randn(self.draws, *self.dataset.sample_shape, generator=self.streams.data).to(self.device)

    def uniform(self, *shape: int) -> Tensor:  # (draws, *shape) U(0, 1) from the data stream, for penalties that sample
        return torch.rand(self.draws, *shape, generator=self.streams.data).to(self.device)

    def augment_uniform(self, *shape: int) -> Tensor:  # (draws, *shape) U(0, 1) from the augmentation stream
        return torch.rand(self.draws, *shape, generator=self.streams.augment).to(self.device)


@dataclass
class StepOutput:
    """One generator step (after its n_critic D steps). Every tensor has a leading member dim: 1 for a single
    run, K for an ensemble."""

    loss_d: Tensor  # (M,) last D step's loss, penalty included
    loss_g: Tensor  # (M,)
    real_out: Tensor  # (M, B, 1) raw D outputs in the last D step
    fake_out: Tensor  # (M, B, 1)
    input_grads: tuple[Tensor, Tensor] | None = None  # (M, B, features) dD/dx on real and fake, when asked


def check_device(name: str) -> None:
    """Raise GanbenchError when the device ``name`` cannot be had here: before any run starts, not in each."""
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise GanbenchError(f"device {name!r}: CUDA is not available on this machine (use auto or cpu)")
        index = torch.device(name).index
        if index is not None and index >= torch.cuda.device_count():
            raise GanbenchError(f"device {name!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif name == "mps" and not torch.backends.mps.is_available():
        raise GanbenchError("device 'mps': Apple's Metal backend is not available on this machine (use auto or cpu)")


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} requested but CUDA is not available")
    return device


def make_optimizer(name: str, params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    raise GanbenchError(f"unknown optimizer {name!r}: adam, rmsprop or sgd")


def build_run(spec: RunSpec, device: torch.device) -> Run:
    recipe = spec.recipe
    dataset = make_dataset(spec.dataset.name, spec.dataset.params)  # built once per process: members share it
    streams = make_streams(spec.seed)
    with torch.random.fork_rng(devices=[]):  # module initializers draw from the global RNG
        torch.manual_seed(streams.init)
        g, d = build_models(spec.architecture.name, spec.architecture.params, dataset.sample_shape,
                            spec.train.z_dim, recipe.spectral_norm, recipe.minibatch_std, recipe.feature_matching,
                            recipe.conditioning, dataset.num_classes or 0, recipe.conditional_bn)
        if recipe.pack > 1:  # D for m samples side by side, initialized after today's G and D
            d = packed_d(spec.architecture, dataset.sample_shape, spec.train.z_dim, recipe.spectral_norm, recipe.pack,
                         recipe.minibatch_std, recipe.feature_matching)
    g, d = g.to(device), d.to(device)
    objective = recipe.build_objective()
    n = spec.train.eval_samples
    eval_z = torch.randn(n, spec.train.z_dim, generator=streams.eval).to(device)
    eval_y = dataset.even_labels(n).to(device) if recipe.conditional else None
    eval_real, eval_real_y = dataset.evaluation_reals(n, streams.eval, recipe.conditional, device)
    real_key = json.dumps([spec.dataset.name, spec.dataset.params, spec.seed, n], sort_keys=True)
    # the average starts from G's own initial weights, before an ensemble stacks them
    ema = GeneratorEMA(g, recipe.g_ema, recipe.g_ema_start, recipe.g_ema_rampup) if recipe.g_ema is not None else None
    collectors = make_collectors(spec.collectors, dataset, objective, device, recipe.conditional)
    return Run(spec, device, dataset, g, d, objective, make_regularizer(recipe.regularizer, recipe.regularizer_weight),
               collectors, streams, eval_z, eval_real, real_key, g_ema=ema, eval_y=eval_y, eval_real_y=eval_real_y)


class Trainer(ConditionalSteps, ABC):
    """n_critic D updates and one G update of ``d`` and ``g``, written once for a single run and for a seed
    ensemble. Step tensors have ``batch_dims`` leading batch dims: (B, ...) for one run, (K, B, ...) for K
    members; subclasses say how a draw is taken from the members' streams and how losses are formed."""

    batch_dims = 1

    def __init__(self, members: list[Run], g: nn.Module, d: nn.Module) -> None:
        recipe = members[0].spec.recipe
        self.members, self.g, self.d = members, g, d
        self.objective, self.regularizer = members[0].objective, members[0].regularizer
        self.opt_g = make_optimizer(recipe.optimizer, g.parameters(), recipe.g_lr, recipe.betas)
        self.opt_d = make_optimizer(recipe.optimizer, d.parameters(), recipe.d_lr, recipe.betas)
        # what the schedules set this step, where they move it: lr_d, lr_g, penalty_scale (logged as metrics)
        self.scheduled: dict[str, float] = {}
        ada = recipe.ada_target
        batch = members[0].spec.train.batch_size
        shape = (len(members),) if self.batch_dims == 2 else ()
        self.ada = AdaptiveP(ada, batch, shape) if ada is not None else None

    def schedule(self, step: int, steps: int) -> None:
        """Set D's and G's learning rates and the penalties' weight for G step ``step`` of ``steps`` (a pure
        function of the step: a resumed run sets the same values)."""
        recipe = self.members[0].spec.recipe
        if recipe.lr_schedule != "constant":
            factor = lr_factor(recipe.lr_schedule, step, steps, recipe.lr_decay_start)
            for opt, base in ((self.opt_d, recipe.d_lr), (self.opt_g, recipe.g_lr)):
                for group in opt.param_groups:
                    group["lr"] = base * factor
            self.scheduled.update(lr_d=recipe.d_lr * factor, lr_g=recipe.g_lr * factor)
        if recipe.regularizer_schedule != "constant":
            self.scheduled["penalty_scale"] = weight_factor(recipe.regularizer_schedule, step, steps,
                                                            recipe.regularizer_weight_end)

    def controls(self, index: int) -> dict[str, float] | None:
        """What this step set for member ``index`` where it moves (learning rates, the penalties' scale, ADA's p),
        for its metrics."""
        values = dict(self.scheduled)
        if self.ada is not None:
            values["augment_p"] = float(self.ada.p[index] if self.ada.p.dim() else self.ada.p)
        return values or None

    def augmented(self, x: Tensor) -> Tensor:
        """What D sees of ``x`` (*batch, C, H, W) under the recipe's differentiable augmentation."""
        recipe = self.members[0].spec.recipe
        p = recipe.augment_p if self.ada is None else self.ada.p
        if not recipe.augment or (self.ada is None and p <= 0):
            return x
        lead = x.shape[:self.batch_dims]
        n = lead.numel()
        uniform = lambda *shape: self.draw(lambda run: run.augment_uniform(*shape)).reshape(n, *shape)  # noqa: E731
        if isinstance(p, Tensor):  # ADA: one p per member, so per sample
            p = p.to(x.device).repeat_interleave(lead[-1]) if p.dim() else p.to(x.device)
        return augment(x.reshape(n, *x.shape[self.batch_dims:]), recipe.augment, p, uniform).reshape(x.shape)

    def noisy(self, x: Tensor) -> Tensor:
        """Instance noise (Sonderby et al. 2017): what D sees, real or fake, blurred by N(0, sigma^2)."""
        sigma = self.members[0].spec.recipe.instance_noise
        return x + sigma * self.draw(Run.noise) if sigma else x

    def d_loss(self, real_out: Tensor, fake_out: Tensor) -> Tensor:  # one loss per member
        return self.objective.d_loss(real_out, fake_out)

    def g_loss(self, real_out: Tensor | None, fake_out: Tensor) -> Tensor:
        return self.objective.g_loss(real_out, fake_out)

    @abstractmethod
    def draw(self, what: Callable[[Run], Tensor]) -> Tensor:
        """``what`` from each member's own streams: (B, ...) for one run, (K, B, ...) stacked for K."""

    @abstractmethod
    def per_member(self, t: Tensor) -> Tensor:
        """``t`` with the leading member dim of StepOutput."""

    @abstractmethod
    def member_state(self, index: int, step: int) -> dict[str, Any]:
        """A checkpoint of one member, in the single-run layout."""

    @abstractmethod
    def load_states(self, states: Sequence[dict[str, Any]]) -> None:
        """Restore every member from its checkpoint (all at the same step)."""

    def checkpoint(self, index: int, step: int) -> dict[str, Any]:
        """Member ``index``'s checkpoint: its networks, optimizers and streams (``member_state``) and what the
        recipe remembers for it -- its EMA of G, its slice of the regularizer's and ADA's state."""
        state = self.member_state(index, step)
        run = self.members[index]
        if run.g_ema is not None:
            state["g_ema"] = run.g_ema.state_dict()
        own = lambda t: (t[index] if self.batch_dims == 2 and t.dim() else t).clone()  # noqa: E731
        for key, part in (("regularizer", self.regularizer), ("ada", self.ada)):
            remembered = part.state() if part is not None else {}
            if remembered:
                state[key] = {name: own(t) for name, t in remembered.items()}
        return state

    def restore(self, states: Sequence[dict[str, Any]]) -> None:
        """Every member from its ``checkpoint`` (all at the same step)."""
        self.load_states(states)
        for run, state in zip(self.members, states):
            if run.g_ema is not None:
                run.g_ema.load_state_dict(state["g_ema"])
        stack = self.batch_dims == 2
        for key, part in (("regularizer", self.regularizer), ("ada", self.ada)):
            if part is not None and key in states[0]:
                part.load_state({name: torch.stack([s[key][name] for s in states]) if stack else states[0][key][name]
                                 for name in states[0][key]})

    def d_step(self, input_grad: bool) -> tuple[Tensor, Tensor, Tensor, tuple[Tensor, Tensor] | None]:
        real, z = self.draw(Run.real_batch), self.draw(Run.latents)
        y = self.draw(Run.real_labels) if self.conditional else None  # G draws fakes of the real batch's classes
        with torch.no_grad():
            fake = self.generate(z, y).detach()  # a vmapped view of a stacked parameter keeps requires_grad even here
        real, fake = self.augmented(self.noisy(real)), self.augmented(self.noisy(fake))
        real.requires_grad_(input_grad)
        fake.requires_grad_(input_grad)
        (real_out, real_logits), (fake_out, fake_logits) = self.judge(real, y), self.judge(fake, y)  # (*batch, 1)
        if self.ada is not None:
            self.ada.observe(real_out)
        loss = self.d_loss(real_out, fake_out)
        for term in self.d_class_terms(real_logits, fake_logits, y):
            loss = loss + term
        uniform = lambda *shape: self.draw(lambda run: run.uniform(*shape))  # noqa: E731
        scale = self.scheduled.get("penalty_scale", 1.0)
        penalty = self.regularizer.penalty(self.judged_as(y), real, fake, uniform, self.batch_dims)
        if penalty is not None:
            loss = loss + scale * penalty
        on_outputs = self.regularizer.output_penalty(real_out, fake_out, self.batch_dims)
        if on_outputs is not None:
            loss = loss + scale * on_outputs
        grads = None
        if input_grad:  # dD/dx on logging steps only; reuses this step's forward pass
            grads = torch.autograd.grad((real_out.sum(), fake_out.sum()), (real, fake), retain_graph=True)
            grads = (grads[0].flatten(self.batch_dims), grads[1].flatten(self.batch_dims))
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward(torch.ones_like(loss))  # gradient 1 for each member's loss: member k gets exactly its own
        self.opt_d.step()
        self.regularizer.after_d_step(self.d)
        return loss.detach(), real_out.detach(), fake_out.detach(), grads

    def g_step(self) -> Tensor:
        z = self.draw(Run.latents)
        self.d.requires_grad_(False)  # G's step needs no D weight gradients; D's .grad keeps its last step's values
        real_out = None
        recipe = self.members[0].spec.recipe
        if recipe.feature_matching:
            loss = self.feature_matching(z)
        elif recipe.unroll:
            loss = self.unrolled_g_loss(z, recipe.unroll)
        else:
            y = self.draw(Run.labels) if self.conditional else None
            if self.objective.g_needs_real:  # relativistic: D on real data, a constant as far as G is concerned
                with torch.no_grad():
                    real = self.augmented(self.noisy(self.draw(Run.real_batch)))
                    real_out = self.judge(real, self.draw(Run.real_labels) if self.conditional else None)[0]
            fake_out, fake_logits = self.judge(self.augmented(self.noisy(self.generate(z, y))), y)
            loss = self.g_loss(real_out, fake_out) + self.g_class_loss(fake_logits, y)
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward(torch.ones_like(loss))
        self.opt_g.step()
        self.d.requires_grad_(True)
        return loss.detach()

    def feature_matching(self, z: Tensor) -> Tensor:
        """Salimans et al. (2016), eq. in section 3.1: G's loss ||E f(x) - E f(G(z))||^2, f being D's final
        features (its head's input), the real mean a constant for G; one loss per member."""
        with final_features(self.d) as features:
            with torch.no_grad():
                real = features(self.augmented(self.noisy(self.draw(Run.real_batch))))
            fake = features(self.augmented(self.noisy(self.g(z))))
        return (real.mean(dim=-2) - fake.mean(dim=-2)).pow(2).sum(dim=-1)

    def unrolled_g_loss(self, z: Tensor, k: int) -> Tensor:
        """G's loss against D after ``k`` of its optimizer's updates on one real batch and G(z), differentiated
        through them (Metz et al. 2017; ganbench.recipes.unroll)."""
        real = self.augmented(self.noisy(self.draw(Run.real_batch)))
        fake = self.augmented(self.noisy(self.g(z)))
        ahead = unrolled_params(self.d, self.opt_d, k, real, fake, self.d_loss)
        d = lambda x: functional_call(self.d, ahead, (x,))  # noqa: E731
        return self.g_loss(d(real) if self.objective.g_needs_real else None, d(fake))

    def step(self, log: bool, input_grad: bool) -> StepOutput:
        """On ``log`` steps every member's ``d``/``g`` hold the gradients of their last update (.grad), for the
        collectors."""
        n_critic = self.members[0].spec.recipe.n_critic
        for i in range(n_critic):
            loss_d, real_out, fake_out, grads = self.d_step(input_grad and i == n_critic - 1)
        loss_g = self.g_step()
        lead = self.per_member
        return StepOutput(lead(loss_d), lead(loss_g), lead(real_out), lead(fake_out),
                          None if grads is None else (lead(grads[0]), lead(grads[1])))


class SingleTrainer(Trainer):
    """One run, trained eagerly on its own modules."""

    def __init__(self, members: list[Run]) -> None:
        (self.run,) = members
        super().__init__(members, self.run.g, self.run.d)

    def draw(self, what: Callable[[Run], Tensor]) -> Tensor:
        return what(self.run)

    def per_member(self, t: Tensor) -> Tensor:
        return t[None]

    def member_state(self, index: int, step: int) -> dict[str, Any]:
        run = self.run
        return {"step": step, "g": run.g.state_dict(), "d": run.d.state_dict(), "opt_g": self.opt_g.state_dict(),
                "opt_d": self.opt_d.state_dict(), "rng": run.streams.state()}

    def load_states(self, states: Sequence[dict[str, Any]]) -> None:
        (state,) = states
        self.run.g.load_state_dict(state["g"])
        self.run.d.load_state_dict(state["d"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.run.streams.load_state(state["rng"])


@torch.no_grad()
def _evaluate(run: Run, step: int) -> tuple[dict[str, float], bytes]:
    with eval_mode(run.evaluated_g) as g:
        fake = g(run.eval_z) if run.eval_y is None else g(run.eval_z, run.eval_y)  # (N, *sample_shape)
    values = evaluation_values(run.collectors, EvalContext(step, fake, run.eval_real, run.dataset,
                                                           run.eval_real_key, fake_labels=run.eval_y,
                                                           real_labels=run.eval_real_y))
    title = f"{run.spec.variant} · {run.spec.dataset.name} · seed {run.spec.seed} · step {step}"
    return values, render_samples(fake, run.dataset, title, run.eval_y)


@dataclass
class _Member:
    """A run while its trainer trains it: what it records, evaluates and checkpoints, and how far it got."""

    index: int  # position in the trainer's members
    run: Run
    recorder: RunRecorder
    progress: Progress | None
    status: str = "running"
    step: int = 0

    def diverged(self, step: int, losses: Tensor) -> None:
        """The first non-finite (or past-bound) losses end the run there."""
        self.recorder.write(step, {"loss_d": float(losses[0]), "loss_g": float(losses[1])})
        self.status, self.step = "diverged", step

    def record(self, step: int, out: StepOutput, controls: dict[str, float] | None) -> None:
        k = self.index
        grads = (None, None) if out.input_grads is None else (out.input_grads[0][k], out.input_grads[1][k])
        record = StepRecord(step, out.loss_d[k], out.loss_g[k], out.real_out[k], out.fake_out[k], self.run.d,
                            self.run.g, *grads, controls=controls, latent_shape=tuple(self.run.eval_z.shape[1:]))
        self.recorder.write(step, step_values(self.run.collectors, record))

    def evaluate(self, step: int) -> None:
        began = time.perf_counter()
        values, png = _evaluate(self.run, step)
        self.run.eval_seconds += time.perf_counter() - began
        self.recorder.write(step, values)
        self.recorder.sample(step, png)
        if self.run.spec.train.keep_best:
            self._keep_if_best(step, values.get(self.run.spec.train.keep_best, math.nan))

    def _keep_if_best(self, step: int, value: float) -> None:
        """``train.keep_best``: the evaluated G's weights go to best.pt when this evaluation is strictly better
        than every earlier one, kept rows of a resumed run included (the first best wins a tie; NaN never wins)."""
        metric = self.run.spec.train.keep_best
        rows = self.recorder.writer.frame()
        earlier = rows.value[(rows.name == metric) & (rows.step < step)]
        info = next(m for c in self.run.collectors for m in c.metrics if m.name == metric)
        sign = 1.0 if info.higher_is_better else -1.0
        if math.isnan(value) or any(sign * x >= sign * value for x in earlier):  # NaN compares false: never blocks
            return
        g = {name: t.detach().clone() for name, t in self.run.evaluated_g.state_dict().items()}
        self.recorder.keep_best({"step": step, "metric": metric, "value": value, "g": g,
                                 "evaluated_g": _evaluated_g(self.run.spec.recipe)})

    def reached(self, step: int, total: int) -> None:
        self.step = step
        if self.progress:
            self.progress(step, total)


def _first_diverged(window: Tensor, first_step: int, bound: float = math.inf) -> list[tuple[int, Tensor] | None]:
    """Per member, the first step whose (loss_d, loss_g) is not finite or past ``bound`` in magnitude: checked
    once per logging window."""
    bad = (~torch.isfinite(window) | (window.abs() > bound)).any(dim=-1)  # window (steps, M, 2) -> (steps, M)
    found = []
    for m, any_bad in enumerate(bad.any(dim=0).tolist()):  # one sync for the whole window
        if not any_bad:
            found.append(None)
            continue
        i = int(bad[:, m].nonzero()[0, 0])
        found.append((first_step + i, window[i, m]))
    return found


def _loop(trainer: Trainer, members: list[_Member], start: int,
          interrupted: Callable[[], bool] = lambda: False) -> None:
    spec = trainer.members[0].spec
    cfg = spec.train
    want_grad = any(c.needs_input_grad for c in trainer.members[0].collectors)
    bound = divergence_bound(spec.detectors, spec.train.stop_on_divergence)
    window: list[Tensor] = []  # every step's losses since the last logging step, checked for divergence there
    for step in range(start + 1, cfg.steps + 1):
        if interrupted():
            raise KeyboardInterrupt
        evaluate = step % cfg.eval_every == 0 or step == cfg.steps
        checkpoint = step % cfg.checkpoint_every == 0 and step < cfg.steps
        log = step % cfg.log_every == 0 or evaluate or checkpoint  # a checkpoint is never of diverged weights
        trainer.schedule(step, cfg.steps)
        out = trainer.step(log, want_grad and log)
        for run in trainer.members:
            if run.g_ema is not None:
                run.g_ema.update(run.g, step)
        window.append(torch.stack([out.loss_d, out.loss_g], dim=-1))  # (M, 2)
        if not log:
            continue
        diverged = _first_diverged(torch.stack(window), step - len(window) + 1, bound)
        window = []
        for member in (m for m in members if m.status == "running"):
            if diverged[member.index] is not None:
                member.diverged(*diverged[member.index])
                continue
            member.record(step, out, trainer.controls(member.index))
            if evaluate:
                member.evaluate(step)
            if checkpoint:
                member.recorder.checkpoint(trainer.checkpoint(member.index, step))
            member.reached(step, cfg.steps)
        if all(m.status != "running" for m in members):
            return
    for member in members:
        if member.status == "running":
            member.status = "completed"


def run_config(run: Run, determinism: dict[str, Any], ensemble: list[str] | None = None) -> dict[str, Any]:
    spec, collectors = run.spec.to_dict(), collectors_config(run.collectors)
    measurement = {"feature_space": collectors.get("collectors", {}).get("fid", {}).get("feature_space"),
                   "eval_samples": spec["train"]["eval_samples"], "dataset": spec["dataset"],
                   "steps": spec["train"]["steps"], "architecture": spec["architecture"]}
    config = {"run_id": run.spec.run_id, "spec": spec, "device": str(run.device), "determinism": determinism,
              **collectors, "dataset": run.dataset.describe(), "measurement": measurement,
              "evaluated_g": _evaluated_g(run.spec.recipe),
              "versions": versions(run.device), "arithmetic": arithmetic_in_effect()}
    if ensemble is not None:
        config["ensemble"] = {"size": len(ensemble), "members": ensemble}
    return config


def _evaluated_g(recipe) -> str:
    """Which G every evaluation metric and sample picture measured, as config.json says it."""
    if recipe.g_ema is None:
        return "G (the trained weights)"
    ramp = "" if recipe.g_ema_rampup is None else f", half-life at most {recipe.g_ema_rampup} x the steps so far"
    return f"EMA of G (decay {recipe.g_ema}, a copy of G for the first {recipe.g_ema_start} steps{ramp})"


def _resume_step(store: RunStore, specs: Sequence[RunSpec]) -> tuple[int, list[dict[str, Any]] | None]:
    """Where training starts: every run's checkpoint if they all stopped at the same step, else step 0
    (an ensemble killed between two members' checkpoint writes restarts; its members train in lockstep)."""
    states = [store.load_checkpoint(s.run_id) for s in specs]
    steps = {int(s["step"]) if s else 0 for s in states}
    if len(steps) != 1 or 0 in steps:
        return 0, None
    return steps.pop(), states


def train_runs(specs: Sequence[RunSpec], store: RunStore, make_trainer: Callable[[list[Run]], Trainer],
               progress: Callable[[RunSpec], Progress | None] = lambda spec: None, device: str | None = None
               ) -> list[dict[str, Any]]:
    """Train ``specs`` with one trainer (resuming from their checkpoints) and return each run's final status.
    ``device`` overrides the specs' own (the processes executor spreads jobs over GPUs with it)."""
    began = time.perf_counter()
    device = resolve_device(device or specs[0].device)
    determinism = apply_determinism(specs[0].deterministic, device)
    trainer = make_trainer([build_run(spec, device) for spec in specs])
    start, states = _resume_step(store, specs)
    if states:
        trainer.restore(states)
        for spec in specs:
            store.forget_best_after(spec.run_id, start)
    ensemble = [s.run_id for s in specs] if specs[0].train.ensemble else None
    members = []
    for k, run in enumerate(trainer.members):
        recorder = RunRecorder(store, run.spec.run_id, run_config(run, determinism, ensemble), run.spec.loggers,
                               run.spec.detectors, resume_step=start if states else None, began=began)
        members.append(_Member(k, run, recorder, progress(run.spec), step=start))
    try:
        with interrupt_between_steps() as interrupted:
            _loop(trainer, members, start, interrupted)
    except BaseException:
        for member in members:
            member.recorder.abort()
        raise
    return [m.recorder.finish(m.status, m.step, eval_time_s=round(m.run.eval_seconds, 3), resumed_from=start)
            for m in members]
