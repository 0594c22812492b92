"""Equal-budget comparisons (Lucic et al. 2018, "Are GANs Created Equal?"): every variant gets the same number
of hyperparameter trials, the best trial is chosen on selection seeds and scored on fresh ones, and the
expected best score after k trials (Dodge et al. 2019, "Show Your Work") shows what each tuning budget buys.
``method: sobol`` draws the trials from a scrambled Sobol sequence (scipy.stats.qmc) instead of independent
uniforms: with 8 or 16 trials in three or four axes, independent draws leave corners of the space unvisited
(low D learning rate with high G learning rate, say) that a low-discrepancy sequence reaches.

A suite's ``sweep:`` block expands every variant into ``trials`` named variant instances -- ordinary variants,
so executors, seed ensembles, resume, report and check need nothing new. Random draws come from a generator
seeded by the sweep's ``seed`` and the variant's name, so the same suite expands to the same trials on every
machine.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ganbench import validate as v
from ganbench.errors import GanbenchError

METHODS = ("random", "sobol", "grid")
DISTRIBUTIONS = ("log_uniform", "uniform", "int_uniform")
# short axis names, so a trial's name can show what was set within the 64 characters a name may have
SHORT = {"d_lr": "dlr", "g_lr": "glr", "n_critic": "nc", "regularizer_weight": "lam", "betas": "b",
         "instance_noise": "noise", "label_smoothing": "ls"}


@dataclass(frozen=True)
class Sweep:
    trials: int
    method: str
    seed: int
    selection_seeds: tuple[int, ...]
    metric: str | None  # None: the ranking's key (the lowest-ranked metric the trials logged)
    spaces: dict[str, dict[str, Any]] = field(default_factory=dict)  # variant -> axis -> list | {dist: [lo, hi]}


@dataclass(frozen=True)
class Trial:
    name: str
    variant: str  # the variant it tunes
    index: int
    settings: dict[str, Any]  # axis -> value


def _space(value: Any, where: str) -> dict[str, Any]:
    from ganbench.recipes.variants import AXES

    space = v.mapping(value, where)
    v.check_keys(space, AXES, where)
    out = {}
    for axis, spec in space.items():
        at = f"{where}.{axis}"
        if isinstance(spec, list):
            if not spec:
                raise GanbenchError(f"{at}: an empty list of values")
            out[axis] = list(spec)
            continue
        spec = v.mapping(spec, at)
        if len(spec) != 1 or next(iter(spec)) not in DISTRIBUTIONS:
            raise GanbenchError(f"{at}: give a list of values or one of {{{', '.join(DISTRIBUTIONS)}: [low, high]}}")
        (dist, bounds), = spec.items()
        bounds = v.sequence(bounds, f"{at}.{dist}")
        if len(bounds) != 2:
            raise GanbenchError(f"{at}.{dist}: give [low, high]")
        number = v.integer if dist == "int_uniform" else v.number
        low, high = (number(b, f"{at}.{dist}[{i}]") for i, b in enumerate(bounds))
        if not low < high or (dist == "log_uniform" and low <= 0):
            raise GanbenchError(f"{at}.{dist}: need 0 < low < high for log_uniform, low < high otherwise; "
                                f"got [{low}, {high}]")
        out[axis] = {dist: (low, high)}
    return out


def parse_sweep(value: Any, variants: list[str], seeds: tuple[int, ...]) -> Sweep:
    """Validate ``sweep:`` against the suite's variants and (reporting) seeds."""
    doc = v.mapping(value, "sweep")
    v.check_keys(doc, ("trials", "method", "seed", "selection_seeds", "metric", "space", "variants"), "sweep")
    method = v.choice(doc.get("method", "random"), "sweep.method", METHODS)
    common = _space(doc.get("space", {}), "sweep.space")
    per_variant = v.mapping(doc.get("variants", {}), "sweep.variants")
    for name in per_variant:
        if name not in variants:
            raise GanbenchError(f"sweep.variants.{name}: not one of the suite's variants ({', '.join(variants)})")
    spaces = {name: {**common, **_space(per_variant.get(name, {}), f"sweep.variants.{name}")} for name in variants}
    for name, space in spaces.items():
        if not space:
            raise GanbenchError(f"sweep: nothing to sweep for variant {name!r} (give sweep.space or sweep.variants)")
    if method == "grid":
        sizes = {}
        for name, space in spaces.items():
            lists = [s for s in space.values() if isinstance(s, list)]
            if len(lists) != len(space):
                raise GanbenchError(f"sweep: a grid needs a list of values for every axis (variant {name!r})")
            sizes[name] = math.prod(len(s) for s in lists)
        if len(set(sizes.values())) > 1:
            raise GanbenchError("sweep: grids of different sizes give variants unequal budgets: "
                                + ", ".join(f"{n} {s}" for n, s in sizes.items()))
        trials = next(iter(sizes.values()))
        if "trials" in doc and v.integer(doc["trials"], "sweep.trials", minimum=1) != trials:
            raise GanbenchError(f"sweep.trials: the grid has {trials} points, not {doc['trials']}")
    else:
        if "trials" not in doc:
            raise GanbenchError("sweep.trials: how many random trials per variant (the same for every variant)")
        trials = v.integer(doc["trials"], "sweep.trials", minimum=1)
        if method == "sobol" and trials & (trials - 1):
            raise GanbenchError(f"sweep.trials: Sobol points are balanced only in powers of 2 (4, 8, 16, ...), "
                                f"not {trials}")
    selection = doc.get("selection_seeds", 2)
    if isinstance(selection, list):
        selection_seeds = tuple(v.integer(s, f"sweep.selection_seeds[{i}]", minimum=0)
                                for i, s in enumerate(selection))
        if not selection_seeds or len(set(selection_seeds)) != len(selection_seeds):
            raise GanbenchError("sweep.selection_seeds: a non-empty list without repeats")
    else:
        count = v.integer(selection, "sweep.selection_seeds", minimum=1)
        selection_seeds = tuple(range(max(seeds) + 1, max(seeds) + 1 + count))  # after the reporting seeds
    overlap = sorted(set(selection_seeds) & set(seeds))
    if overlap:
        raise GanbenchError(f"sweep.selection_seeds and seeds overlap at {overlap}: the seeds that choose the "
                            "best trial must not be the seeds that score it")
    metric = None if doc.get("metric") is None else v.string(doc["metric"], "sweep.metric")
    return Sweep(trials, method, v.integer(doc.get("seed", 0), "sweep.seed", minimum=0), selection_seeds, metric,
                 spaces)


def _rng(seed: int, variant: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}:{variant}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _round(x: float) -> float:
    return float(f"{x:.3g}")  # three significant digits: the recipe is exactly what the name says


def _value(spec: Any, u: float) -> Any:
    """The point of an axis at quantile ``u`` in [0, 1)."""
    if isinstance(spec, list):
        return spec[min(int(u * len(spec)), len(spec) - 1)]
    (dist, (low, high)), = spec.items()
    if dist == "log_uniform":
        return _round(math.exp(math.log(low) + u * (math.log(high) - math.log(low))))
    if dist == "uniform":
        return _round(low + u * (high - low))
    return min(low + int(u * (high - low + 1)), high)


def _quantiles(method: str, trials: int, axes: int, rng: np.random.Generator) -> np.ndarray:
    """(trials, axes) points in [0, 1): independent uniforms, or a scrambled Sobol sequence."""
    if method == "sobol":
        from scipy.stats import qmc

        return qmc.Sobol(d=axes, scramble=True, seed=rng).random_base2(int(math.log2(trials)))
    return rng.uniform(size=(trials, axes))


def _label(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "-".join(_label(x) for x in value)
    if isinstance(value, float):
        return f"{value:.3g}".replace("e-0", "e-").replace("e+0", "e")
    return str(value)


def trial_name(variant: str, index: int, settings: dict[str, Any]) -> str:
    """``<variant>.t<i>.<axis><value>...``, e.g. ``sngan.t03.dlr0.00031.nc2``; the settings are left out where
    they would pass 64 characters (the index keeps names unique)."""
    base = f"{variant}.t{index:02d}"
    full = base + "".join(f".{SHORT.get(axis, axis)}{_label(value)}" for axis, value in settings.items())
    ok = all(c.isalnum() or c in "._-" for c in full)
    return full if ok and len(full) <= 64 else base


def expand(sweep: Sweep, variants: list[str]) -> list[Trial]:
    """Every variant's trials, in suite order; equal counts by construction."""
    trials = []
    for variant in variants:
        space = sweep.spaces[variant]
        if sweep.method == "grid":
            points = [dict(zip(space, values)) for values in itertools.product(*space.values())]
        else:
            quantiles = _quantiles(sweep.method, sweep.trials, len(space), _rng(sweep.seed, variant))
            points = [{axis: _value(spec, u) for (axis, spec), u in zip(space.items(), row)} for row in quantiles]
        trials += [Trial(trial_name(variant, i, p), variant, i, p) for i, p in enumerate(points)]
    return trials
