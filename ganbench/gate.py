"""The CI gate: rules from a suite's ``check:`` section, evaluated on stored results (and a baseline) into
one PASS/FAIL verdict per variant x dataset x rule. Front ends (the CLI, JUnit XML, Markdown) only format
these verdicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from ganbench import validate as v
from ganbench.errors import GanbenchError
from ganbench.meta import Catalog, EventKind, directed

DEFAULT_FAIL_ON = ("mode_collapse", "d_overpowering", "divergence")
RULE_KEYS = ("fail_on", "allow", "thresholds", "regression", "alpha", "min_seeds")


@dataclass(frozen=True)
class Rules:
    fail_on: tuple[str, ...] = DEFAULT_FAIL_ON
    allow: dict[str, tuple[str, ...]] = field(default_factory=dict)  # variant -> accepted event kinds
    thresholds: dict[str, dict[str, float]] = field(default_factory=dict)  # metric -> {min, max}
    regression: dict[str, float] = field(default_factory=dict)  # metric -> allowed relative worsening
    alpha: float = 0.05  # significance level of the regression test
    min_seeds: int = 5  # fewer seeds on either side: tolerance alone, no test
    higher_is_better: dict[str, bool] = field(default_factory=dict)  # every metric the rules name -> its direction


def _kinds(value: Any, where: str, kinds: dict[str, EventKind]) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise GanbenchError(f"{where} must be a list of event kinds ({', '.join(kinds)})")
    return tuple(v.choice(k, f"{where}[{i}]", kinds) for i, k in enumerate(value))


def _metric(name: Any, where: str, catalog: Catalog) -> str:
    name = v.string(name, where)
    allowed = directed(catalog)
    if name not in allowed:
        raise GanbenchError(f"{where}: unknown metric {name!r}; rules can name the evaluation metrics with a "
                            f"direction: {', '.join(allowed)}")
    return name


def parse_rules(doc: Any, catalog: Catalog, kinds: dict[str, EventKind]) -> Rules:
    """Validate a ``check:`` section against the metrics ``catalog`` (what the collectors declare) and the event
    ``kinds`` (what the detectors declare); errors name the field (``check.thresholds.fid.max``)."""
    doc = v.mapping(doc, "check")
    v.check_keys(doc, RULE_KEYS, "check")
    allow = {}
    for variant, named in v.mapping(doc.get("allow", {}), "check.allow").items():
        allow[str(variant)] = _kinds(named, f"check.allow.{variant}", kinds)
    thresholds = {}
    for metric, bounds in v.mapping(doc.get("thresholds", {}), "check.thresholds").items():
        where = f"check.thresholds.{metric}"
        _metric(metric, "check.thresholds", catalog)
        bounds = v.mapping(bounds, where)
        v.check_keys(bounds, ("min", "max"), where)
        if not bounds:
            raise GanbenchError(f"{where} needs min and/or max")
        thresholds[metric] = {k: v.number(x, f"{where}.{k}") for k, x in bounds.items()}
    regression = {}
    for metric, tolerance in v.mapping(doc.get("regression", {}), "check.regression").items():
        _metric(metric, "check.regression", catalog)
        regression[metric] = v.number(tolerance, f"check.regression.{metric}", minimum=0.0)
    return Rules(
        fail_on=_kinds(doc["fail_on"], "check.fail_on", kinds) if "fail_on" in doc else DEFAULT_FAIL_ON,
        allow=allow, thresholds=thresholds, regression=regression,
        alpha=v.number(doc.get("alpha", 0.05), "check.alpha", positive=True, maximum=0.5),
        min_seeds=v.integer(doc.get("min_seeds", 5), "check.min_seeds", minimum=2),
        higher_is_better={m: bool(catalog[m].higher_is_better) for m in {*thresholds, *regression}},
    )


@dataclass(frozen=True)
class Verdict:
    variant: str
    dataset: str
    rule: str  # runs | events:<kind> | threshold:<metric> | regression:<metric>
    passed: bool
    evidence: str


Values = dict[tuple[str, str], dict[str, list[float]]]  # (variant, dataset) -> metric -> final value per seed


def final_values(results, metrics: list[str]) -> Values:
    final = results.final(metrics).reset_index().sort_values("seed")
    out: Values = {}
    for (variant, dataset), frame in final.groupby(["variant", "dataset"]):
        out[variant, dataset] = {m: [float(x) for x in frame[m] if x == x] for m in metrics if m in frame}
    return out


def baseline_json(results) -> dict[str, Any]:
    """What ``--write-baseline`` saves: every directed evaluation metric's final value per seed, per variant and
    dataset -- small, and enough to recompute medians and rerun the regression test."""
    metrics: dict[str, dict[str, dict[str, list[float]]]] = {}
    for (variant, dataset), per_metric in final_values(results, directed(results.metric_info())).items():
        metrics.setdefault(variant, {})[dataset] = {m: x for m, x in per_metric.items() if x}
    return {"format": "ganbench-baseline/1", "suite": results.suite, "metrics": metrics}


def load_baseline(path: str | Path) -> Values:
    """A baseline JSON file or a results directory, as final values per seed."""
    path = Path(path)
    if path.is_dir():
        from ganbench.results import load_results

        baseline = load_results(path)
        return final_values(baseline, directed(baseline.metric_info()))
    from ganbench.store import read_json

    doc = read_json(path)
    if not isinstance(doc, dict) or doc.get("format") != "ganbench-baseline/1":
        raise GanbenchError(f"{path} is not a ganbench baseline (write one with --write-baseline)")
    try:
        return {(variant, dataset): {m: [float(x) for x in xs] for m, xs in metrics.items()}
                for variant, per_dataset in doc["metrics"].items() for dataset, metrics in per_dataset.items()}
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        raise GanbenchError(f"corrupt baseline file {path}: {exc}") from None


def _runs_verdict(runs, variant: str, dataset: str) -> Verdict:
    bad = runs[~runs.status.isin(["completed", "diverged"])]
    if bad.empty:
        return Verdict(variant, dataset, "runs", True, f"all {len(runs)} runs finished")
    detail = "; ".join(f"seed {r.seed} {r.status}" + (f": {r.error}" if isinstance(r.error, str) else "")
                       for r in bad.itertuples())
    return Verdict(variant, dataset, "runs", False, f"{len(bad)} of {len(runs)} runs did not finish ({detail})")


def _event_verdict(events, n_seeds: int, rules: Rules, variant: str, dataset: str, kind: str) -> Verdict:
    rule = f"events:{kind}"
    ev = events[events.kind == kind].sort_values("step")
    if ev.empty:
        return Verdict(variant, dataset, rule, True, f"no {kind}")
    first = ev.groupby("seed").step.min()
    where = ", ".join(f"seed {seed} from step {step}" for seed, step in first.items())
    evidence = ev.iloc[0].evidence or {}
    shown = ", ".join(f"{k}={x}" for k, x in evidence.items() if k != "window")
    text = f"{kind} in {len(first)} of {n_seeds} seeds ({where}); first: {shown}"
    if kind in rules.allow.get(variant, ()):
        return Verdict(variant, dataset, rule, True, f"allowed for this variant: {text}")
    return Verdict(variant, dataset, rule, False, text)


def _threshold_verdict(values: dict[str, list[float]], variant: str, dataset: str, metric: str,
                       bounds: dict[str, float]) -> Verdict:
    rule = f"threshold:{metric}"
    seeds = values.get(metric, [])
    if not seeds:
        return Verdict(variant, dataset, rule, False, f"no final {metric} to check")
    median = float(np.median(seeds))
    problems = []
    if "min" in bounds and not median >= bounds["min"]:
        problems.append(f"median {median:.4g} < min {bounds['min']:.4g}")
    if "max" in bounds and not median <= bounds["max"]:
        problems.append(f"median {median:.4g} > max {bounds['max']:.4g}")
    limits = ", ".join(f"{k} {x:.4g}" for k, x in bounds.items())
    text = "; ".join(problems) if problems else f"median {median:.4g} within {limits}"
    return Verdict(variant, dataset, rule, not problems, f"{text} over {len(seeds)} seeds")


def _regression_verdict(now: list[float], then: list[float] | None, rules: Rules, variant: str, dataset: str,
                        metric: str) -> Verdict:
    """Worse than the baseline's median by more than the relative tolerance; with >= min_seeds seeds on both
    sides the worsening must also be significant (one-sided Mann-Whitney U at alpha)."""
    rule = f"regression:{metric}"
    tolerance = rules.regression[metric]
    if not then:
        return Verdict(variant, dataset, rule, True, "not in the baseline: nothing to compare")
    if not now:
        return Verdict(variant, dataset, rule, False, f"no final {metric} to compare")
    higher = rules.higher_is_better[metric]
    base, current = float(np.median(then)), float(np.median(now))
    worsening = (base - current) if higher else (current - base)
    allowed = tolerance * abs(base)
    text = (f"median {current:.4g} vs baseline {base:.4g} ({'higher' if higher else 'lower'} is better; "
            f"allowed worsening {tolerance:.0%} = {allowed:.4g})")
    exceeded = worsening > allowed
    if min(len(now), len(then)) < rules.min_seeds:
        return Verdict(variant, dataset, rule, not exceeded,
                       f"{text}; {len(now)} vs {len(then)} seeds, fewer than {rules.min_seeds}: tolerance only, "
                       "no significance test")
    alternative = "less" if higher else "greater"  # is the current distribution worse than the baseline's?
    p = 1.0 if len(set(now) | set(then)) == 1 else float(stats.mannwhitneyu(now, then, alternative=alternative).pvalue)
    significant = p < rules.alpha
    return Verdict(variant, dataset, rule, not (exceeded and significant),
                   f"{text}; one-sided Mann-Whitney U p = {p:.3g} (alpha {rules.alpha}, {len(now)} vs {len(then)} "
                   f"seeds){'' if significant or not exceeded else ': worse, but not significantly'}")


def evaluate(results, rules: Rules, baseline: Values | None = None) -> list[Verdict]:
    """Every rule for every variant x dataset of ``results``."""
    values = final_values(results, list(rules.higher_is_better))
    verdicts = []
    for (variant, dataset), runs in results.runs.groupby(["variant", "dataset"], sort=False):
        verdicts.append(_runs_verdict(runs, variant, dataset))
        events = results.events[(results.events.variant == variant) & (results.events.dataset == dataset)]
        for kind in rules.fail_on:
            verdicts.append(_event_verdict(events, len(runs), rules, variant, dataset, kind))
        cell = values.get((variant, dataset), {})
        for metric, bounds in rules.thresholds.items():
            verdicts.append(_threshold_verdict(cell, variant, dataset, metric, bounds))
        if baseline is not None:
            for metric in rules.regression:
                then = baseline.get((variant, dataset), {}).get(metric)
                verdicts.append(_regression_verdict(cell.get(metric, []), then, rules, variant, dataset, metric))
    return verdicts


def rules_of(results) -> Rules:
    """The rules stored with a suite's results (its suite.yaml's ``check:`` section), against the metrics the
    runs declared."""
    from ganbench.diagnostics import event_kinds

    doc = results.store.suite_doc()
    return parse_rules(doc.get("check", {}), results.metric_info(), event_kinds())


def check(results_dir: str | Path, baseline: str | Path | None = None) -> list[Verdict]:
    """Check stored results against their suite's rules (and a baseline file or results directory)."""
    from ganbench.results import load_results

    results = load_results(results_dir)
    return evaluate(results, rules_of(results), load_baseline(baseline) if baseline is not None else None)
