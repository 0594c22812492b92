"""The CI gate: rules from a suite's ``check:`` section, evaluated on stored results (and a baseline) into one
verdict per variant x dataset x rule. Front ends (the CLI, JUnit XML, Markdown) only format these verdicts.

GAN outcomes swing with the seed, so every rule over seeds is an exact one-sided test at ``alpha`` whose
evidence states the test, the counts and p:

- ``events:<kind>``: the share of seeds with the event, against the baseline's share (Fisher's exact test) or,
  without a comparable baseline, against the rate at which runs that changed nothing show it (binomial test):
  the suite's measured ``null_rates`` (from ``ganbench calibrate``), else the shipped calibration
  (evidence/null_rates.py), else -- and always where the suite sets one -- the flat ``event_rate``, named as
  assumed. ``hard`` kinds (divergence: a loss non-finite or past its bound, or parameters blown up) fail on any
  seed, as do failed or missing runs.
- ``learning``: the share of seeds that did not learn (samples that never reached the data's modes, a stalled G,
  a pinned D), tested as an event: against the baseline's share, and without a baseline against the null rate of
  not learning unless ``require_learning: false``.
- ``threshold:<metric>``: a sign test that the median over seeds is past the bound (seeds without a final
  value count as past it).
- ``regression:<metric>``: the median got worse than the baseline's by more than the tolerance (the larger of
  ``rel`` x |baseline median| and ``abs``, so a baseline median of 0 still has a floor) *and* a one-sided
  Mann-Whitney U test finds the values worse.

A test that saw what it tests for (an event, a seed that did not learn, a seed past a bound, a worse median) but
not significantly is **seen, not significant**; one that saw nothing and could not have failed at these seeds is
**inconclusive**. What both do is the suite's ``inconclusive: pass | warn | fail`` (default warn: shown as
warnings, the build passes). A baseline measured differently (feature space, evaluation samples, data, steps,
architecture) is **not comparable**. ``strict: true`` fails all three.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ganbench import validate as v
from ganbench.errors import GanbenchError
from ganbench.evidence import statistics as sig
from ganbench.evidence.baseline import Baseline, final_values, load_baseline, measured_differently, measured_run
from ganbench.evidence.null_rates import NOT_LEARNED, NullRates, parse_null_rates, shipped
from ganbench.evidence.states import FINISHED
from ganbench.meta import Catalog, EventKind, directed

PASS, FAIL, NOT_COMPARABLE = "pass", "fail", "not comparable"
# undecided: seen, but not significantly; or nothing seen by a test that could not have failed at these seeds.
# The suite's ``inconclusive: pass | warn | fail`` says what they do
SEEN, INCONCLUSIVE = "seen, not significant", "inconclusive"
UNDECIDED = (SEEN, INCONCLUSIVE)
POLICIES = ("pass", "warn", "fail")
DEFAULT_EVENT_RATE = 0.1  # where no calibration measured a kind's null rate (and the verdict says it is assumed)
DEFAULT_FAIL_ON = ("mode_collapse", "d_overpowering", "divergence", "generator_stalled", "d_pinned", "g_no_gradient",
                   "label_ignored", "class_collapse")
RULE_KEYS = ("fail_on", "hard", "allow", "event_rate", "null_rates", "thresholds", "regression", "alpha", "strict",
             "inconclusive", "require_learning")


@dataclass(frozen=True)
class Tolerance:
    rel: float = 0.0  # allowed worsening, as a fraction of the baseline median
    abs: float = 0.0  # allowed worsening in the metric's units: the floor where the baseline median is near 0

    def allowed(self, base: float) -> float:
        return max(self.rel * abs(base), self.abs)


@dataclass(frozen=True)
class Rules:
    fail_on: tuple[str, ...] = DEFAULT_FAIL_ON
    hard: tuple[str, ...] = ("divergence",)  # event kinds that fail on any single seed
    allow: dict[str, tuple[str, ...]] = field(default_factory=dict)  # variant -> accepted event kinds
    event_rate: float | None = None  # a flat null rate for every kind, assumed: overrides the measured ones
    null_rates: NullRates | None = None  # measured by `ganbench calibrate` on this suite (check.null_rates)
    thresholds: dict[str, dict[str, float]] = field(default_factory=dict)  # metric -> {min, max} for the median
    regression: dict[str, Tolerance] = field(default_factory=dict)  # metric -> allowed worsening vs baseline
    alpha: float = 0.05  # significance level of every test
    strict: bool = False  # undecided and not-comparable verdicts fail the build too
    inconclusive: str = "warn"  # what undecided verdicts do: pass | warn | fail
    require_learning: bool = True  # without a baseline, seeds that did not learn are tested against their null rate
    higher_is_better: dict[str, bool] = field(default_factory=dict)  # every metric the rules name -> direction

    def fails(self, verdict: Verdict) -> bool:
        """Whether ``verdict`` fails the build under these rules."""
        return verdict.status == FAIL or (verdict.status != PASS and self.strict) or (
            verdict.status in UNDECIDED and self.inconclusive == "fail")

    def warns(self, verdict: Verdict) -> bool:
        """Whether ``verdict`` is shown as a warning: undecided, under ``inconclusive: warn``, or not comparable."""
        return not self.fails(verdict) and (verdict.status == NOT_COMPARABLE or (
            verdict.status in UNDECIDED and self.inconclusive == "warn"))


@dataclass(frozen=True)
class Verdict:
    variant: str
    dataset: str
    rule: str  # runs | baseline | events:<kind> | learning | threshold:<metric> | regression:<metric>
    status: str  # pass | fail | seen, not significant | inconclusive | not comparable
    evidence: str
    null_rate: str = ""  # where the rate it was tested against came from (tests without a baseline)

    @property
    def passed(self) -> bool:
        return self.status == PASS


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


def _tolerance(value: Any, where: str) -> Tolerance:
    """A number (relative tolerance) or {rel: x, abs: y}."""
    if isinstance(value, dict):
        v.check_keys(value, ("rel", "abs"), where)
        if not value:
            raise GanbenchError(f"{where} needs rel and/or abs")
        return Tolerance(**{k: v.number(x, f"{where}.{k}", minimum=0.0) for k, x in value.items()})
    return Tolerance(rel=v.number(value, where, minimum=0.0))


def parse_rules(doc: Any, catalog: Catalog, kinds: dict[str, EventKind]) -> Rules:
    """Validate a ``check:`` section against the metrics ``catalog`` (what the collectors declare) and the event
    ``kinds`` (what the detectors declare); errors name the field (``check.thresholds.fid.max``)."""
    doc = v.mapping(doc, "check")
    v.check_keys(doc, RULE_KEYS, "check")
    allow = {str(variant): _kinds(named, f"check.allow.{variant}", kinds)
             for variant, named in v.mapping(doc.get("allow", {}), "check.allow").items()}
    thresholds = {}
    for metric, bounds in v.mapping(doc.get("thresholds", {}), "check.thresholds").items():
        where = f"check.thresholds.{metric}"
        _metric(metric, "check.thresholds", catalog)
        bounds = v.mapping(bounds, where)
        v.check_keys(bounds, ("min", "max"), where)
        if not bounds:
            raise GanbenchError(f"{where} needs min and/or max")
        thresholds[metric] = {k: v.number(x, f"{where}.{k}") for k, x in bounds.items()}
    regression = {_metric(m, "check.regression", catalog): _tolerance(t, f"check.regression.{m}")
                  for m, t in v.mapping(doc.get("regression", {}), "check.regression").items()}
    return Rules(
        fail_on=_kinds(doc["fail_on"], "check.fail_on", kinds) if "fail_on" in doc else DEFAULT_FAIL_ON,
        hard=_kinds(doc["hard"], "check.hard", kinds) if "hard" in doc else ("divergence",),
        allow=allow, thresholds=thresholds, regression=regression,
        event_rate=v.number(doc["event_rate"], "check.event_rate", minimum=0.0, maximum=1.0)
        if "event_rate" in doc else None,
        null_rates=parse_null_rates(doc["null_rates"]) if "null_rates" in doc else None,
        alpha=v.number(doc.get("alpha", 0.05), "check.alpha", positive=True, maximum=0.5),
        strict=v.boolean(doc.get("strict", False), "check.strict"),
        inconclusive=v.choice(doc.get("inconclusive", "warn"), "check.inconclusive", POLICIES),
        require_learning=v.boolean(doc.get("require_learning", True), "check.require_learning"),
        higher_is_better={m: bool(catalog[m].higher_is_better) for m in {*thresholds, *regression}},
    )


def _decide(p: float, p_min: float, alpha: float, seen: bool) -> tuple[str, str]:
    """A test's verdict and how its p reads against alpha; ``seen``: the build shows what the test looks for."""
    if p < alpha:
        return FAIL, f"p = {p:.3g} < alpha {alpha}"
    if p_min >= alpha:
        return (SEEN if seen else INCONCLUSIVE), f"p = {p:.3g}, but at these seeds p cannot go below {p_min:.3g} " \
                                                 f">= alpha {alpha}"
    return (SEEN if seen else PASS), f"p = {p:.3g} >= alpha {alpha}"


def _runs_verdict(runs, variant: str, dataset: str) -> Verdict:
    bad = runs[~runs.status.isin(FINISHED)]
    if bad.empty:
        return Verdict(variant, dataset, "runs", PASS, f"all {len(runs)} runs finished")
    detail = "; ".join(f"seed {r.seed} {r.status}" + (f": {r.error}" if isinstance(r.error, str) else "")
                       for r in bad.itertuples())
    return Verdict(variant, dataset, "runs", FAIL, f"{len(bad)} of {len(runs)} runs did not finish ({detail})")


def _event_verdict(events, n: int, rules: Rules, cell: tuple[str, str], kind: str,
                   base: dict[str, int] | None) -> Verdict:
    """``base``: the comparable baseline's seed and event counts for this cell, when there is one."""
    rule = f"events:{kind}"
    ev = events[events.kind == kind]
    first = ev.sort_values("step").groupby("seed").step.min()
    k = len(first)
    seen = f"{kind} in {k} of {n} seeds"
    if k:
        evidence = ev.sort_values("step").iloc[0].evidence or {}
        shown = ", ".join(f"{key}={x}" for key, x in evidence.items() if key != "window")
        seen += f" ({', '.join(f'seed {s} from step {t}' for s, t in first.items())}; first: {shown})"
    if kind in rules.allow.get(cell[0], ()):
        return Verdict(*cell, rule, PASS, f"allowed for this variant: {seen}")
    if kind in rules.hard:
        return Verdict(*cell, rule, FAIL if k else PASS, f"{seen} (hard rule: any seed fails)" if k else f"no {kind}")
    return _share_verdict(k, n, _base_count(base, kind), base, rules, cell, rule, seen, kind)


def _base_count(base: dict[str, int] | None, kind: str) -> int | None:
    """The comparable baseline's seeds showing ``kind`` (an event kind: 0 where none did; ``not_learned``: None
    for baselines written before the learning rule), or None without a baseline."""
    if base is None:
        return None
    return base.get(kind) if kind == NOT_LEARNED else base.get(kind, 0)


def null_rate(rules: Rules, kind: str, dataset: str) -> tuple[float, str, str]:
    """The rate at which runs that changed nothing show ``kind`` (an event kind or ``not_learned``) on ``dataset``:
    (rate, how a verdict states it, its source)."""
    if rules.event_rate is not None:
        return rules.event_rate, f"an allowed rate of {rules.event_rate:.0%}", "the suite's event_rate, assumed"
    measured = (rules.null_rates.get(kind, dataset) if rules.null_rates is not None else None) or \
        shipped().get(kind, dataset)
    if measured is None:
        return DEFAULT_EVENT_RATE, f"an allowed rate of {DEFAULT_EVENT_RATE:.0%}", \
            f"no calibration measured {kind}, assumed"
    return measured.rate, f"the rate of runs that changed nothing, {measured.describe()}", measured.source


def _share_verdict(k: int, n: int, k_base: int | None, base: dict[str, int] | None, rules: Rules,
                   cell: tuple[str, str], rule: str, seen: str, kind: str) -> Verdict:
    """``k`` of ``n`` seeds showed ``kind``: more than the baseline's ``k_base`` of its seeds (Fisher's exact test),
    or without a baseline (``k_base`` None) more than its null rate allows (binomial test)."""
    source = ""
    if k_base is not None:
        p, p_min = sig.fisher(k, n, k_base, base["seeds"])
        test = f"Fisher's exact test against the baseline's {k_base} of {base['seeds']} seeds"
    else:
        rate, stated, source = null_rate(rules, kind, cell[1])
        p, p_min = sig.binomial(k, n, rate)
        test = f"binomial test against {stated}"
    status, reading = _decide(p, p_min, rules.alpha, k > 0)
    return Verdict(*cell, rule, status, f"{seen}; {test}: {reading}", source)


def _learning_verdict(not_learned: list[int], n: int, rules: Rules, cell: tuple[str, str],
                      base: dict[str, int] | None) -> Verdict:
    """``not_learned``: the seeds whose runs did not learn; ``base``: the comparable baseline's counts."""
    k = len(not_learned)
    seen = f"{k} of {n} seeds did not learn" + (f" (seeds {', '.join(map(str, not_learned))})" if k else "")
    k_base = _base_count(base, NOT_LEARNED)
    if k_base is None and not rules.require_learning:
        return Verdict(*cell, "learning", PASS, f"{seen}; not required without a baseline (require_learning: false)")
    return _share_verdict(k, n, k_base, base, rules, cell, "learning", seen, NOT_LEARNED)


def _threshold_verdict(values: list[float], n: int, rules: Rules, cell: tuple[str, str], metric: str,
                       bounds: dict[str, float]) -> Verdict:
    """Sign test: seeds past a bound (or without a final value) are as likely as not if the median is on it."""
    rule = f"threshold:{metric}"
    x = np.asarray(values, dtype=float)
    past = n - len(x) + int(sum(((x < bounds["min"]) if "min" in bounds else 0) |
                                ((x > bounds["max"]) if "max" in bounds else 0)))
    limits = ", ".join(f"{k} {b:.4g}" for k, b in bounds.items())
    median = f"median {np.median(x):.4g}" if len(x) else "no final value"
    p, p_min = sig.binomial(past, n, 0.5)
    status, reading = _decide(p, p_min, rules.alpha, 2 * past > n)
    return Verdict(*cell, rule, status, f"{past} of {n} seeds outside {limits} ({median}); sign test that the "
                                        f"median is outside: {reading}")


def _regression_verdict(now: list[float], then: list[float] | None, rules: Rules, cell: tuple[str, str],
                        metric: str) -> Verdict:
    rule = f"regression:{metric}"
    if not then:
        return Verdict(*cell, rule, PASS, "not in the baseline: nothing to compare")
    if not now:
        return Verdict(*cell, rule, FAIL, f"no final {metric} to compare")
    higher = rules.higher_is_better[metric]
    found = sig.shift(now, then, higher, rules.regression[metric].allowed(float(np.median(then))))
    text = (f"median {found.now:.4g} vs baseline {found.then:.4g} over {len(now)} vs {len(then)} seeds "
            f"({'higher' if higher else 'lower'} is better; allowed worsening {found.allowed:.4g})")
    if not -found.better_by > found.allowed:
        return Verdict(*cell, rule, PASS, f"{text}: within tolerance")
    status, reading = _decide(found.p_worse, found.p_min, rules.alpha, True)
    return Verdict(*cell, rule, status, f"{text}; one-sided Mann-Whitney U: {reading}")


def _differs(results, runs, cell: tuple[str, str], baseline: Baseline | None) -> list[str]:
    """How the baseline's runs of ``cell`` were measured otherwise than ``runs`` (nothing without a baseline)."""
    if baseline is None:
        return []
    return measured_differently(baseline.measured.get(cell), results.configs.get(measured_run(runs), {}))


def evaluate(results, rules: Rules, baseline: Baseline | None = None) -> list[Verdict]:
    """Every rule for every variant x dataset of ``results``."""
    from ganbench.evidence.states import not_learned

    values = final_values(results, list(rules.higher_is_better))
    unlearned = not_learned(results)
    verdicts = []
    for cell, runs in results.runs.groupby(["variant", "dataset"], sort=False):
        verdicts.append(_runs_verdict(runs, *cell))
        differs = _differs(results, runs, cell, baseline)
        if differs:
            verdicts.append(Verdict(*cell, "baseline", NOT_COMPARABLE,
                                    "the baseline was measured differently: " + "; ".join(differs)))
        compare = baseline is not None and not differs
        base_events = baseline.events.get(cell) if compare else None
        # the per-seed rules count the runs that ended: an interrupted or unstarted run has no verdict to give
        # (the runs rule fails it), and counting it would pass 'learning' on seeds that never trained
        finished = runs[runs.status.isin(FINISHED)]
        if finished.empty:
            verdicts.append(Verdict(*cell, "seeds", INCONCLUSIVE, f"none of the {len(runs)} runs finished: no "
                                                                  "event or learning rule can be tested"))
        else:
            events = results.events[results.events.run_id.isin(set(finished.run_id))]
            for kind in rules.fail_on:
                verdicts.append(_event_verdict(events, len(finished), rules, cell, kind, base_events))
            not_learned = sorted(int(r.seed) for r in finished.itertuples() if r.run_id in unlearned)
            verdicts.append(_learning_verdict(not_learned, len(finished), rules, cell, base_events))
        measured = values.get(cell, {})
        for metric, bounds in rules.thresholds.items():
            verdicts.append(_threshold_verdict(measured.get(metric, []), len(runs), rules, cell, metric, bounds))
        if compare:
            for metric in rules.regression:
                then = baseline.values.get(cell, {}).get(metric)
                verdicts.append(_regression_verdict(measured.get(metric, []), then, rules, cell, metric))
    return verdicts


POWER = 0.8  # the detection probability "the smallest detectable change" is stated at


def _fewest_failing(n: int, p_of) -> int | None:
    """The fewest of ``n`` seeds for which ``p_of(k)`` < alpha (p falls as k grows), or None."""
    return next((k for k in range(1, n + 1) if p_of(k)), None)


def _detectable(n: int, k: int) -> float:
    """The share of seeds at which a build of ``n`` fails (>= ``k`` seeds show it) with probability POWER."""
    from scipy import optimize, stats

    if stats.binom.sf(k - 1, n, 1.0) < POWER:
        return 1.0
    return float(optimize.brentq(lambda q: stats.binom.sf(k - 1, n, q) - POWER, 0.0, 1.0))


def reach(rules: Rules, n: int, dataset: str, base: dict[str, int] | None = None,
          n_base: int | None = None) -> list[tuple[str, str]]:
    """What each rule can decide for a cell of ``n`` seeds on ``dataset`` (``base``: a comparable baseline's counts;
    ``n_base``: its seeds per metric): (rule, 'fails when ...' or 'cannot fail at N seeds ...')."""
    alpha, out = rules.alpha, []

    def share(rule: str, kind: str) -> None:
        k_base = _base_count(base, kind)
        if k_base is not None:
            m = base["seeds"]
            k = _fewest_failing(n, lambda k: sig.fisher(k, n, k_base, m)[0] < alpha)
            against = f"the baseline's {k_base} of {m} seeds"
        else:
            rate, stated, source = null_rate(rules, kind, dataset)
            k = _fewest_failing(n, lambda k: sig.binomial(k, n, rate)[0] < alpha)
            against = f"a null rate of {rate:.1%} ({source})"
        if k is None:
            out.append((rule, f"cannot fail at {n} seeds against {against}: too few seeds"))
        else:
            out.append((rule, f"fails when >= {k} of {n} seeds show it (against {against}); detects a rise to "
                              f"{_detectable(n, k):.0%} of seeds with {POWER:.0%} power"))

    for kind in rules.fail_on:
        if kind in rules.hard:
            out.append((f"events:{kind}", "fails on any seed (hard rule)"))
        else:
            share(f"events:{kind}", kind)
    if _base_count(base, NOT_LEARNED) is not None or rules.require_learning:
        share("learning", NOT_LEARNED)
    for metric in rules.thresholds:
        k = _fewest_failing(n, lambda k: sig.binomial(k, n, 0.5)[0] < alpha)
        out.append((f"threshold:{metric}", f"fails when >= {k} of {n} seeds are past the bound" if k else
                                           f"cannot fail at {n} seeds: too few seeds for a sign test"))
    if n_base is not None:
        for metric in rules.regression:
            p_min = 1 / math.comb(n + n_base, n)
            out.append((f"regression:{metric}", f"can fail (smallest p {p_min:.2g} < alpha)" if p_min < alpha else
                                                f"cannot fail at {n} vs {n_base} seeds (smallest p {p_min:.2g})"))
    return out


def build_reach(results, rules: Rules, baseline: Baseline | None = None) -> list[str]:
    """``reach`` for every variant x dataset of ``results``, one line per rule (cells named where they differ),
    against the baseline where ``evaluate`` compares with it."""
    found: dict[tuple[str, str], list[str]] = {}
    cells = results.runs.groupby(["variant", "dataset"], sort=False)
    for cell, runs in cells:
        base = None if baseline is None or _differs(results, runs, cell, baseline) else baseline.events.get(cell)
        for rule, text in reach(rules, len(runs), cell[1], base, base["seeds"] if base else None):
            found.setdefault((rule, text), []).append(f"{cell[0]} on {cell[1]}")
    return [f"{rule}: {text}" + ("" if len(where) == cells.ngroups else f" ({', '.join(where)})")
            for (rule, text), where in found.items()]


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
