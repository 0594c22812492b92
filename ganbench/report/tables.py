"""The report's numbers, as frames: per-cell statistics, event rates, the ranking, baseline deltas.
Everything is computed from ``load_results`` frames; nothing here trains or plots."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ganbench.diagnostics import event_kinds
from ganbench.meta import Catalog, directed
from ganbench.report import stats
from ganbench.results import Results
from ganbench.verdicts import (
    HEALTHY,
    MEASURED,
    NOT_CONVERGED,
    ORDER,
    QUALITY_FLOOR,
    describe,
    run_states,
    variant_state,
)


def present(final: pd.DataFrame, catalog: Catalog) -> list[str]:
    """The directed evaluation metrics that ``final`` has values for, ranking candidates first."""
    return [m for m in directed(catalog) if m in final and final[m].notna().any()]


def key_metrics(final: pd.DataFrame, catalog: Catalog) -> list[str]:
    """The metrics the ranking shows, by their declared rank; the first is the sort key (the primary metric)."""
    return [m for m in present(final, catalog) if catalog[m].rank is not None]


def primary_metric(final: pd.DataFrame, catalog: Catalog) -> str | None:
    """What the ranking sorts by: the metric of lowest declared rank with values (mode coverage where modes
    are known, FID otherwise); None when no metric may head a ranking."""
    keys = key_metrics(final, catalog)
    return keys[0] if keys else None


def final_metrics(results: Results) -> pd.DataFrame:
    final = results.final(directed(results.metric_info())).reset_index()
    status = results.runs.set_index("run_id")["status"]
    final["status"] = final["run_id"].map(status)
    final["state"] = final["run_id"].map(run_states(results))
    return final


def cell_stats(final: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """n, mean, median, IQM and 95 % CI per variant x dataset x metric."""
    rows = []
    for (variant, dataset), frame in final.groupby(["variant", "dataset"], sort=True):
        for metric in metrics:
            if metric in frame and frame[metric].notna().any():
                rows.append({"variant": variant, "dataset": dataset, "metric": metric,
                             **stats.summarize(frame[metric].to_numpy())})
    return pd.DataFrame(rows)


def event_rates(results: Results) -> pd.DataFrame:
    """Per variant x dataset: seeds, the share of seeds with each event kind, and median time to collapse."""
    runs = results.runs
    events = results.events
    declared = event_kinds()
    collapse = [k for k, kind in declared.items() if kind.collapse]
    rows = []
    for (variant, dataset), frame in runs.groupby(["variant", "dataset"], sort=True):
        ids = set(frame.run_id)
        ev = events[events.run_id.isin(ids)]
        row = {"variant": variant, "dataset": dataset, "seeds": len(ids)}
        for kind in dict.fromkeys([*declared, *sorted(events.kind.unique())]):
            row[f"{kind}_rate"] = ev[ev.kind == kind].run_id.nunique() / len(ids)
        collapsed = ev[ev.kind.isin(collapse)].groupby("run_id").step.min()
        row["collapse_rate"] = len(collapsed) / len(ids)
        row["instability_rate"] = ev.run_id.nunique() / len(ids)
        row["time_to_collapse"] = float(collapsed.median()) if len(collapsed) else math.nan
        row["failed"] = int((frame.status == "failed").sum())
        rows.append(row)
    return pd.DataFrame(rows)


def ranking(final: pd.DataFrame, rates: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """One row per variant, pooled over datasets: its state (healthy, collapsed, not converged, ...), key metrics
    as IQM [95 % CI] over its measured runs (bootstrap stratified over datasets), collapse rate, time to
    collapse and a one-line verdict; sorted by state, then best first. A run that never converged is not a
    measurement of the recipe: its metrics stay out of the IQMs."""
    keys = key_metrics(final, catalog)
    primary = keys[0] if keys else None
    if "state" not in final:
        final = final.assign(state=HEALTHY)
    rows = []
    for variant, frame in final.groupby("variant"):
        states = list(frame.state)
        row: dict = {"variant": variant, "seeds": len(frame), "state": variant_state(states),
                     "states": describe(states), "not_converged": states.count(NOT_CONVERGED)}
        measured = frame[frame.state.isin(MEASURED)]
        for metric in keys:
            groups = [g[metric].dropna().to_numpy() for _, g in measured.groupby("dataset")]
            pooled = np.concatenate(groups) if groups else np.array([])
            low, high = stats.stratified_bootstrap_ci(groups)
            row[metric] = stats.iqm(pooled)
            row[f"{metric}_ci"] = (low, high)
        r = rates[rates.variant == variant]
        weights = r.seeds / r.seeds.sum()
        for col in ("collapse_rate", "instability_rate", "d_overpowering_rate", "mode_collapse_rate",
                    "divergence_rate", "nonconvergence_rate"):
            row[col] = float((r[col] * weights).sum()) if col in r else 0.0
        row["time_to_collapse"] = float(r.time_to_collapse.median()) if r.time_to_collapse.notna().any() else math.nan
        row["failed"] = int(r.failed.sum())
        rows.append(row)
    table = pd.DataFrame(rows)
    table["order"] = table.state.map(ORDER.index)
    if primary is None:
        table = table.sort_values(["order", "collapse_rate", "variant"])
    else:
        better = bool(catalog[primary].higher_is_better)
        table = table.sort_values(["order", primary, "collapse_rate"], ascending=[True, not better, True],
                                  na_position="last")
    table = table.drop(columns="order")
    table["verdict"] = [verdict(row, primary) for row in table.to_dict("records")]
    return table.reset_index(drop=True)


def verdict(row: dict, primary: str | None) -> str:
    pct = lambda x: f"{100 * x:.0f}%"  # noqa: E731
    if row["failed"]:
        return f"{row['failed']} run(s) failed: see the run table"
    if row["divergence_rate"] > 0:
        return f"diverges in {pct(row['divergence_rate'])} of seeds"
    if row["state"] == NOT_CONVERGED and row["nonconvergence_rate"] >= 0.5:
        return (f"does not converge in {pct(row['nonconvergence_rate'])} of seeds: its parameters orbit the "
                "equilibrium instead of settling, so its metrics are not ranked")
    if row["state"] == NOT_CONVERGED:
        return (f"not converged at this budget ({row['states']}): the samples never put {pct(QUALITY_FLOOR)} "
                "on the modes, so their coverage is not ranked")
    since = f"(from step ~{row['time_to_collapse']:.0f})"
    if row["d_overpowering_rate"] >= 0.5:
        return f"D overpowers G in {pct(row['d_overpowering_rate'])} of seeds {since}"
    if row["mode_collapse_rate"] >= 0.5:
        return f"collapses in {pct(row['mode_collapse_rate'])} of seeds {since}"
    value = row.get(primary, math.nan) if primary else math.nan
    extra = (f"; collapse in {pct(row['collapse_rate'])} of seeds" if row["collapse_rate"] else "") + (
        f"; {row['not_converged']} seed(s) not converged, left out" if row.get("not_converged") else "")
    if primary is None:
        return f"{row['state']}: no collapse" + extra if not row["collapse_rate"] else f"{row['state']}" + extra
    if primary == "mode_coverage":
        return f"{row['state']}: covers {pct(value)} of modes (IQM)" + extra
    return f"{row['state']}: {primary} {value:.3g} (IQM)" + extra


def beat_matrix(final: pd.DataFrame, metric: str, higher_is_better: bool) -> pd.DataFrame:
    """P(row variant beats column variant) on ``metric``, averaged over datasets, with CI."""
    better = higher_is_better
    variants = sorted(final.variant.unique())
    datasets = sorted(final.dataset.unique())
    values = {(v, d): final[(final.variant == v) & (final.dataset == d)][metric].dropna().to_numpy()
              for v in variants for d in datasets}
    rows = []
    for a in variants:
        for b in variants:
            if a == b:
                continue
            p, low, high = stats.probability_ci([values[a, d] for d in datasets], [values[b, d] for d in datasets],
                                                better)
            rows.append({"a": a, "b": b, "p": p, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows, columns=["a", "b", "p", "ci_low", "ci_high"])


def baseline_deltas(final: pd.DataFrame, base: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Per variant x dataset x metric: IQM now vs baseline, the difference of means with a bootstrap CI,
    and whether it is an improvement or a regression (CI excludes 0) or unclear."""
    rows = []
    rng = np.random.default_rng(stats.SEED)
    for (variant, dataset), now in final.groupby(["variant", "dataset"]):
        then = base[(base.variant == variant) & (base.dataset == dataset)]
        for metric in directed(catalog):
            if metric not in now or metric not in then:
                continue
            a, b = now[metric].dropna().to_numpy(), then[metric].dropna().to_numpy()
            if not len(a) or not len(b):
                continue
            delta = float(a.mean() - b.mean())
            boots = [rng.choice(a, len(a)).mean() - rng.choice(b, len(b)).mean() for _ in range(1000)]
            low, high = np.quantile(boots, [0.025, 0.975])
            better = catalog[metric].higher_is_better
            if low > 0 or high < 0:
                improved = (low > 0) == better
                mark = "improved" if improved else "regressed"
            else:
                mark = "no clear change"
            rows.append({"variant": variant, "dataset": dataset, "metric": metric, "now": stats.iqm(a),
                         "baseline": stats.iqm(b), "delta": delta, "ci_low": float(low), "ci_high": float(high),
                         "change": mark})
    return pd.DataFrame(rows)


def reproduction(results: Results) -> pd.DataFrame:
    """One row per ``reference:`` row of the stored suite: published, measured IQM [95 % CI] and verdict."""
    from ganbench.reproduction import parse_references, verdict

    doc = results.store.suite_doc()
    if not doc.get("reference"):
        return pd.DataFrame()
    refs = parse_references(doc["reference"], set(results.runs.variant), set(results.runs.dataset),
                            results.metric_info())
    final = results.final(sorted({ref.metric for ref in refs}))
    rows = []
    for ref in refs:
        cell = final[(final.variant == ref.variant) & (final.dataset == ref.dataset)]
        values = cell[ref.metric].to_numpy(dtype=float) if ref.metric in cell else np.array([])
        values = values[np.isfinite(values)]
        steps = int(results.runs[results.runs.run_id.isin(cell.index)].step.min()) if len(cell) else 0
        ci = stats.bootstrap_ci(values) if len(values) > 1 else (math.nan, math.nan)
        rows.append({"source": ref.source, "variant": ref.variant, "dataset": ref.dataset, "metric": ref.metric,
                     "published": ref.published(), "measured": stats.iqm(values), "ci": ci, "seeds": len(values),
                     "steps": steps, "verdict": verdict(ref, len(values), ci, steps), "note": ref.note})
    return pd.DataFrame(rows)
