"""The CI gate's rules, parsed from a suite's ``check:`` section."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ganbench import validate as v
from ganbench.errors import GanbenchError

EVENT_KINDS = ("mode_collapse", "d_overpowering", "divergence", "oscillation")
DEFAULT_FAIL_ON = ("mode_collapse", "d_overpowering", "divergence")
# Which way is better, for the metrics a threshold or regression rule may name.
HIGHER_IS_BETTER = {"fid": False, "mode_coverage": True, "modes_covered": True, "high_quality": True,
                    "mode_kl": False, "kid": False, "classifier_accuracy": True}
RULE_KEYS = ("fail_on", "allow", "thresholds", "regression", "alpha", "min_seeds")


@dataclass(frozen=True)
class Rules:
    fail_on: tuple[str, ...] = DEFAULT_FAIL_ON
    allow: dict[str, tuple[str, ...]] = field(default_factory=dict)  # variant -> accepted event kinds
    thresholds: dict[str, dict[str, float]] = field(default_factory=dict)  # metric -> {min, max}
    regression: dict[str, float] = field(default_factory=dict)  # metric -> allowed relative worsening
    alpha: float = 0.05  # significance level of the regression test
    min_seeds: int = 5  # fewer seeds on either side: tolerance alone, no test


def _kinds(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise GanbenchError(f"{where} must be a list of event kinds ({', '.join(EVENT_KINDS)})")
    return tuple(v.choice(k, f"{where}[{i}]", EVENT_KINDS) for i, k in enumerate(value))


def _metric(name: Any, where: str) -> str:
    name = v.string(name, where)
    if name not in HIGHER_IS_BETTER:
        raise GanbenchError(f"{where}: unknown metric {name!r}; rules can name {', '.join(HIGHER_IS_BETTER)}")
    return name


def parse_rules(doc: dict[str, Any]) -> Rules:
    """Validate a ``check:`` section; errors name the field (``check.thresholds.fid.max``)."""
    doc = v.mapping(doc, "check")
    v.check_keys(doc, RULE_KEYS, "check")
    allow = {}
    for variant, kinds in v.mapping(doc.get("allow", {}), "check.allow").items():
        allow[str(variant)] = _kinds(kinds, f"check.allow.{variant}")
    thresholds = {}
    for metric, bounds in v.mapping(doc.get("thresholds", {}), "check.thresholds").items():
        where = f"check.thresholds.{metric}"
        _metric(metric, "check.thresholds")
        bounds = v.mapping(bounds, where)
        v.check_keys(bounds, ("min", "max"), where)
        if not bounds:
            raise GanbenchError(f"{where} needs min and/or max")
        thresholds[metric] = {k: v.number(x, f"{where}.{k}") for k, x in bounds.items()}
    regression = {}
    for metric, tolerance in v.mapping(doc.get("regression", {}), "check.regression").items():
        _metric(metric, "check.regression")
        regression[metric] = v.number(tolerance, f"check.regression.{metric}", minimum=0.0)
    return Rules(
        fail_on=_kinds(doc["fail_on"], "check.fail_on") if "fail_on" in doc else DEFAULT_FAIL_ON,
        allow=allow, thresholds=thresholds, regression=regression,
        alpha=v.number(doc.get("alpha", 0.05), "check.alpha", positive=True, maximum=0.5),
        min_seeds=v.integer(doc.get("min_seeds", 5), "check.min_seeds", minimum=2),
    )
