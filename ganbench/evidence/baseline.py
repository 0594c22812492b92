"""What the gate compares a build against: per variant x dataset, each directed metric's final value per seed,
how many seeds raised each event kind, and how the results were measured (so a baseline measured differently
is reported as not comparable instead of compared). Written by ``ganbench check --write-baseline`` as a
small JSON; a results directory serves as a baseline too."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganbench.errors import GanbenchError
from ganbench.meta import directed

FORMAT = "ganbench-baseline/3"
READS = ("ganbench-baseline/2", FORMAT)  # /2 has no not_learned count: the learning rule then has no baseline
Cell = tuple[str, str]  # (variant, dataset)
# What must agree for final metrics and event rates to compare: the evaluation's feature space and sample
# count, the data, the budget and the networks.
MEASUREMENT = ("feature_space", "eval_samples", "dataset", "steps", "architecture")


@dataclass
class Baseline:
    values: dict[Cell, dict[str, list[float]]] = field(default_factory=dict)  # metric -> final value per seed
    # "seeds", "not_learned" (seeds whose state is not converged) and event kind -> seeds with it
    events: dict[Cell, dict[str, int]] = field(default_factory=dict)
    measured: dict[Cell, dict[str, Any]] = field(default_factory=dict)  # MEASUREMENT field -> value
    cpus: list[str] = field(default_factory=list)  # the CPU models its runs trained on, where they say

    def to_json(self, suite: str) -> dict[str, Any]:
        nest = lambda flat: {v: {d: x for (v2, d), x in flat.items() if v2 == v} for v, _ in flat}  # noqa: E731
        return {"format": FORMAT, "suite": suite, "metrics": nest(self.values), "events": nest(self.events),
                "measured": nest(self.measured), "cpus": self.cpus}


def measurement(config: dict[str, Any]) -> dict[str, Any]:
    """How a run was measured: the ``measurement`` its recorder wrote into config.json (trained and tracked
    runs alike), or for runs written before that, the same fields read from their spec."""
    if "measurement" in config:
        return {f: config["measurement"].get(f) for f in MEASUREMENT}
    spec = config.get("spec", {})
    return {"feature_space": config.get("collectors", {}).get("fid", {}).get("feature_space"),
            "eval_samples": spec.get("train", {}).get("eval_samples"), "dataset": spec.get("dataset"),
            "steps": spec.get("train", {}).get("steps"), "architecture": spec.get("architecture")}


def measured_differently(then: dict[str, Any] | None, config: dict[str, Any]) -> list[str]:
    """The measurement fields in which a baseline cell (``then``; None: not in the baseline) differs from a run
    with ``config``, each as "field baseline-value (now value)"; empty when they compare."""
    if then is None:
        return []
    now = measurement(config)
    known = [f for f in MEASUREMENT if then.get(f) is not None and now.get(f) is not None]  # unknown: no evidence
    return [f"{f} {then.get(f)!r} (now {now.get(f)!r})" for f in known if then.get(f) != now.get(f)]


def final_values(results, metrics: list[str]) -> dict[Cell, dict[str, list[float]]]:
    """Each metric's final value per seed (seed order), per variant x dataset; NaNs dropped."""
    final = results.final(metrics).reset_index().sort_values("seed")
    return {(variant, dataset): {m: [float(x) for x in frame[m] if x == x] for m in metrics if m in frame}
            for (variant, dataset), frame in final.groupby(["variant", "dataset"])}


def event_counts(results) -> dict[Cell, dict[str, int]]:
    """Per variant x dataset: the number of seeds, of seeds that did not learn, and of seeds that raised each
    event kind."""
    from ganbench.evidence.states import not_learned

    unlearned = not_learned(results)
    out = {}
    for (variant, dataset), runs in results.runs.groupby(["variant", "dataset"]):
        ev = results.events[results.events.run_id.isin(set(runs.run_id))]
        not_learned_seeds = len(unlearned & set(runs.run_id))
        out[variant, dataset] = {"seeds": len(runs), "not_learned": not_learned_seeds,
                                 **ev.groupby("kind").run_id.nunique().to_dict()}
    return out


def measured_run(runs) -> str:
    """The run whose measurement stands for its cell: a completed one where there is one (a tracked run that
    diverged early does not know its step budget)."""
    completed = runs[runs.status == "completed"]
    return (completed if len(completed) else runs).run_id.iloc[0]


def measurements(results) -> dict[Cell, dict[str, Any]]:
    """How each variant x dataset was measured: the measurement of the run that stands for the cell."""
    return {(variant, dataset): measurement(results.configs.get(measured_run(runs), {}))
            for (variant, dataset), runs in results.runs.groupby(["variant", "dataset"])}


def cpu_models(results) -> list[str]:
    """The CPU models the runs trained on. Runs written before versions named the model recorded only the
    architecture ("x86_64"), which says nothing about the arithmetic: those are left out."""
    seen = [config.get("versions") or {} for config in results.configs.values()]
    return sorted({v["cpu"] for v in seen if v.get("cpu") and v["cpu"] != v.get("machine")})


def other_cpus(baseline: Baseline, results) -> str | None:
    """A note when the baseline trained on other CPU models than these results: the pinned arithmetic rounds
    differently across CPU models (docs/scaling.md, Determinism), so the two differ as a seed change does --
    the change the gate's calibration measures, not a byte-for-byte comparison."""
    now = cpu_models(results)
    if not baseline.cpus or not now or set(baseline.cpus) == set(now):
        return None
    return (f"note: the baseline trained on {', '.join(baseline.cpus)}, these runs on {', '.join(now)}: across CPU "
            "models the same seeds train to other values, as other seeds would (docs/scaling.md, Determinism)")


def from_results(results) -> Baseline:
    return Baseline(final_values(results, directed(results.metric_info())), event_counts(results),
                    measurements(results), cpu_models(results))


def load_baseline(path: str | Path) -> Baseline:
    """A baseline JSON file or a results directory."""
    path = Path(path)
    write_one = "write one with ganbench check RESULTS --write-baseline baseline.json"
    if not path.exists():
        raise GanbenchError(f"no baseline at {path}: {write_one}, or pass a results directory")
    if path.is_dir():
        from ganbench.results import load_results

        if not (path / "manifest.json").exists():
            raise GanbenchError(f"baseline {path} is a directory but not a results directory (no manifest.json): "
                                f"pass results/<suite name>, or a baseline JSON ({write_one})")
        return from_results(load_results(path))
    from ganbench.results.store import read_json

    doc = read_json(path)
    if not isinstance(doc, dict) or doc.get("format") not in READS:
        raise GanbenchError(f"{path} is not a ganbench baseline in format {FORMAT} ({write_one})")
    try:
        flat = lambda key, value: {(v, d): value(x) for v, per in doc[key].items()  # noqa: E731
                                   for d, x in per.items()}
        return Baseline(flat("metrics", lambda m: {k: [float(x) for x in xs] for k, xs in m.items()}),
                        flat("events", lambda e: {k: int(n) for k, n in e.items()}),
                        flat("measured", dict), [str(cpu) for cpu in doc.get("cpus", [])])
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        raise GanbenchError(f"corrupt baseline file {path}: {exc!r}") from None
