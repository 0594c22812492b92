"""The report's numbers, as frames: per-cell statistics, event rates, the ranking, baseline deltas.
Everything is computed from ``load_results`` frames; nothing here trains or plots."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ganbench.check import HIGHER_IS_BETTER
from ganbench.report import stats
from ganbench.results import Results

FINAL_METRICS = ["mode_coverage", "high_quality", "mode_kl", "fid", "modes_covered"]
COLLAPSE_KINDS = ("mode_collapse", "d_overpowering")


def primary_metric(final: pd.DataFrame) -> str:
    """What the ranking sorts by: mode coverage where modes are known, FID otherwise."""
    return "mode_coverage" if "mode_coverage" in final and final["mode_coverage"].notna().any() else "fid"


def final_metrics(results: Results) -> pd.DataFrame:
    final = results.final(FINAL_METRICS).reset_index()
    status = results.runs.set_index("run_id")["status"]
    final["status"] = final["run_id"].map(status)
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
    rows = []
    for (variant, dataset), frame in runs.groupby(["variant", "dataset"], sort=True):
        ids = set(frame.run_id)
        ev = events[events.run_id.isin(ids)]
        row = {"variant": variant, "dataset": dataset, "seeds": len(ids)}
        for kind in ("mode_collapse", "d_overpowering", "divergence", "oscillation"):
            row[f"{kind}_rate"] = ev[ev.kind == kind].run_id.nunique() / len(ids)
        collapsed = ev[ev.kind.isin(COLLAPSE_KINDS)].groupby("run_id").step.min()
        row["collapse_rate"] = len(collapsed) / len(ids)
        row["instability_rate"] = ev.run_id.nunique() / len(ids)
        row["time_to_collapse"] = float(collapsed.median()) if len(collapsed) else math.nan
        row["failed"] = int((frame.status == "failed").sum())
        rows.append(row)
    return pd.DataFrame(rows)


def key_metrics(final: pd.DataFrame) -> list[str]:
    """The metrics the ranking shows, the sort key first: those of (primary, high_quality, fid) with values."""
    keys = [m for m in (primary_metric(final), "high_quality", "fid") if m in final and final[m].notna().any()]
    return list(dict.fromkeys(keys))


def ranking(final: pd.DataFrame, rates: pd.DataFrame) -> pd.DataFrame:
    """One row per variant, pooled over datasets: key metrics as IQM [95 % CI] (bootstrap stratified over
    datasets), collapse rate, time to collapse and a one-line verdict; sorted best first."""
    primary = primary_metric(final)
    keys = key_metrics(final)
    rows = []
    for variant, frame in final.groupby("variant"):
        row: dict = {"variant": variant, "seeds": len(frame)}
        for metric in keys:
            groups = [g[metric].dropna().to_numpy() for _, g in frame.groupby("dataset")]
            pooled = np.concatenate(groups) if groups else np.array([])
            low, high = stats.stratified_bootstrap_ci(groups)
            row[metric] = stats.iqm(pooled)
            row[f"{metric}_ci"] = (low, high)
        r = rates[rates.variant == variant]
        weights = r.seeds / r.seeds.sum()
        for col in ("collapse_rate", "instability_rate", "d_overpowering_rate", "mode_collapse_rate",
                    "divergence_rate"):
            row[col] = float((r[col] * weights).sum())
        row["time_to_collapse"] = float(r.time_to_collapse.median()) if r.time_to_collapse.notna().any() else math.nan
        row["failed"] = int(r.failed.sum())
        rows.append(row)
    table = pd.DataFrame(rows)
    better = HIGHER_IS_BETTER.get(primary, False)
    table = table.sort_values([primary, "collapse_rate"], ascending=[not better, True], na_position="last")
    table["verdict"] = [verdict(row, primary) for row in table.to_dict("records")]
    return table.reset_index(drop=True)


def verdict(row: dict, primary: str) -> str:
    pct = lambda x: f"{100 * x:.0f}%"  # noqa: E731
    if row["failed"]:
        return f"{row['failed']} run(s) failed: see the run table"
    if row["divergence_rate"] > 0:
        return f"diverges in {pct(row['divergence_rate'])} of seeds"
    since = f"(from step ~{row['time_to_collapse']:.0f})"
    if row["d_overpowering_rate"] >= 0.5:
        return f"D overpowers G in {pct(row['d_overpowering_rate'])} of seeds {since}"
    if row["mode_collapse_rate"] >= 0.5:
        return f"collapses in {pct(row['mode_collapse_rate'])} of seeds {since}"
    value = row.get(primary, math.nan)
    if primary == "mode_coverage":
        state = "covers" if row["collapse_rate"] == 0 else "mostly stable, covers"
        return f"{state} {pct(value)} of modes (IQM)" + (
            f"; collapse in {pct(row['collapse_rate'])} of seeds" if row["collapse_rate"] else "")
    return f"FID {value:.3g} (IQM)" + (f"; collapse in {pct(row['collapse_rate'])} of seeds"
                                       if row["collapse_rate"] else "")


def beat_matrix(final: pd.DataFrame, metric: str) -> pd.DataFrame:
    """P(row variant beats column variant) on ``metric``, averaged over datasets, with CI."""
    better = HIGHER_IS_BETTER.get(metric, False)
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


def baseline_deltas(final: pd.DataFrame, base: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Per variant x dataset x metric: IQM now vs baseline, the difference of means with a bootstrap CI,
    and whether it is an improvement or a regression (CI excludes 0) or unclear."""
    rows = []
    rng = np.random.default_rng(stats.SEED)
    for (variant, dataset), now in final.groupby(["variant", "dataset"]):
        then = base[(base.variant == variant) & (base.dataset == dataset)]
        for metric in metrics:
            if metric not in now or metric not in then:
                continue
            a, b = now[metric].dropna().to_numpy(), then[metric].dropna().to_numpy()
            if not len(a) or not len(b):
                continue
            delta = float(a.mean() - b.mean())
            boots = [rng.choice(a, len(a)).mean() - rng.choice(b, len(b)).mean() for _ in range(1000)]
            low, high = np.quantile(boots, [0.025, 0.975])
            better = HIGHER_IS_BETTER.get(metric, False)
            if low > 0 or high < 0:
                improved = (low > 0) == better
                mark = "improved" if improved else "regressed"
            else:
                mark = "no clear change"
            rows.append({"variant": variant, "dataset": dataset, "metric": metric, "now": stats.iqm(a),
                         "baseline": stats.iqm(b), "delta": delta, "ci_low": float(low), "ci_high": float(high),
                         "change": mark})
    return pd.DataFrame(rows)
