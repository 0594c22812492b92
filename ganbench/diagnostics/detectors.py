"""The built-in detectors. Every threshold is a field with a default, overridable per suite (``detectors:``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ganbench.diagnostics.base import DETECTORS, Event, Stream, streaks
from ganbench.meta import EventKind

if TYPE_CHECKING:
    import pandas as pd


def _values(stream: Stream, name: str) -> pd.Series:
    """A metric's finite values, indexed by step (empty when the run did not log it)."""
    values = stream.get(name)
    if values is None:
        import pandas as pd

        return pd.Series(dtype=float)
    return values[np.isfinite(values)]


def _r(x: float) -> float:
    return float(round(x, 6))


@DETECTORS.register("d_overpowering")
@dataclass(frozen=True)
class DOverpowering:
    """D wins and stays winning while G's gradient vanishes or explodes.

    D wins on a logging step when ``d_accuracy >= accuracy`` or (probability objectives) ``d_gap >= gap``.
    G's gradient is off when ``grad_norm_g`` divided by its median over the first ``early`` logged steps is
    ``<= vanish`` or ``>= explode``. The event fires when both hold for ``window`` consecutive logged steps.
    An early median at or below ``floor`` (G had no gradient to speak of from the start, e.g. a run that blew
    up at once) leaves the relative measure undefined: no event is built on it.
    """

    events: ClassVar = (EventKind("d_overpowering", "D wins and G's gradient vanishes or explodes", collapse=True),)
    accuracy: float = 0.99
    gap: float = 0.9
    window: int = 5
    early: int = 10
    vanish: float = 0.1
    explode: float = 10.0
    floor: float = 1e-8

    def detect(self, stream: Stream) -> list[Event]:
        acc = _values(stream, "d_accuracy")
        g = _values(stream, "grad_norm_g")
        if acc.empty or g.empty:
            return []
        gap = _values(stream, "d_gap").reindex(acc.index)
        early = float(np.median(g.iloc[: self.early]))
        if not early > self.floor:  # a ratio over (near) zero is not evidence
            return []
        rel = (g / early).reindex(acc.index)
        wins = (acc >= self.accuracy) | (gap >= self.gap)
        off = (rel <= self.vanish) | (rel >= self.explode)
        events = []
        for start, end in streaks(wins & off, self.window):
            w = slice(start, end)
            events.append(Event("d_overpowering", int(start), {
                "window": [int(start), int(end)], "d_accuracy": _r(acc.loc[w].mean()),
                "d_gap": _r(gap.loc[w].mean()) if gap.loc[w].notna().any() else None,
                "grad_norm_g_rel": _r(rel.loc[w].median()), "grad_norm_g_early_median": _r(early)}))
        return events


@DETECTORS.register("mode_collapse")
@dataclass(frozen=True)
class ModeCollapse:
    """Samples sharp but concentrated, or coverage far below its peak, for ``patience`` evaluations in a row.

    ``quality`` is a floor, not a bar: a fifth of the samples sitting on modes already separates a generator
    that draws a few modes well from one that has not learned anything yet.

    Sharp and concentrated: ``mode_coverage <= coverage`` while ``high_quality >= quality`` at some evaluation of
    the last ``patience`` and coverage is not growing (a run still spreading onto new modes is learning, not
    collapsed). Fallen: coverage
    ``<= drop`` x its running peak, after a peak of at least ``peak``. A run that has not learned yet (low
    ``high_quality``, no peak) is not collapsed.

    Where no modes are known (images without classes), the k-NN manifold metrics stand in with the same
    thresholds: ``recall`` for coverage (it falls when modes are dropped) and ``precision`` for quality, else
    ``coverage`` and ``density``. Where both are logged (images with classes), ``recall`` is a witness: class
    coverage counts only samples that pass the strict per-class quality test, so a varied generator whose
    samples are not yet that sharp reads as few classes; the collapse must show in ``recall`` too.
    """

    events: ClassVar = (EventKind("mode_collapse", "samples sharp but on few modes, or coverage fell from its peak",
                                  collapse=True),)
    coverage: float = 0.5
    quality: float = 0.2
    patience: int = 3
    drop: float = 0.5
    peak: float = 0.5

    # (coverage, quality) metric pairs, the first one a run logged is read
    SOURCES: ClassVar = (("mode_coverage", "high_quality"), ("recall", "precision"), ("coverage", "density"))

    def detect(self, stream: Stream) -> list[Event]:
        present = [(c, q) for c, q in self.SOURCES if not _values(stream, c).empty]
        if not present:
            return []
        cov_name, hq_name = present[0]
        cov = _values(stream, cov_name)
        hq = _values(stream, hq_name).reindex(cov.index)
        sharp, fallen = self._conditions(cov, hq)
        witness = _values(stream, "recall").reindex(cov.index) if cov_name == "mode_coverage" else None
        if witness is not None and witness.isna().all():
            witness = None  # recall not logged
        if witness is not None:
            # Class coverage on images counts only the samples that pass the strict quality test, so a diverse G
            # whose samples are not yet that sharp reads as few classes; the label-free recall must agree
            witness_sharp, witness_fallen = self._conditions(witness, hq)
            sharp, fallen = sharp & witness_sharp, fallen & witness_fallen
        peak = cov.cummax()
        events = []
        for start, end in streaks(sharp | fallen, self.patience):
            w = slice(start, end)
            evidence = {"window": [int(start), int(end)], cov_name: _r(cov.loc[w].min()),
                        hq_name: _r(hq.loc[w].mean()), f"peak_{cov_name}": _r(peak.loc[w].max()),
                        "reason": "sharp but concentrated" if sharp.loc[w].all() else "coverage fell from its peak"}
            if witness is not None:
                evidence["recall"] = _r(witness.loc[w].min())
            events.append(Event("mode_collapse", int(start), evidence))
        return events

    def _conditions(self, cov: pd.Series, hq: pd.Series) -> tuple[pd.Series, pd.Series]:
        """(sharp but concentrated, fallen from its peak) at each evaluation of coverage ``cov``."""
        peak = cov.cummax()
        growing = cov > cov.shift(1).cummax().fillna(-1)
        # sharp somewhere in the window: a generator hopping between modes is not sharp at every evaluation
        sharp_lately = hq.rolling(self.patience, min_periods=1).max() >= self.quality
        sharp = (cov <= self.coverage) & sharp_lately & ~growing
        fallen = (peak >= self.peak) & (cov <= self.drop * peak)
        return sharp, fallen


@DETECTORS.register("divergence")
@dataclass(frozen=True)
class Divergence:
    """A blow-up, whatever the loss function: a non-finite loss or one whose magnitude exceeds ``bound``; or
    non-finite parameters, a root mean square parameter (D's or G's) past ``rms``, or one grown to ``growth`` x
    its first logged value -- what a clamped loss (``nn.BCELoss`` caps each term at 100) hides. Fires once, at
    the first such step."""

    events: ClassVar = (EventKind("divergence", "a loss went non-finite or past the bound, or the parameters "
                                                "blew up"),)
    bound: float = 1e6
    rms: float = 10.0
    growth: float = 100.0

    def detect(self, stream: Stream) -> list[Event]:
        first: tuple[int, str, float, dict] | None = None
        for name in ("loss_d", "loss_g", "param_rms_d", "param_rms_g"):
            values = stream.get(name)
            if values is None or values.empty:
                continue
            if name.startswith("loss"):
                bad, limit = ~np.isfinite(values) | (values.abs() > self.bound), {"bound": self.bound}
            else:
                start = float(values.iloc[0])
                grown = (values >= self.growth * start) if start > 0 else False  # an all-zero init cannot grow
                bad = ~np.isfinite(values) | (values >= self.rms) | grown
                limit = {"rms": self.rms, "first_logged": _r(start), "growth": self.growth}
            found = values[bad]
            if not found.empty and (first is None or found.index[0] < first[0]):
                first = (int(found.index[0]), name, float(found.iloc[0]), limit)
        if first is None:
            return []
        step, name, value, limit = first
        return [Event("divergence", step, {"metric": name, "value": value, **limit})]


@DETECTORS.register("generator_stalled")
@dataclass(frozen=True)
class GeneratorStalled:
    """G stopped moving far from the data: for ``patience`` evaluations in a row the sliced Wasserstein distance
    to the real samples changed by at most ``flat`` (relative) from one evaluation to the next while it stayed at
    or above ``far`` x the distance of a generator that always draws the data's mean (``sliced_wasserstein_rel``).
    A G that learns moves; one that has converged sits close to the data. A stalled G (no learning rate, no
    gradient through a dead D) sits still where it began. The event begins at the last evaluation before the
    flat streak."""

    events: ClassVar = (EventKind("generator_stalled", "G's samples stopped changing far from the data",
                                  nonconvergence=True),)
    flat: float = 0.01
    far: float = 0.5
    patience: int = 3

    def detect(self, stream: Stream) -> list[Event]:
        sw = _values(stream, "sliced_wasserstein")
        rel = _values(stream, "sliced_wasserstein_rel").reindex(sw.index)
        if len(sw) < self.patience + 1:
            return []
        change = (sw - sw.shift(1)).abs() / sw.shift(1)
        stalled = (change <= self.flat) & (rel >= self.far)
        for start, end in streaks(stalled, self.patience):
            steps = list(sw.index)
            began = steps[steps.index(start) - 1]
            w = slice(began, end)
            spread = _values(stream, "sample_spread").reindex(sw.index).loc[w]
            return [Event("generator_stalled", int(began), {
                "window": [int(began), int(end)], "sliced_wasserstein_rel": _r(rel.loc[w].mean()),
                "largest_change": _r(change.loc[start:end].max()),
                "sample_spread": _r(spread.mean()) if spread.notna().any() else None})]
        return []


@DETECTORS.register("far_from_data")
@dataclass(frozen=True)
class FarFromData:
    """The run ended far from the data: its last ``patience`` evaluations all had ``sliced_wasserstein_rel`` at
    or above ``far`` (three quarters of the distance of a generator that always draws the data's mean). Whatever
    the sample pictures' mode labels say, such samples have not learned the data. The event begins at the first
    evaluation of that final streak; it marks the run not converged.

    ``far`` was set on the ring runs of the corpus of independently written loops (docs/own-loop.md): their
    healthy-looking runs end at 0.07-0.6, their visibly failed ones at 0.66 and above (most near 1)."""

    events: ClassVar = (EventKind("far_from_data", "the last evaluations' samples are far from the data",
                                  nonconvergence=True),)
    far: float = 0.75
    patience: int = 2

    def detect(self, stream: Stream) -> list[Event]:
        rel = _values(stream, "sliced_wasserstein_rel")
        if len(rel) < self.patience or not (rel.iloc[-self.patience:] >= self.far).all():
            return []
        below = rel[rel < self.far]
        began = int(rel.index[0]) if below.empty else int(rel.index[rel.index > below.index[-1]][0])
        return [Event("far_from_data", began, {"sliced_wasserstein_rel": _r(rel.iloc[-1]),
                                               "evaluations_far": int((rel.index >= began).sum()), "far": self.far})]


@DETECTORS.register("d_pinned")
@dataclass(frozen=True)
class DPinned:
    """D stuck at one answer: for ``window`` logged steps in a row its outputs on the real and generated batch
    have a standard deviation of at most ``spread`` (it tells no input from another), or G's gradient norm is at
    most ``floor`` (nothing flows back to G). Whatever the loss and its clamping, G cannot learn from such a D."""

    events: ClassVar = (EventKind("d_pinned", "D's outputs stuck at a constant, or no gradient reaches G",
                                  nonconvergence=True),)
    spread: float = 1e-4
    floor: float = 1e-8
    window: int = 5

    def detect(self, stream: Stream) -> list[Event]:
        std = _values(stream, "d_out_std")
        g = _values(stream, "grad_norm_g")
        index = std.index.union(g.index)
        if index.empty:
            return []
        flat = std.reindex(index) <= self.spread
        no_grad = g.reindex(index) <= self.floor
        for start, end in streaks(flat | no_grad, self.window):
            w = slice(start, end)
            return [Event("d_pinned", int(start), {
                "window": [int(start), int(end)],
                "d_out_std": _r(std.loc[w].max()) if not std.loc[w].empty else None,
                "grad_norm_g": _r(g.loc[w].max()) if not g.loc[w].empty else None,
                "reason": "outputs constant" if flat.loc[w].all() else "no gradient reaches G"})]
        return []


@DETECTORS.register("oscillation")
@dataclass(frozen=True)
class Oscillation:
    """Mode hopping: sharp samples (``high_quality >= quality``) concentrated on one mode
    (``dominant_mode_share >= share``) whose dominant mode changes at least ``changes`` times within ``window``
    consecutive evaluations. The quality floor keeps a handful of lucky samples from an untrained generator
    from counting as a mode."""

    events: ClassVar = (EventKind("oscillation", "the generator hops between single modes"),)
    share: float = 0.5
    quality: float = 0.2
    changes: int = 3
    window: int = 5

    def detect(self, stream: Stream) -> list[Event]:
        mode = _values(stream, "dominant_mode")
        if mode.empty:
            return []
        share = _values(stream, "dominant_mode_share").reindex(mode.index)
        hq = _values(stream, "high_quality").reindex(mode.index)
        concentrated = (share >= self.share) & (hq >= self.quality)
        hop = concentrated & concentrated.shift(1, fill_value=False) & (mode != mode.shift(1))
        steps = list(mode.index)
        w = self.window
        for i in range(len(steps)):
            span = hop.iloc[i: i + w]
            if span.sum() >= self.changes:
                first = span[span].index[0]
                before = steps[steps.index(first) - 1]
                return [Event("oscillation", int(before), {
                    "window": [int(steps[i]), int(span.index[-1])], "hops": int(span.sum()),
                    "modes": [int(m) for m in mode.loc[before: span.index[-1]] if not math.isnan(m)]})]
        return []


@DETECTORS.register("nonconvergence")
@dataclass(frozen=True)
class NonConvergence:
    """Training that does not approach its equilibrium, for runs that log ``equilibrium_distance`` (the
    Dirac-GAN): the distance ends above ``tolerance`` and its running minimum has not improved by a factor
    ``progress`` for the last ``window`` logged steps. The event begins at the last step that improved it:
    from there the parameters cycle around the equilibrium or spiral away from it (Mescheder et al. 2018)."""

    events: ClassVar = (EventKind("nonconvergence", "the parameters orbit or spiral around the equilibrium "
                                                    "instead of approaching it", nonconvergence=True),)
    tolerance: float = 0.05
    progress: float = 0.01
    window: int = 50

    def detect(self, stream: Stream) -> list[Event]:
        distance = _values(stream, "equilibrium_distance")
        if distance.empty or distance.iloc[-1] <= self.tolerance:
            return []
        best, improved = float(distance.iloc[0]), int(distance.index[0])
        for step, x in distance.items():
            if x < best * (1 - self.progress):
                best, improved = float(x), int(step)
        stalled = int((distance.index > improved).sum())
        if stalled < self.window:
            return []
        return [Event("nonconvergence", improved, {
            "final_distance": _r(distance.iloc[-1]), "closest": _r(best), "start_distance": _r(distance.iloc[0]),
            "stalled_logged_steps": stalled, "tolerance": self.tolerance})]
