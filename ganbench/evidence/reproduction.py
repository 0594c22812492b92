"""Published numbers a suite is held against (its ``reference:`` block), and the outcome per row.

    reference:
      - source: Lin et al. (2018), PacGAN, Table 1, GAN row: 10 trials, mean ± std
        steps: 400000                  # the published training budget, in generator steps
        other_data: false              # true: the paper measured on other data (the outcome says so)
        rows:
          - {variant: gan, dataset: ring, metric: modes_hit, value: 6.3, pm: 0.5}
          - {variant: gan-r1, dataset: dirac, metric: equilibrium_distance, max: 1.0e-3}
          - {variant: diffaug, dataset: digits, metric: fid, better_than: plain}

A row states a value (± its published spread), a bound (``max`` / ``min``), or a paper's ordering claim
(``better_than``: this variant ends better on the metric than that one). For a value or a bound the measured
side is the IQM of the final evaluation over the suite's seeds with its 95 % percentile-bootstrap CI (as
everywhere in the report), and the outcome follows RULE; a claim is the gate's comparison of two samples of
seeds (``statistics.shift``: one-sided Mann-Whitney U at the suite's alpha) and follows CLAIM_RULE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ganbench import validate as v
from ganbench.errors import GanbenchError
from ganbench.evidence.statistics import IMPROVED, REGRESSED
from ganbench.meta import Catalog, lookup

MIN_SEEDS = 5
RULE = (f"reproduced: at least {MIN_SEEDS} seeds at the published budget, and the 95 % CI of the measured IQM "
        "meets the published value ± its spread and is no wider than that band (for a bound: the whole CI is "
        "within it); not reproduced: the CI misses the band (lies wholly beyond the bound); inconclusive at "
        f"these seeds: fewer than {MIN_SEEDS} seeds, or a CI wider than the band (straddling the bound). A run "
        "shorter than the published budget, or on other data than the paper's, is compared, never called a "
        "reproduction.")
CLAIM_RULE = ("a claim that one variant ends better than another is reproduced when a one-sided Mann-Whitney U "
              "test over their seeds says so at the suite's alpha, not reproduced when the same test says the "
              "opposite, and inconclusive at these seeds otherwise; P(better) is the chance that a random seed "
              "of the first beats a random seed of the second, with its 95 % bootstrap CI.")
REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive at these seeds"
ROW_KEYS = ("variant", "dataset", "metric", "value", "pm", "max", "min", "better_than", "note")


@dataclass(frozen=True)
class Reference:
    source: str
    variant: str
    dataset: str
    metric: str
    value: float | None = None  # a published value ...
    pm: float = 0.0  # ... and its published spread (± over the paper's trials), or
    max: float | None = None  # a published bound: the metric ends at most / at least this
    min: float | None = None
    better_than: str | None = None  # a published ordering: ``variant`` ends better than this variant
    steps: int | None = None  # the published training budget; None: not stated
    other_data: bool = False  # published on other data (e.g. stacked MNIST held against stacked digits)
    note: str = ""

    def published(self) -> str:
        if self.better_than is not None:
            return f"better than {self.better_than}"
        if self.value is not None:
            return f"{self.value:g} ± {self.pm:g}" if self.pm else f"{self.value:g}"
        return f"≤ {self.max:g}" if self.max is not None else f"≥ {self.min:g}"


def parse_references(value: Any, variants: set[str], datasets: set[str], catalog: Catalog) -> tuple[Reference, ...]:
    """Validate a suite's ``reference:`` list against the suite's variants, datasets and metrics."""
    refs = []
    for i, block in enumerate(v.sequence(value, "reference")):
        at = f"reference[{i}]"
        block = v.mapping(block, at)
        v.check_keys(block, ("source", "steps", "other_data", "rows"), at)
        source = v.string(block.get("source"), f"{at}.source")
        other_data = v.boolean(block.get("other_data", False), f"{at}.other_data")
        steps = None if block.get("steps") is None else v.integer(block["steps"], f"{at}.steps", minimum=1)
        for j, row in enumerate(v.sequence(block.get("rows"), f"{at}.rows")):
            where = f"{at}.rows[{j}]"
            row = v.mapping(row, where)
            v.check_keys(row, ROW_KEYS, where)
            for key, names in (("variant", variants), ("dataset", datasets)):
                name = v.string(row.get(key), f"{where}.{key}")
                if name not in names:
                    raise GanbenchError(f"{where}.{key}: {name!r} is not one of the suite's {key}s "
                                        f"({', '.join(sorted(names))})")
            metric = v.string(row.get("metric"), f"{where}.metric")
            if lookup(catalog, metric) is None:
                raise GanbenchError(f"{where}.metric: no collector logs {metric!r}")
            given = [k for k in ("value", "max", "min", "better_than") if row.get(k) is not None]
            if len(given) != 1:
                raise GanbenchError(f"{where}: give exactly one of value, max, min, better_than "
                                    f"(got {given or 'none'})")
            if "pm" in row and "value" not in given:
                raise GanbenchError(f"{where}.pm: a spread goes with a value, not a bound or a claim")
            if given == ["better_than"]:
                other = v.string(row["better_than"], f"{where}.better_than")
                if other not in variants or other == row["variant"]:
                    raise GanbenchError(f"{where}.better_than: {other!r} is not another of the suite's variants "
                                        f"({', '.join(sorted(variants - {row['variant']}))})")
                if lookup(catalog, metric).higher_is_better is None:
                    raise GanbenchError(f"{where}.metric: {metric!r} has no better direction to claim along")
                numbers = {"better_than": other}
            else:
                numbers = {k: v.number(row[k], f"{where}.{k}") for k in given}
            pm = v.number(row.get("pm", 0.0), f"{where}.pm", minimum=0.0)
            refs.append(Reference(source, row["variant"], row["dataset"], metric, pm=pm, steps=steps,
                                  other_data=other_data,
                                  note=v.string(row["note"], f"{where}.note") if "note" in row else "", **numbers))
    return tuple(refs)


def outcome(ref: Reference, n: int, ci: tuple[float, float], steps: int) -> str:
    """The row's outcome under RULE from the measured CI over ``n`` seeds trained ``steps`` steps."""
    low, high = ci
    if ref.value is not None:
        band = (ref.value - ref.pm, ref.value + ref.pm)
        misses = high < band[0] or low > band[1]
        settled = (high - low) <= band[1] - band[0]
    else:
        misses = low > ref.max if ref.max is not None else high < ref.min
        settled = high <= ref.max if ref.max is not None else low >= ref.min
    if n >= 1 and math.isfinite(low) and misses:
        outcome = NOT_REPRODUCED
    elif n < MIN_SEEDS or not math.isfinite(low) or not settled:
        outcome = INCONCLUSIVE
    else:
        outcome = REPRODUCED
    return _with_caveats(ref, outcome, steps)


def _with_caveats(ref: Reference, outcome: str, steps: int) -> str:
    caveats = ["other data"] if ref.other_data else []
    if ref.steps is not None and steps < ref.steps:
        caveats.append(f"reduced budget ({steps:,} of {ref.steps:,} steps)")
    if not caveats:
        return outcome
    agrees = {REPRODUCED: "agrees", NOT_REPRODUCED: "differs", INCONCLUSIVE: "inconclusive"}[outcome]
    return f"{', '.join(caveats)}: {agrees}"


def claim_outcome(ref: Reference, direction: str, steps: int) -> str:
    """A ``better_than`` row's outcome under CLAIM_RULE from ``statistics.Shift.direction`` of the variant's seeds
    against the other's (improved, regressed, or neither), with the same caveats as a value's."""
    found = {IMPROVED: REPRODUCED, REGRESSED: NOT_REPRODUCED}.get(direction, INCONCLUSIVE)
    return _with_caveats(ref, found, steps)
