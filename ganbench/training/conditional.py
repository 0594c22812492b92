"""The class-conditional parts of a training step (``recipe.conditioning``): how G and D take labels, and the
class terms AC-GAN and TAC-GAN add to their losses. ``Trainer`` mixes them in; a run without classes passes
``y=None`` and none of them changes its step."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


class ConditionalSteps:
    """Mixed into ``loop.Trainer``: reads its ``members``, ``g``, ``d`` and ``draw``."""

    @property
    def conditional(self) -> bool:
        return self.members[0].spec.recipe.conditional

    @property
    def twin(self) -> bool:
        """TAC-GAN's D: its class logits are its classifier's, then its twin's."""
        return self.members[0].spec.recipe.conditioning == "tacgan"

    def generate(self, z: Tensor, y: Tensor | None) -> Tensor:
        """G(z), or G(z, y) for a conditional run (with the injected fault ``g_labels``, other labels than y)."""
        if y is None:
            return self.g(z)
        fault = self.members[0].spec.recipe.g_labels
        if fault == "zeroed":
            y = torch.zeros_like(y)
        elif fault == "shuffled":  # a permutation within each member's batch, from its latent stream
            order = self.draw(lambda run: torch.randperm(run.draws, generator=run.streams.latent).to(run.device))
            y = y.gather(-1, order)
        return self.g(z, y)

    def judge(self, x: Tensor, y: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """D's raw output (*batch, 1) on ``x`` (with labels ``y`` for a conditional run), and an AC-GAN D's class
        logits (*batch, K), a TAC-GAN D's (*batch, 2K) -- its classifier's, then its twin's (None for every other D)."""
        if y is None:
            return self.d(x), None
        out = self.d(x, y)
        classifies = self.members[0].spec.recipe.conditioning in ("acgan", "tacgan")
        return (out[..., :1], out[..., 1:]) if classifies else (out, None)

    def judged_as(self, y: Tensor | None) -> Callable[[Tensor], Tensor]:
        """D's raw output on inputs with the labels ``y`` bound, as the penalties call D: D(x), or D(x, y)."""
        if y is None:
            return self.d
        judge = lambda x: self.judge(x, y)[0]  # noqa: E731
        judge.pack = getattr(self.d, "pack", 1)
        return judge

    def class_loss(self, logits: Tensor, y: Tensor) -> Tensor:
        """``ac_weight`` x the cross-entropy of class logits (*batch, K) against ``y``, one value per member."""
        ce = torch.nn.functional.cross_entropy(logits.flatten(0, -2), y.flatten(), reduction="none")
        return self.members[0].spec.recipe.ac_weight * ce.view(y.shape).mean(dim=-1)

    def d_class_terms(self, real: Tensor | None, fake: Tensor | None, y: Tensor | None) -> tuple[Tensor, ...]:
        """D's classifier terms, from the logits on real and generated samples (both of classes ``y``), to add to
        its loss one after the other. AC-GAN (Odena et al. 2017): its classifier learns the classes of both.
        TAC-GAN (Gong et al. 2019): the classifier learns real samples' classes, the twin generated ones'. None
        for every other D."""
        if real is None:
            return ()
        if not self.twin:
            return self.class_loss(real, y), self.class_loss(fake, y)
        k = self.members[0].dataset.num_classes
        return self.class_loss(real[..., :k], y), self.class_loss(fake[..., k:], y)

    def g_class_loss(self, fake: Tensor | None, y: Tensor | None) -> Tensor | float:
        """G's classifier terms on its samples' logits: to be classified as ``y`` (AC-GAN), and with TAC-GAN also
        to defeat the twin, which tells generated classes apart (minus its cross-entropy). 0 for every other D."""
        if fake is None:
            return 0.0
        if not self.twin:
            return self.class_loss(fake, y)
        k = self.members[0].dataset.num_classes
        return self.class_loss(fake[..., :k], y) - self.class_loss(fake[..., k:], y)
