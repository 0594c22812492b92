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


def _evaluations(stream: Stream, name: str) -> pd.Series:
    """A per-evaluation metric's finite values, one per evaluation period: an evaluation less than the usual
    spacing (the median step between evaluations) before the next one is dropped for it -- a tracked loop's
    closing evaluation two steps after its last periodic one replaces that one -- so patience counts
    evaluations at least ``eval_every`` apart."""
    values = _values(stream, name)
    if len(values) < 3:
        return values
    steps = values.index.to_numpy()
    spacing = float(np.median(np.diff(steps)))
    keep = [len(steps) - 1]
    for i in range(len(steps) - 2, -1, -1):
        if steps[keep[-1]] - steps[i] >= spacing:
            keep.append(i)
    return values.iloc[keep[::-1]]


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
    """The samples' diversity fell far below the data's, for ``patience`` evaluations in a row, in one of three
    ways (the evidence's ``collapse`` names which):

    - **to one point**: ``sample_spread <= spread`` -- G draws (nearly) one sample for every latent, sharp or
      blurred; whatever their quality, such samples are collapsed. ``spread`` is a hundredth of the data's: the
      healthy ring runs of suites/ci.yaml pass through a tight cluster early in training (spread 0.01-0.1 at step
      250-750, on one mode, before they spread out), which is a run still learning, not this;
    - **to a few modes**: ``mode_coverage <= coverage`` while ``high_quality >= quality`` at each of these
      evaluations and coverage is not growing (a run still spreading onto new modes is learning). The quality
      floor keeps a generator that has not learned anything yet (few samples on any mode) from counting;
    - **dropped modes**: coverage ``<= drop`` x its running peak, after a peak of at least ``peak``.

    Where no modes are known (images without classes), the k-NN manifold metrics stand in with the same
    thresholds: ``recall`` for coverage (it falls when modes are dropped) and ``precision`` for quality, else
    ``coverage`` and ``density``. Where both are logged (images with classes), ``recall`` is a witness for the
    last two ways: class coverage counts only samples that pass the strict per-class quality test, so a varied
    generator whose samples are not yet that sharp reads as few classes; the collapse must show in ``recall`` too.
    """

    events: ClassVar = (EventKind("mode_collapse", "the samples' diversity fell far below the data's: to one "
                                                   "point, to a few modes, or modes dropped", collapse=True),)
    coverage: float = 0.5
    quality: float = 0.2
    patience: int = 3
    drop: float = 0.5
    peak: float = 0.5
    spread: float = 0.01

    # (coverage, quality) metric pairs, the first one a run logged is read
    SOURCES: ClassVar = (("mode_coverage", "high_quality"), ("recall", "precision"), ("coverage", "density"))
    KINDS: ClassVar = ("to one point", "to a few modes", "dropped modes")

    def detect(self, stream: Stream) -> list[Event]:
        spread = _evaluations(stream, "sample_spread")
        present = [(c, q) for c, q in self.SOURCES if not _values(stream, c).empty]
        if present:
            cov_name, hq_name = present[0]
            cov = _evaluations(stream, cov_name)
            index = cov.index.union(spread.index)
            cov, hq = cov.reindex(index), _values(stream, hq_name).reindex(index)
            few, dropped = self._conditions(cov, hq)
            witness = _values(stream, "recall").reindex(index) if cov_name == "mode_coverage" else None
            if witness is not None and not witness.isna().all():
                # Class coverage on images counts only the samples that pass the strict quality test, so a diverse
                # G whose samples are not yet that sharp reads as few classes; the label-free recall must agree
                witness_few, witness_dropped = self._conditions(witness, hq)
                few, dropped = few & witness_few, dropped & witness_dropped
            else:
                witness = None
        else:  # no modes known and no manifold metrics: the spread alone
            index, cov_name, cov, hq, witness = spread.index, None, None, None, None
            few = dropped = spread < -1  # all False
        one_point = spread.reindex(index) <= self.spread
        events = []
        for start, end in streaks(one_point | few | dropped, self.patience):
            w = slice(start, end)
            kind = next(name for name, flags in zip(self.KINDS, (one_point, few, dropped)) if flags.loc[w].any())
            evidence = {"window": [int(start), int(end)], "collapse": kind}
            if spread.reindex(index).loc[w].notna().any():
                evidence["sample_spread"] = _r(spread.reindex(index).loc[w].max())
            if cov_name is not None and cov.loc[w].notna().any():
                evidence.update({cov_name: _r(cov.loc[w].min()), hq_name: _r(hq.loc[w].mean()),
                                 f"peak_{cov_name}": _r(cov.cummax().loc[w].max())})
            if witness is not None:
                evidence["recall"] = _r(witness.loc[w].min())
            events.append(Event("mode_collapse", int(start), evidence))
        return events

    def _conditions(self, cov: pd.Series, hq: pd.Series) -> tuple[pd.Series, pd.Series]:
        """(on a few modes, dropped from its peak) at each evaluation of coverage ``cov``."""
        peak = cov.cummax()
        growing = cov > cov.shift(1).cummax().fillna(-1)
        few = (cov <= self.coverage) & (hq >= self.quality) & ~growing
        dropped = (peak >= self.peak) & (cov <= self.drop * peak)
        return few, dropped


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
        sw = _evaluations(stream, "sliced_wasserstein")
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
        rel = _evaluations(stream, "sliced_wasserstein_rel")
        if len(rel) < self.patience or not (rel.iloc[-self.patience:] >= self.far).all():
            return []
        below = rel[rel < self.far]
        began = int(rel.index[0]) if below.empty else int(rel.index[rel.index > below.index[-1]][0])
        return [Event("far_from_data", began, {"sliced_wasserstein_rel": _r(rel.iloc[-1]),
                                               "evaluations_far": int((rel.index >= began).sum()), "far": self.far})]


@DETECTORS.register("d_pinned")
@dataclass(frozen=True)
class DPinned:
    """D stuck at one answer: for ``window`` logged steps in a row the standard deviation of its outputs on the
    real and generated batch is at most ``spread`` -- it tells no input from another. Whatever the loss and its
    clamping, G cannot learn from such a D."""

    events: ClassVar = (EventKind("d_pinned", "D's outputs stuck at a constant", nonconvergence=True),)
    spread: float = 1e-4
    window: int = 5

    def detect(self, stream: Stream) -> list[Event]:
        std = _values(stream, "d_out_std")
        for start, end in streaks(std <= self.spread, self.window):
            return [Event("d_pinned", int(start), {"window": [int(start), int(end)],
                                                   "d_out_std": _r(std.loc[start:end].max())})]
        return []


@DETECTORS.register("g_no_gradient")
@dataclass(frozen=True)
class GNoGradient:
    """No gradient reaches G: for ``window`` logged steps in a row ``grad_norm_g`` is at most ``floor``
    (a saturated sigmoid, a detached graph, a D whose outputs do not depend on its input). D's outputs may vary
    widely meanwhile: the evidence gives their spread and D's accuracy."""

    events: ClassVar = (EventKind("g_no_gradient", "no gradient reaches G", nonconvergence=True),)
    floor: float = 1e-8
    window: int = 5

    def detect(self, stream: Stream) -> list[Event]:
        g = _values(stream, "grad_norm_g")
        for start, end in streaks(g <= self.floor, self.window):
            w = slice(start, end)
            evidence = {"window": [int(start), int(end)], "grad_norm_g": _r(g.loc[w].max())}
            for name in ("d_out_std", "d_accuracy"):
                seen = _values(stream, name).loc[w]
                evidence[name] = _r(seen.mean()) if not seen.empty else None
            return [Event("g_no_gradient", int(start), evidence)]
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
        mode = _evaluations(stream, "dominant_mode")
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


@DETECTORS.register("d_overfitting")
@dataclass(frozen=True)
class DOverfitting:
    """D tells its training reals from held-out ones: the running median of ``d_overfit_auc`` (logged by the
    ``d_heldout`` collector: the probability that D scores a training real above a held-out one) over the last
    ``window`` readings reaches ``auc``. At 0.5 D scores both alike; at 1 it ranks every training real first.
    The event begins at the reading where the median first reaches ``auc``: a single reading flickers, a median
    over ``window`` readings does not. Unlike ADA's r_v, the AUC does not read D's outputs on generated samples,
    so a D that also overpowers G does not hide it.

    Set on the limited-data digits (suites/papers/limited-digits.yaml, seeds 0-4; docs/metrics.md): without
    augmentation the AUC climbs to 0.62-0.78, with DiffAugment it stays at 0.41-0.55."""

    events: ClassVar = (EventKind("d_overfitting", "D scores its training reals above held-out reals"),)
    auc: float = 0.6
    window: int = 20

    def detect(self, stream: Stream) -> list[Event]:
        auc = _values(stream, "d_overfit_auc")
        if len(auc) < self.window:
            return []
        median = auc.rolling(self.window).median()
        past = median[median >= self.auc]
        if past.empty:
            return []
        end = past.index[0]
        start = auc.index[auc.index.get_loc(end) - self.window + 1]
        gap = _values(stream, "d_overfit_gap").loc[:end]
        return [Event("d_overfitting", int(end), {
            "d_overfit_auc_median": _r(past.iloc[0]), "auc": self.auc, "window": [int(start), int(end)],
            "d_overfit_auc_final": _r(median.iloc[-1]), **({"d_overfit_gap": _r(gap.iloc[-1])} if len(gap) else {})})]


@DETECTORS.register("memorization")
@dataclass(frozen=True)
class Memorization:
    """G copies its training samples (the ``memorization`` collector), by either of two tests at ``alpha`` for
    ``patience`` evaluations in a row: a share of near-copies -- the one-sided Fisher p below ``alpha`` and the
    generated copy rate above the held-out rate by at least ``excess``; or samples closer to the training set as
    a whole than fresh reals are -- ``nn_distance_z`` at or below the normal quantile of ``alpha`` (Meehan et al.
    2020's data-copying test). The first catches a G that emits some training images; the second one that
    hugs all of them (on 13 training digits the near-copy rates of generated and held-out samples matched while
    z fell to -19)."""

    events: ClassVar = (EventKind("memorization", "generated samples copy training samples"),)
    alpha: float = 0.001
    excess: float = 0.02
    patience: int = 2

    def detect(self, stream: Stream) -> list[Event]:
        from statistics import NormalDist

        rate, held, p, z = (_evaluations(stream, n) for n in ("copy_rate", "copy_rate_heldout", "copy_p",
                                                              "nn_distance_z"))
        if rate.empty:
            return []
        held, p, z = held.reindex(rate.index), p.reindex(rate.index), z.reindex(rate.index)
        copies, closer = (p < self.alpha) & (rate - held >= self.excess), z <= NormalDist().inv_cdf(self.alpha)
        for start, end in streaks(copies | closer, self.patience):
            tests = [name for name, hit in (("near-copies", copies), ("distances", closer)) if hit.loc[start:end].any()]
            return [Event("memorization", int(start), {
                "tests": tests, "copy_rate": _r(rate.loc[start]), "copy_rate_heldout": _r(held.loc[start]),
                "copy_p": float(f"{p.loc[start]:.3g}"), "nn_distance_z": _r(z.loc[start]),
                "copy_rate_final": _r(rate.iloc[-1]),
                "evaluations": int(((rate.index >= start) & (rate.index <= end)).sum())})]
        return []


@DETECTORS.register("past_best")
@dataclass(frozen=True)
class PastBest:
    """The run ended past its best: its last ``patience`` evaluations of ``metric`` (lower is better) are all
    worse than the best by at least ``relative`` of the best *and* by ``lost`` of what the run had gained from
    its first evaluation to its best -- the second keeps a 2D run's noise near FID 0 from counting. The event
    begins at the first evaluation of that final streak; its evidence names the best snapshot's step."""

    events: ClassVar = (EventKind("past_best", "the key metric got worse after its best evaluation"),)
    metric: str = "fid"
    relative: float = 0.25
    lost: float = 0.05
    patience: int = 2

    def detect(self, stream: Stream) -> list[Event]:
        values = _evaluations(stream, self.metric)
        if len(values) < self.patience + 2:
            return []
        best_step = values.idxmin()
        best, first = float(values.loc[best_step]), float(values.iloc[0])
        bar = max(best + self.relative * abs(best), best + self.lost * (first - best))
        worse = values > bar
        tail = worse.iloc[-self.patience:]
        if not tail.all() or values.index[-self.patience] <= best_step:
            return []
        within = worse[~worse].index
        began = values.index[values.index > within[-1]][0]
        return [Event("past_best", int(began), {
            "metric": self.metric, "best_step": int(best_step), "best": _r(best), "final": _r(values.iloc[-1]),
            "first": _r(first), "worse_than": _r(bar)})]


@DETECTORS.register("label_ignored")
@dataclass(frozen=True)
class LabelIgnored:
    """A conditional G whose samples do not follow their label: ``label_dependence`` (0 at chance, 1 when every
    G(z, y) is of class y; the ``conditional`` collector) at or below ``dependence`` at an evaluation where G draws
    data -- ``sample_quality`` (the share of samples that are good members of some class) at least ``quality``, or
    ``sliced_wasserstein_rel`` at most ``near`` (closer to the data than far_from_data's bound) -- and at or below
    it at the ``patience`` - 1 evaluations after. The event begins there. A G that draws no data yet follows no
    label for that reason, so it must have drawn data once; after that, quality may swing: a G asked for other
    labels than D judges is pushed from class to class (suites with labels shuffled for G: quality 0.99, 0.02,
    0.11, 0.998 at successive evaluations), or blurs over every class (a loop's shuffled labels: quality 0.05 to
    0.23, sliced_wasserstein_rel 0.34 to 0.68)."""

    events: ClassVar = (EventKind("label_ignored", "a conditional G's samples do not depend on the label asked for",
                                  collapse=True),)
    dependence: float = 0.2
    quality: float = 0.2
    near: float = 0.75
    patience: int = 3

    def detect(self, stream: Stream) -> list[Event]:
        dependence = _evaluations(stream, "label_dependence")
        quality = _values(stream, "sample_quality").reindex(dependence.index)
        distance = _values(stream, "sliced_wasserstein_rel").reindex(dependence.index)
        draws_data = ((quality >= self.quality) | (distance <= self.near)).to_numpy()
        low = (dependence <= self.dependence).to_numpy()
        for i, step in enumerate(dependence.index):
            if draws_data[i] and i + self.patience <= len(low) and low[i:i + self.patience].all():
                return [Event("label_ignored", int(step), {
                    "label_dependence": _r(dependence.iloc[i]), "label_fidelity": _r(_values(
                        stream, "label_fidelity").get(step, math.nan)), "sample_quality": _r(quality.iloc[i]),
                    "sliced_wasserstein_rel": _r(distance.iloc[i]), "label_dependence_final": _r(dependence.iloc[-1]),
                    "window": [int(step), int(dependence.index[i + self.patience - 1])]})]
        return []


def _per_class(stream: Stream, prefix: str) -> pd.DataFrame:
    """A per-class family (``class_recall/<c>``) as evaluations x classes, one evaluation per period."""
    import pandas as pd

    columns = {int(name.rpartition("/")[2]): _evaluations(stream, name) for name in stream
               if name.startswith(prefix + "/")}
    return pd.DataFrame(columns).sort_index(axis=1) if columns else pd.DataFrame()


@DETECTORS.register("class_collapse")
@dataclass(frozen=True)
class ClassCollapse:
    """One class of a conditional G collapsed while the others hold, by either of two measures (the evidence's
    ``measure`` names which): its ``class_recall/<c>`` (the variety of G(z, c) against class c's real samples)
    or its ``class_coverage/<c>`` (the share of G(z, c) that are good samples of class c) at or below ``drop`` x
    the median of the other classes', that median being at least ``hold``, for ``patience`` evaluations in a row.
    Coverage catches a class whose samples went to other classes when every class lacks variety (a concatenating
    cGAN on the ring with class 3's data cut: its class recalls 0.02-0.3, class 3's coverage 0 against 1).
    The evidence names the class; the first class to collapse gives the event (the others are listed). Healthy
    conditional runs let a class lag for three evaluations and catch up (suites/conditional.yaml: digits class 1
    at recall 0.20-0.32 for steps 500-1000 while the others' median held 0.50-0.70, then 0.72 at the end): four
    in a row count."""

    events: ClassVar = (EventKind("class_collapse", "one class of a conditional G lost its variety, or its samples, "
                                                    "while the others kept theirs", collapse=True),)
    drop: float = 0.5
    hold: float = 0.5
    patience: int = 4

    def detect(self, stream: Stream) -> list[Event]:
        found = []
        for measure in ("class_recall", "class_coverage"):
            values = _per_class(stream, measure)
            if values.shape[1] < 2:
                continue
            for c in values.columns:
                others = values.drop(columns=c).median(axis=1)
                for start, end in streaks((values[c] <= self.drop * others) & (others >= self.hold), self.patience):
                    found.append((int(start), int(c), measure, int(end), float(values[c].loc[start]),
                                  float(others.loc[start])))
                    break
        if not found:
            return []
        start, c, measure, end, own, others = min(found)
        return [Event("class_collapse", start, {
            "class": c, "measure": measure, measure: _r(own), f"others_median_{measure}": _r(others),
            "window": [start, end], "classes_collapsed": sorted({f[1] for f in found})})]


@DETECTORS.register("class_diversity")
@dataclass(frozen=True)
class ClassDiversity:
    """AC-GAN's bias (Gong et al. 2019, TAC-GAN): samples easy to classify with too little variety within their
    class -- ``class_spread_ratio`` (generated over real variance within a class, averaged) at or below ``spread``
    while ``label_fidelity`` is at least ``fidelity``, or at least the real samples' own (``label_fidelity_real``,
    below 1 where classes overlap), for ``patience`` evaluations in a row."""

    events: ClassVar = (EventKind("class_diversity", "a conditional G's samples follow their label with less "
                                                     "variety within each class than the data has"),)
    spread: float = 0.5
    fidelity: float = 0.9
    patience: int = 3

    def detect(self, stream: Stream) -> list[Event]:
        spread = _evaluations(stream, "class_spread_ratio")
        fidelity = _values(stream, "label_fidelity").reindex(spread.index)
        real = _values(stream, "label_fidelity_real").reindex(spread.index)
        high = (fidelity >= self.fidelity) | (fidelity >= real)
        for start, end in streaks((spread <= self.spread) & high, self.patience):
            return [Event("class_diversity", int(start), {
                "class_spread_ratio": _r(spread.loc[start]), "label_fidelity": _r(fidelity.loc[start]),
                "class_spread_ratio_final": _r(spread.iloc[-1]), "window": [int(start), int(end)]})]
        return []
