"""Calibrating the gate: how often it fails a build that changed nothing but the seeds (its false-alarm
rate), and how often it catches a regression injected on purpose (its power).

The suite's first seed set (its own ``seeds``) is the baseline; ``sets`` further disjoint seed sets of the
same size stand in for harmless changes that perturb the chaotic training trajectory (a refactor reordering
floating-point operations, a library upgrade, another GPU). Each is checked against the baseline with the
suite's own rules, exactly as ``ganbench check --baseline`` would. Injected regressions are the same suite
with variant overrides (``d_lr=x10, n_critic=5``) over the same further seed sets. Everything is one suite
run per scenario (seeds trained together), then split into builds by seed set.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ganbench.errors import GanbenchError
from ganbench.evidence.baseline import from_results
from ganbench.evidence.gate import PASS, Rules, Verdict, evaluate
from ganbench.evidence.null_rates import NullRates, measure
from ganbench.evidence.statistics import clopper_pearson
from ganbench.spec.suite import Suite, load_suite, parse_suite

SCALED = ("d_lr", "g_lr", "regularizer_weight", "n_critic")  # axes an injection may scale (``x10``)


@dataclass(frozen=True)
class Injection:
    """A regression to inject: axis overrides for every variant; ``xF`` scales the variant's own value."""

    name: str
    overrides: dict[str, Any]

    def apply(self, recipe, base: Callable[[str], Any] | None = None) -> dict[str, Any]:
        """The overrides for ``recipe`` (a variant's recipe; or, with ``base``, the value of each axis)."""
        out = {}
        for axis, value in self.overrides.items():
            if isinstance(value, str) and value.startswith("x"):
                factor = float(value[1:])
                if base is not None:
                    own = base(axis)
                elif axis == "regularizer_weight":  # every penalty's weight, defaults resolved
                    own = [w for _, w in recipe.penalties()]
                    if not own:
                        raise GanbenchError(f"injection {self.name!r}: regularizer_weight=x{factor:g} scales a "
                                            "variant without a regularizer")
                    own = own[0] if len(own) == 1 else own
                else:
                    own = getattr(recipe, axis)
                if isinstance(own, list):
                    out[axis] = [w * factor for w in own]
                else:
                    out[axis] = max(1, round(own * factor)) if isinstance(own, int) else own * factor
            else:
                out[axis] = value
        return out


def parse_injection(text: str, scalable: tuple[str, ...] | None = SCALED) -> Injection:
    """``NAME: axis=value, axis=xFACTOR, ...`` (values read as YAML); ``scalable`` None lets any axis scale."""
    name, sep, rest = text.partition(":")
    name = name.strip()
    if not sep or not name or not rest.strip():
        raise GanbenchError(f"--inject {text!r}: expected NAME: AXIS=VALUE[, AXIS=VALUE ...]")
    overrides = {}
    for item in rest.split(","):
        axis, eq, value = item.partition("=")
        if not eq:
            raise GanbenchError(f"--inject {text!r}: {item.strip()!r} is not AXIS=VALUE")
        axis, value = axis.strip(), value.strip()
        if value.startswith("x"):
            if scalable is not None and axis not in scalable:
                raise GanbenchError(f"--inject {text!r}: only {', '.join(scalable)} can be scaled with xFACTOR")
            try:
                float(value[1:])
            except ValueError:
                raise GanbenchError(f"--inject {text!r}: {value!r} is not a factor like x10") from None
            overrides[axis] = value
        else:
            overrides[axis] = yaml.safe_load(value)
    return Injection(name, overrides)


def seed_sets(seeds: tuple[int, ...], sets: int) -> list[tuple[int, ...]]:
    """The suite's own seeds (the baseline), then ``sets`` disjoint sets of as many seeds after them."""
    n, start = len(seeds), max(seeds) + 1
    return [tuple(seeds)] + [tuple(range(start + i * n, start + (i + 1) * n)) for i in range(sets)]


def _injected(suite: Suite, variant: str, injection: Injection) -> dict[str, Any]:
    """The overrides that inject ``injection`` into ``variant`` as it trains on the suite's data: scaled from its
    tuned rates where it has them, which the overrides then spell out (setting one rate axis drops the tuning)."""
    from ganbench.recipes.variants import RATE_AXES

    recipe, *others = [suite.recipe(variant, d) for d in suite.datasets]
    if any(other != recipe for other in others) and set(injection.overrides) & set(RATE_AXES):
        raise GanbenchError(f"injection {injection.name!r}: variant {variant!r} trains with other rates on each of "
                            "the suite's datasets; give its rates in the suite, or calibrate one dataset at a time")
    overrides = injection.apply(recipe)
    if set(overrides) & set(RATE_AXES) and recipe != dict(suite.variants)[variant]:
        overrides = {**{axis: getattr(recipe, axis) for axis in RATE_AXES}, **overrides}
    return overrides


def _scenario(doc: dict[str, Any], suite: Suite, name: str, seeds: list[int], injection: Injection | None) -> Suite:
    doc = {**doc, "name": name, "seeds": seeds}
    if injection is not None:
        entries = [{"name": e} if isinstance(e, str) else dict(e) for e in doc["variants"]]
        doc["variants"] = [{**entry, **_injected(suite, variant, injection)}
                           for entry, (variant, _) in zip(entries, suite.variants)]
    try:
        return parse_suite(doc, yaml.safe_dump(doc, sort_keys=False))
    except GanbenchError as exc:
        raise GanbenchError(f"injection {injection.name if injection else ''!r}: {exc}") from None


@dataclass
class Scenario:
    """One scenario's builds: the verdicts of each seed set checked against the baseline."""

    name: str
    builds: list[list[Verdict]]
    wall_s: float
    overrides: dict[str, Any] = field(default_factory=dict)  # the injection's (none: the seed change only)

    def graded(self) -> tuple[str, float] | None:
        """(axis, factor) when the injection scales one axis by a factor (``d_lr=x2``): a step of a ladder."""
        if len(self.overrides) != 1:
            return None
        ((axis, value),) = self.overrides.items()
        return (axis, float(value[1:])) if isinstance(value, str) and value.startswith("x") else None

    def failing(self, rules: Rules, rule: str | None = None) -> int:
        """Builds failed by ``rule`` (a rule name like ``events:mode_collapse``; None: the whole gate)."""
        return sum(any(rules.fails(v) and (rule is None or v.rule == rule) for v in b) for b in self.builds)

    def inconclusive(self, rules: Rules, rule: str | None = None) -> int:
        """Builds with an undecided (or not comparable) verdict that did not fail them."""
        return sum(any(v.status != PASS and not rules.fails(v) and (rule is None or v.rule == rule) for v in b)
                   for b in self.builds)


@dataclass(frozen=True)
class Rung:
    """Builds of ``seeds`` seeds each, checked without a baseline (a CI job's own seeds): how many of the clean
    ones failed, and of each injection's."""

    seeds: int
    false_alarms: tuple[int, int]  # (failed, builds)
    detections: dict[str, tuple[int, int]]  # injection -> (failed, builds)


@dataclass
class Calibration:
    suite: str
    rules: Rules
    seeds_per_set: int
    clean: Scenario
    injected: list[Scenario] = field(default_factory=list)
    null_rates: NullRates | None = None  # measured on every seed-only run: for the suite's check.null_rates
    ladder: list[Rung] = field(default_factory=list)

    def rule_names(self) -> list[str]:
        return list(dict.fromkeys(v.rule for b in self.clean.builds for v in b))


def calibrate(path: str | Path, sets: int = 10, injections: Iterable[Injection] = (), out: str | Path = "results",
              workers: int = 1, reporter=None) -> Calibration:
    """Run the suite's clean and injected scenarios over ``sets`` + 1 disjoint seed sets and check each."""
    from ganbench.execution.runner import run_suite
    from ganbench.results import load_results

    if sets < 1:
        raise GanbenchError("--sets must be at least 1")
    suite = load_suite(path)
    if suite.sweep is not None:
        raise GanbenchError("calibrate measures a gate over seed sets of fixed recipes: give it a suite without "
                            "sweep: (e.g. the variants at their best trials' settings)")
    doc = yaml.safe_load(suite.source)
    groups = seed_sets(suite.seeds, sets)
    seeds = [s for group in groups for s in group]

    def run(name: str, injection: Injection | None, with_baseline: bool) -> tuple[Any, float]:
        began = time.perf_counter()
        scenario = _scenario(doc, suite, name, seeds if with_baseline else seeds[len(groups[0]):], injection)
        root = run_suite(scenario, out=out, workers=workers, reporter=reporter).root
        return load_results(root), time.perf_counter() - began

    clean, wall = run(f"{suite.name}-calibrate", None, True)
    baseline = from_results(clean.subset(groups[0]))
    check = lambda r: [evaluate(r.subset(g), suite.check, baseline) for g in groups[1:]]  # noqa: E731
    calibration = Calibration(suite.name, suite.check, len(groups[0]), Scenario("seed change only", check(clean),
                                                                               wall))
    injected = {}
    for injection in injections:
        injected[injection.name], wall = run(f"{suite.name}-calibrate-{injection.name}", injection, False)
        calibration.injected.append(Scenario(injection.name, check(injected[injection.name]), wall,
                                             injection.overrides))
    return _with_ladder(calibration, clean, injected, groups, f"ganbench calibrate {path}")


@functools.cache  # a file's module runs once per process, however many runs and checks ask for it
def load_callable(target: str) -> Callable[..., Any]:
    """``path/to/file.py:function`` or ``package.module:function``."""
    where, sep, name = target.rpartition(":")
    if not sep or not where or not name:
        raise GanbenchError(f"--loop {target!r}: expected FILE.py:FUNCTION or MODULE:FUNCTION")
    if where.endswith(".py"):
        path = Path(where).resolve()
        if not path.is_file():
            raise GanbenchError(f"--loop {target!r}: no file {where}")
        module_name = f"_ganbench_loop_{path.stem}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        sys.path.insert(0, str(path.parent))  # the script's own imports, as when it runs as a script
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(path.parent))
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as exc:
            raise GanbenchError(f"--loop {target!r}: cannot import {where}: {exc}") from None
    fn = getattr(module, name, None)
    if not callable(fn):
        raise GanbenchError(f"--loop {target!r}: {where} has no function {name}")
    return fn


@dataclass(frozen=True)
class Loop:
    """A user's training loop: ``target`` names a callable ``train(seed=, out=, suite=, **knobs)`` that tracks
    itself into ``out/suite``; ``params`` are keyword arguments every run gets."""

    target: str
    params: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        accepted = inspect.signature(load_callable(self.target)).parameters
        missing = [k for k in ("seed", "out", "suite", *self.params) if k not in accepted]
        if missing and not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
            raise GanbenchError(f"--loop {self.target}: the function takes no {', '.join(missing)} (it must accept "
                                "seed, out and suite, and every knob set or injected)")

    def default(self, knob: str) -> Any:
        """The value a run gets for ``knob`` without an injection: ``params``, else the function's default."""
        if knob in self.params:
            return self.params[knob]
        parameter = inspect.signature(load_callable(self.target)).parameters.get(knob)
        if parameter is None or parameter.default is inspect.Parameter.empty:
            raise GanbenchError(f"--inject: {knob}=xF scales the loop's own value, but {self.target} has no default "
                                f"for {knob} (give it with --set {knob}=VALUE)")
        return parameter.default


def _train_loop(target: str, kwargs: dict[str, Any], threads: int | None) -> str | None:
    """One run of a loop, in a worker process; the error, if it raised (the tracker recorded it as failed)."""
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    from ganbench.results.frames import measure_deferred
    from ganbench.results.store import RunStore

    error = None
    try:
        load_callable(target)(**kwargs)
    except Exception as exc:  # a run that fails is a measured outcome, not the calibration's end
        error = f"{type(exc).__name__}: {exc}"
    store = RunStore(kwargs["out"], kwargs["suite"])
    if store.is_results():  # a tracker's deferred evaluations, measured in the workers rather than one by one after
        measure_deferred(store)
    return error


def calibrate_loop(loop: Loop, seeds: int = 4, sets: int = 2, injections: Iterable[Injection] = (),
                   out: str | Path = "results", workers: int = 1, name: str = "loop", echo=None,
                   train: bool = True) -> Calibration:
    """``loop`` over ``sets`` + 1 disjoint seed sets of ``seeds`` seeds unchanged (the first is the baseline) and
    over the ``sets`` further ones with each injection; every build checked with the rules the loop's tracker
    stored (its ``check=``, else the defaults), as ``ganbench check --baseline`` would. ``train`` False checks
    the runs already stored (after new detector thresholds, say) without training."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from ganbench.evidence.gate import rules_of
    from ganbench.results import load_results

    if seeds < 1 or sets < 1:
        raise GanbenchError("--seeds and --sets must be at least 1")
    loop.check()
    injections = list(injections)
    groups = seed_sets(tuple(range(seeds)), sets)
    scenarios = [(f"{name}-calibrate", None, [s for g in groups for s in g])]
    scenarios += [(f"{name}-calibrate-{i.name}", i, [s for g in groups[1:] for s in g]) for i in injections]
    jobs = []
    for suite, injection, scenario_seeds in scenarios:
        knobs = {**loop.params, **(injection.apply(None, loop.default) if injection else {})}
        jobs += [(suite, {**knobs, "seed": s, "out": str(out), "suite": suite}) for s in scenario_seeds]
    began, walls = time.perf_counter(), {suite: 0.0 for suite, _, _ in scenarios}
    threads = 1 if workers > 1 else None
    jobs = jobs if train else []
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        futures = [(suite, kwargs, pool.submit(_train_loop, loop.target, kwargs, threads)) for suite, kwargs in jobs]
        for suite, kwargs, future in futures:
            error = future.result()
            walls[suite] = time.perf_counter() - began
            if echo:
                echo(f"{suite} seed {kwargs['seed']}: " + (f"failed: {error}" if error else "done"))
    results = {suite: load_results(Path(out) / suite) for suite, _, _ in scenarios}
    clean = results[scenarios[0][0]]
    rules = rules_of(clean)
    baseline = from_results(clean.subset(groups[0]))
    check = lambda r: [evaluate(r.subset(g), rules, baseline) for g in groups[1:]]  # noqa: E731
    calibration = Calibration(f"{name} ({loop.target})", rules, seeds, Scenario("seed change only", check(clean),
                                                                                walls[scenarios[0][0]]))
    previous = walls[scenarios[0][0]]
    for suite, injection, _ in scenarios[1:]:
        calibration.injected.append(Scenario(injection.name, check(results[suite]), walls[suite] - previous,
                                             injection.overrides))
        previous = walls[suite]
    injected = {injection.name: results[suite] for suite, injection, _ in scenarios[1:]}
    return _with_ladder(calibration, clean, injected, groups, f"ganbench calibrate --loop {loop.target}")


LADDER = (1, 2, 4, 8)  # seeds per build in the ladder


def _with_ladder(calibration: Calibration, clean, injected: dict[str, Any], groups: list[tuple[int, ...]],
                 source: str) -> Calibration:
    """Add the null rates of every seed-only run, and the ladder: builds of 1, 2, 4 and 8 of the seeds after the
    baseline set, each checked without a baseline, against null rates measured on the baseline set alone (so
    no build is judged by rates measured on its own runs)."""
    from dataclasses import replace

    rules = calibration.rules
    kinds = list(rules.fail_on)
    calibration.null_rates = measure(clean, f"{source}: {len(clean.runs)} seed-only runs", kinds)
    if rules.event_rate is None:  # even where the suite has null_rates: those may count the builds' own seeds
        rules = replace(rules, null_rates=measure(clean.subset(groups[0]), f"{source}: its baseline seed set",
                                                  kinds))
    seeds = [s for group in groups[1:] for s in group]

    def failed(results, size: int) -> tuple[int, int]:
        builds = [seeds[i:i + size] for i in range(0, len(seeds) - size + 1, size)]
        verdicts = [evaluate(results.subset(tuple(b)), rules) for b in builds]
        return sum(any(rules.fails(v) for v in build) for build in verdicts), len(builds)

    for size in LADDER:
        if size <= len(seeds):
            calibration.ladder.append(Rung(size, failed(clean, size),
                                           {name: failed(results, size) for name, results in injected.items()}))
    return calibration


def _rate(k: int, n: int) -> str:
    low, high = clopper_pearson(k, n)
    return f"{k}/{n} = {k / n:.0%} [{low:.0%}, {high:.0%}]"


POWER = 0.8  # the detection rate a regression must be caught at to count as within the gate's reach


def _power(calibration: Calibration) -> list[str]:
    """Graded injections (one axis scaled by several factors) as ladders: the detection rate per strength and
    the smallest strength caught in at least ``POWER`` of the builds (it and every stronger one)."""
    rules = calibration.rules
    ladders: dict[tuple[str, bool], list[tuple[float, Scenario]]] = {}
    for scenario in calibration.injected:
        graded = scenario.graded()
        if graded is not None and graded[1] != 1:
            axis, factor = graded
            ladders.setdefault((axis, factor > 1), []).append((factor, scenario))
    ladders = {key: steps for key, steps in ladders.items() if len(steps) >= 2}
    if not ladders:
        return []
    lines = ["", f"Power: graded injections, weakest first; the smallest effect caught is the weakest strength "
                 f"that it and every stronger one failed in at least {POWER:.0%} of the builds.", "",
             "| axis | strength | builds failed (detection) | smallest effect caught |", "|---|---|---|---|"]
    for (axis, up), steps in sorted(ladders.items()):
        steps.sort(key=lambda fs: fs[0] if up else -fs[0])  # weakest first
        rates = [s.failing(rules) / len(s.builds) for _, s in steps]
        reach = next((i for i in range(len(steps)) if all(r >= POWER for r in rates[i:])), None)
        smallest = f"×{steps[reach][0]:g}" if reach is not None else f"none up to ×{steps[-1][0]:g}"
        for i, (factor, scenario) in enumerate(steps):
            lines.append(f"| {axis} | ×{factor:g} | {_rate(scenario.failing(rules), len(scenario.builds))} | "
                         f"{smallest if i == 0 else ''} |")
    return lines


FALSE_ALARMS, DETECTION = 0.05, 0.9  # what "enough seeds" means in the ladder


def _ladder(calibration: Calibration) -> list[str]:
    """Builds of 1, 2, 4, 8 seeds without a baseline: false alarms and detection per injection, and the fewest
    seeds that keep false alarms <= FALSE_ALARMS with every injection caught in >= DETECTION of its builds."""
    if not calibration.ladder:
        return []
    names = [s.name for s in calibration.injected]
    lines = ["", "Seeds per build, each build checked without a baseline (as a CI job checks its own seeds), against "
                 "null rates measured on the baseline seed set:", "",
             "| " + " | ".join(["seeds", "false alarms", *(f"{name} caught" for name in names)]) + " |",
             "|---|---|" + "---|" * len(names)]
    enough = None
    for rung in calibration.ladder:
        cells = [str(rung.seeds), _rate(*rung.false_alarms), *(_rate(*rung.detections[name]) for name in names)]
        lines.append("| " + " | ".join(cells) + " |")
        fa = rung.false_alarms[0] / rung.false_alarms[1]
        if enough is None and fa <= FALSE_ALARMS and all(k / n >= DETECTION for k, n in rung.detections.values()):
            enough = rung.seeds
    tried = ", ".join(str(r.seeds) for r in calibration.ladder)
    fewest = str(enough) if enough else f"more than {calibration.ladder[-1].seeds} (none of {tried})"
    if names:
        lines += ["", f"Fewest seeds with false alarms <= {FALSE_ALARMS:.0%} and every injection caught in >= "
                      f"{DETECTION:.0%} of builds: {fewest}"]
    else:  # nothing injected: the ladder says nothing about detection
        lines += ["", f"Fewest seeds with false alarms <= {FALSE_ALARMS:.0%}: {fewest}. Detection not measured: give "
                      "regressions to catch with --inject."]
    if calibration.null_rates is not None:
        snippet = yaml.safe_dump({"null_rates": calibration.null_rates.to_json()}, sort_keys=False,
                                 default_flow_style=None, width=100)
        lines += ["", "Null rates of this suite's seed-only runs; paste them into its `check:` section to test builds "
                      "against them instead of the shipped calibration:", "", "```yaml", snippet.rstrip(), "```"]
    return lines


def table(calibration: Calibration) -> str:
    """The calibration as Markdown: false alarms per rule and for the whole gate, detection per injection."""
    rules = calibration.rules
    clean = calibration.clean
    n = len(clean.builds)
    lines = [f"Gate of `{calibration.suite}` (alpha {rules.alpha}{', strict' if rules.strict else ''}): "
             f"{n} builds of {calibration.seeds_per_set} seeds, each checked against a baseline of "
             f"{calibration.seeds_per_set} other seeds; rates with exact (Clopper-Pearson) 95% intervals.", "",
             "| rule | false alarms (seed change only) | inconclusive |", "|---|---|---|"]
    for rule in calibration.rule_names():
        lines.append(f"| {rule} | {_rate(clean.failing(rules, rule), n)} | {clean.inconclusive(rules, rule)} |")
    lines.append(f"| **whole gate** | **{_rate(clean.failing(rules), n)}** | {clean.inconclusive(rules)} |")
    if calibration.injected:
        lines += ["", "| injected regression | builds failed (detection) | rules that caught it |", "|---|---|---|"]
        for scenario in calibration.injected:
            caught = {v.rule for b in scenario.builds for v in b if rules.fails(v)}
            by_rule = ", ".join(f"{r} {scenario.failing(rules, r)}/{len(scenario.builds)}" for r in sorted(caught))
            lines.append(f"| {scenario.name} | {_rate(scenario.failing(rules), len(scenario.builds))} | "
                         f"{by_rule or '—'} |")
    lines += _power(calibration) + _ladder(calibration)
    walls = [clean.wall_s] + [s.wall_s for s in calibration.injected]
    lines += ["", f"Training: {sum(walls):.0f} s ({', '.join(f'{w:.0f} s' for w in walls)})."]
    return "\n".join(lines) + "\n"
