"""Per-step collectors: losses, discriminator outputs, gradient norms."""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import Tensor, nn

from ganbench.meta import MetricInfo
from ganbench.metrics.base import COLLECTORS, Collector, StepRecord
from ganbench.models.base import eval_mode


@COLLECTORS.register("losses")
class Losses(Collector):
    metrics = (MetricInfo("loss_d", "D's loss in its last step of the G step, penalty included"),
               MetricInfo("loss_g", "G's loss"),
               MetricInfo("lr_d", "D's learning rate at this step (logged where a schedule moves it)"),
               MetricInfo("lr_g", "G's learning rate at this step (logged where a schedule moves it)"),
               MetricInfo("augment_p", "the probability each augmentation is applied to a sample (logged where "
                                       "ADA moves it)"))

    def on_step(self, record: StepRecord) -> dict[str, Tensor | float]:
        values = {"loss_d": record.loss_d, "loss_g": record.loss_g}
        values.update(record.controls or {})
        return values


@COLLECTORS.register("d_outputs")
class DOutputs(Collector):
    """Mean D output on real and fake (probabilities for BCE-type objectives, raw scores otherwise), D's
    accuracy at the objective's decision threshold, and for probabilities the gap D(x) - D(G(z))."""

    metrics = (MetricInfo("d_real", "mean D output on real data (a probability where the objective has one)"),
               MetricInfo("d_fake", "mean D output on generated data (a probability where the objective has one)"),
               MetricInfo("d_accuracy", "D's accuracy at its objective's decision threshold, real and fake averaged"),
               MetricInfo("d_gap", "D(x) - D(G(z)) as probabilities (BCE-type objectives only)"),
               MetricInfo("d_out_std", "std of D's raw outputs over the real and generated batch together: 0 when "
                                       "D answers every input alike (a dead or pinned D)"))

    def on_step(self, record: StepRecord) -> dict[str, Tensor]:
        real = self.objective.score(record.d_real_out)
        fake = self.objective.score(record.d_fake_out)
        t = self.objective.threshold
        accuracy = ((real > t).float().mean() + (fake < t).float().mean()) / 2
        raw = torch.cat([record.d_real_out.flatten(), record.d_fake_out.flatten()]).double()
        out = {"d_real": real.mean(), "d_fake": fake.mean(), "d_accuracy": accuracy, "d_out_std": raw.std()}
        if self.objective.probabilities:
            out["d_gap"] = out["d_real"] - out["d_fake"]
        return out

    def describe(self) -> dict[str, Any]:
        return {"d_outputs": "probability" if self.objective.probabilities else "raw score",
                "d_accuracy_threshold": self.objective.threshold}


def _grad_norms(module: nn.Module) -> tuple[list[str], list[Tensor]]:
    named = [(n, p.grad) for n, p in module.named_parameters() if p.grad is not None]
    if not named:
        return [], []
    names, grads = zip(*named)
    return list(names), list(torch._foreach_norm(list(grads)))  # one fused kernel for every tensor


@COLLECTORS.register("grad_norms")
class GradNorms(Collector):
    """Total L2 gradient norms of D (last D step) and G, per-layer norms of D, ||dD/dx|| on real and fake
    (the sharpness behind D-overpowering). G's norm relative to its early median is derived from this
    stream by the d_overpowering detector, so the collector keeps no state."""

    metrics = (MetricInfo("grad_norm_d", "total L2 norm of D's parameter gradients in its last step"),
               MetricInfo("grad_norm_g", "total L2 norm of G's parameter gradients"),
               MetricInfo("grad_norm_d/*", "L2 norm of one D parameter's gradient"),
               MetricInfo("grad_norm_d_input", "mean ||dD/dx|| over real and fake samples"),
               MetricInfo("grad_norm_d_input_real", "mean ||dD/dx|| over real samples"),
               MetricInfo("grad_norm_d_input_fake", "mean ||dD/dx|| over generated samples"))

    needs_input_grad = True

    def on_step(self, record: StepRecord) -> dict[str, Tensor | float]:
        out: dict[str, Tensor | float] = {}
        for prefix, module in (("grad_norm_d", record.d), ("grad_norm_g", record.g)):
            names, norms = _grad_norms(module)
            if norms:
                out[prefix] = torch.linalg.vector_norm(torch.stack(norms))
            if prefix == "grad_norm_d":
                out.update({f"grad_norm_d/{n}": x for n, x in zip(names, norms)})
        if record.d_input_grad_real is not None:
            out["grad_norm_d_input_real"] = record.d_input_grad_real.norm(dim=1).mean()
            out["grad_norm_d_input_fake"] = record.d_input_grad_fake.norm(dim=1).mean()
            out["grad_norm_d_input"] = (out["grad_norm_d_input_real"] + out["grad_norm_d_input_fake"]) / 2
        return out


def _param_rms(module: nn.Module) -> Tensor:
    """Root mean square of a module's parameters (non-finite when any parameter is)."""
    params = [p.detach() for p in module.parameters()]
    if not params:
        return torch.tensor(0.0)
    count = sum(p.numel() for p in params)
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(params))) / count ** 0.5


@COLLECTORS.register("param_norms")
class ParamNorms(Collector):
    """The root mean square of D's and of G's parameters: a blow-up shows here even when a clamped loss
    (``nn.BCELoss`` caps each log term at 100) keeps the loss bounded. Trained weights rarely pass 1."""

    metrics = (MetricInfo("param_rms_d", "root mean square of D's parameters"),
               MetricInfo("param_rms_g", "root mean square of G's parameters"))

    def on_step(self, record: StepRecord) -> dict[str, Tensor]:
        return {"param_rms_d": _param_rms(record.d), "param_rms_g": _param_rms(record.g)}


def layer_sigmas(module: nn.Module) -> dict[str, Tensor]:
    """The largest singular value of each linear or convolutional layer's weight as the layer applies it (after
    any spectral normalization), keyed by the layer's name. A convolution's kernel is read as the matrix
    (out channels, in channels x kernel), the bound Miyato et al. (2018) normalize -- not the operator norm of
    the convolution itself."""
    sigmas = {}
    for name, layer in module.named_modules():
        if isinstance(layer, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)):
            weight = layer.weight.detach()
            if isinstance(layer, nn.ConvTranspose2d):
                weight = weight.transpose(0, 1)  # stored (in, out, k, k)
            sigmas[name] = torch.linalg.matrix_norm(weight.flatten(1).double(), ord=2)
    return sigmas


@COLLECTORS.register("spectral_norms")
class SpectralNorms(Collector):
    """The spectral norm of every layer of D and of G (``sigma_d/<layer>``, ``sigma_g/<layer>``) and their
    products (``sigma_d_product``: a bound on D's Lipschitz constant for 1-Lipschitz activations), every
    ``every`` steps: a D whose layers grow without bound sharpens into the overconfident D of overfitting and
    collapse, and spectral normalization should hold each of its layers at 1."""

    every = 50
    metrics = (MetricInfo("sigma_d/*", "largest singular value of one D layer's weight as applied"),
               MetricInfo("sigma_g/*", "largest singular value of one G layer's weight as applied"),
               MetricInfo("sigma_d_product", "product of D's layer spectral norms (a Lipschitz bound)"),
               MetricInfo("sigma_g_product", "product of G's layer spectral norms"))

    def on_step(self, record: StepRecord) -> dict[str, Tensor | float]:
        if record.step % self.every:
            return {}
        out: dict[str, Tensor | float] = {}
        for side, module in (("d", record.d), ("g", record.g)):
            # reading a spectral-normalized weight in train mode would advance its power iteration
            with eval_mode(module), torch.no_grad():
                sigmas = layer_sigmas(module)
            out.update({f"sigma_{side}/{name}": x for name, x in sigmas.items()})
            if sigmas:
                out[f"sigma_{side}_product"] = torch.stack(list(sigmas.values())).prod()
        return out


@COLLECTORS.register("g_conditioning")
class GConditioning(Collector):
    """The conditioning of G's input-output Jacobian (Odena et al. 2018, "Is Generator Conditioning Causally
    Related to GAN Performance?"): at ``latents`` fixed latents, every ``every`` steps, the singular values of
    dG(z)/dz, with G in eval mode and without touching its gradients. ``g_jacobian_log_condition`` is the mean
    log of the condition number (largest over smallest singular value): it grows when G maps some latent
    directions to nearly nothing, which Odena et al. found to precede poor runs."""

    calls_networks = True

    every = 250
    latents = 4
    metrics = (MetricInfo("g_jacobian_log_condition", "mean log condition number of dG/dz over fixed latents",
                          False),
               MetricInfo("g_jacobian_log_sigma_max", "mean log largest singular value of dG/dz"),
               MetricInfo("g_jacobian_log_sigma_min", "mean log smallest singular value of dG/dz"))

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._z: Tensor | None = None

    def on_step(self, record: StepRecord) -> dict[str, Tensor | float]:
        if record.step % self.every:
            return {}
        if self._z is None:
            self._z = torch.randn(self.latents, *record.latent_shape,
                                  generator=torch.Generator().manual_seed(0)).to(self.device)
        # forward mode, the latents batched: z_dim JVPs a latent rather than one VJP an output pixel
        with eval_mode(record.g) as g, torch.no_grad(), warnings.catch_warnings():
            # the first forward-mode call registers decompositions through torch.jit.script, which warns
            warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated", FutureWarning)
            jacobians = torch.func.vmap(torch.func.jacfwd(lambda z: g(z[None]).flatten(1)[0]))(self._z)
        sigmas = torch.linalg.svdvals(jacobians.flatten(2).double())  # (latents, min(out, z_dim)), descending
        top, bottom = sigmas[:, 0].log(), sigmas[:, -1].clamp_min(1e-300).log()
        return {"g_jacobian_log_condition": (top - bottom).mean(), "g_jacobian_log_sigma_max": top.mean(),
                "g_jacobian_log_sigma_min": bottom.mean()}
