"""The report's numbers, as frames: per-cell statistics, event rates, the ranking, baseline deltas.
Everything is computed from ``load_results`` frames; nothing here trains or plots."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ganbench.diagnostics import event_kinds
from ganbench.evidence import statistics as stats
from ganbench.evidence.baseline import measured_differently, measured_run, measurements
from ganbench.evidence.finals import final_metrics, key_metrics, present, primary_metric  # noqa: F401
from ganbench.evidence.gate import Rules
from ganbench.evidence.states import (
    COLLAPSED,
    FAILED,
    FINISHED,
    HEALTHY,
    MEASURED,
    NOT_CONVERGED,
    ORDER,
    QUALITY_FLOOR,
    UNFINISHED,
    describe,
    variant_state,
)
from ganbench.evidence.statistics import shift
from ganbench.meta import Catalog, directed, lookup
from ganbench.results import Results


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
        row["unfinished"] = int((~frame.status.isin([*FINISHED, FAILED])).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def ranking(final: pd.DataFrame, rates: pd.DataFrame, catalog: Catalog, alpha: float = 0.05) -> pd.DataFrame:
    """One row per variant, pooled over datasets, grouped by state (healthy, collapsed, not converged, ...) and
    ranked within its group only as far as the evidence carries:

    - healthy and collapsed variants by the primary metric over their *measured* runs (a run that never
      converged measures the budget, not the recipe: ``measured`` says how many seeds the number stands on);
    - not-converged variants by the whole-distribution metric (``sliced_wasserstein``) over all their runs,
      or not at all without it; diverged and failed variants not at all;
    - a variant's rank is 1 + the variants of better groups + those of its own group that beat it in a
      two-sided Mann-Whitney U test, Holm-corrected over the group's pairs, at ``alpha`` (the suite's): variants
      no test separates share a rank, and ``tied`` names them.

    Key metrics are IQM [95 % CI] over the measured runs (bootstrap stratified over datasets)."""
    keys = key_metrics(final, catalog)
    primary = keys[0] if keys else None
    whole = WHOLE_DISTRIBUTION if WHOLE_DISTRIBUTION in final and final[WHOLE_DISTRIBUTION].notna().any() else None
    if "state" not in final:
        final = final.assign(state=HEALTHY)
    rows = []
    for variant, frame in final.groupby("variant"):
        states = list(frame.state)
        state = variant_state(states)
        measured = frame[frame.state.isin(MEASURED)]
        unlearned = ~frame["learned"] if "learned" in frame else False
        collapsed_unlearned = int(((frame.state == COLLAPSED) & unlearned).sum())
        row: dict = {"variant": variant, "seeds": len(frame), "state": state,
                     "states": describe(states, collapsed_unlearned),
                     "not_converged": states.count(NOT_CONVERGED), "measured": len(measured)}
        for metric in keys:
            groups = [g[metric].dropna().to_numpy() for _, g in measured.groupby("dataset")]
            pooled = np.concatenate(groups) if groups else np.array([])
            row[metric] = stats.iqm(pooled)
            row[f"{metric}_ci"] = stats.stratified_bootstrap_ci(groups)
        row["ranked_by"], values = _ranked_by(state, primary, whole, measured, frame)
        row["ranked_values"] = values
        row["ranked_value"] = stats.iqm(values) if len(values) else math.nan
        r = rates[rates.variant == variant]
        weights = r.seeds / r.seeds.sum()
        for col in ("collapse_rate", "instability_rate", "d_overpowering_rate", "mode_collapse_rate",
                    "divergence_rate", "nonconvergence_rate"):
            row[col] = float((r[col] * weights).sum()) if col in r else 0.0
        row["time_to_collapse"] = float(r.time_to_collapse.median()) if r.time_to_collapse.notna().any() else math.nan
        row["failed"] = int(r.failed.sum())
        row["unfinished"] = int(r.unfinished.sum()) if "unfinished" in r else 0
        rows.append(row)
    table = pd.DataFrame(rows)
    table["order"] = table.state.map(ORDER.index)
    table["better"] = [(1.0 if catalog[m].higher_is_better else -1.0) if m else 1.0 for m in table.ranked_by]
    table["key"] = -table.better * table.ranked_value.fillna(-table.better * math.inf)
    table = table.sort_values(["order", "key", "collapse_rate", "variant"])
    table["rank"], table["tied"] = _ranks(table, alpha)
    table = table.drop(columns=["order", "better", "key", "ranked_values"])
    table["summary"] = [summary(row, primary) for row in table.to_dict("records")]
    return table.reset_index(drop=True)


WHOLE_DISTRIBUTION = "sliced_wasserstein"  # what ranks variants whose samples never reached the modes


def _ranked_by(state: str, primary: str | None, whole: str | None, measured: pd.DataFrame, frame: pd.DataFrame
               ) -> tuple[str, np.ndarray]:
    """The metric a variant is ranked by within its state group ("": not ranked), and the values it is ranked
    on."""
    if state in MEASURED and primary is not None:
        metric, runs = primary, measured
    elif state == NOT_CONVERGED and whole is not None:
        metric, runs = whole, frame
    else:
        return "", np.array([])
    values = runs[metric].to_numpy(dtype=float)
    return metric, values[np.isfinite(values)]


def _ranks(table: pd.DataFrame, alpha: float) -> tuple[list[int], list[str]]:
    """Per row of the sorted ``table``: 1 + the rows of better state groups + the rows of its group that beat it
    significantly; and the rows of its group that share its rank."""
    ranks, tied = {}, {}
    above = 0
    for _, group in table.groupby("order", sort=True):
        names = list(group.variant)
        rows = group.set_index("variant")
        values = rows["ranked_values"]
        ranked = [v for v in names if rows.ranked_by[v] and len(values[v]) >= 2]
        pairs = [(a, b) for i, a in enumerate(ranked) for b in ranked[i + 1:]]
        p_values = [stats.mann_whitney_two_sided(values[a], values[b]) for a, b in pairs]
        beaten = {v: 0 for v in names}
        for (a, b), p in zip(pairs, stats.holm(p_values) if p_values else []):
            if p < alpha:  # the loser: the one a random seed of the other beats more often than not
                higher = rows.better[a] > 0
                a_wins = stats.probability_of_improvement(values[a], values[b], higher) > 0.5
                beaten[b if a_wins else a] += 1
        for v in names:
            ranks[v] = above + 1 + beaten[v]
        for v in names:
            tied[v] = ", ".join(w for w in names if w != v and ranks[w] == ranks[v])
        above += len(names)
    return [ranks[v] for v in table.variant], [tied[v] for v in table.variant]


def headline(rank: pd.DataFrame) -> str:
    """Two sentences in plain words for the top of the report: who leads and whether the tests separate them, then
    which variants collapsed or did not converge, in how many seeds and from when."""
    seeds = int(rank.seeds.max()) if len(rank) else 0
    first = rank[(rank["rank"] == 1) & (rank.ranked_by != "")]
    # the metric the leaders were ranked on: the suite's key metric, or sliced Wasserstein when none converged
    metric = " and ".join(dict.fromkeys(first.ranked_by))
    if first.empty:
        lead = "No variant could be ranked (none converged, or no metric may head a ranking)."
    elif len(rank) == 1:  # nothing to compare it with
        lead = f"{first.variant.iloc[0]}: {metric} IQM {first.ranked_value.iloc[0]:.3g} over {seeds} seeds."
    elif len(first) == len(rank):
        lead = (f"No test separates any of the {len(rank)} variants on {metric} at {seeds} seeds: all share "
                "first place, and their order is only their IQMs'.")
    elif len(first) == 1:
        lead = (f"{first.variant.iloc[0]} ranks first on {metric} (IQM {first.ranked_value.iloc[0]:.3g}); every other "
                f"variant ranks below it, by a worse state or a rank test at {seeds} seeds.")
    else:
        names = ", ".join(first.variant)
        lead = (f"{names} share first place on {metric}: no test separates them at {seeds} seeds; the other "
                f"{len(rank) - len(first)} rank below them.")
    trouble = []
    for row in rank.itertuples():
        went = []
        collapsed = round(row.collapse_rate * row.seeds)
        if collapsed:
            step = "" if not math.isfinite(row.time_to_collapse) else (
                f" (at step {row.time_to_collapse:.0f})" if collapsed == 1 else
                f" (median step {row.time_to_collapse:.0f})")
            went.append(f"collapsed in {collapsed}{step}")
        if row.not_converged:
            went.append(f"did not converge in {row.not_converged}")
        if row.divergence_rate:
            went.append(f"diverged in {round(row.divergence_rate * row.seeds)}")
        if row.failed:
            went.append(f"failed in {row.failed}")
        if getattr(row, "unfinished", 0):
            went.append(f"did not finish in {row.unfinished}")
        if went:
            trouble.append(f"{row.variant} {' and '.join(went)} of {row.seeds} seeds")
    worry = ("Seeds that went wrong: " + "; ".join(trouble) + ".") if trouble else (
        "Every seed of every variant converged without a collapse.")
    return f"{lead} {worry}"


def summary(row: dict, primary: str | None) -> str:
    pct = lambda x: f"{100 * x:.0f}%"  # noqa: E731
    if row["failed"]:
        return f"{row['failed']} run(s) failed: see the run table"
    if row.get("unfinished") and row["state"] == UNFINISHED:
        return (f"unfinished: {row['unfinished']} of {row['seeds']} runs were interrupted or never started; "
                "a rerun of the suite resumes them")
    if row["divergence_rate"] > 0:
        return f"diverges in {pct(row['divergence_rate'])} of seeds"
    if row["state"] == NOT_CONVERGED and row["nonconvergence_rate"] >= 0.5:
        return (f"does not converge in {pct(row['nonconvergence_rate'])} of seeds: its parameters orbit the "
                "equilibrium instead of settling, so its metrics are not ranked")
    if row["state"] == NOT_CONVERGED:
        ranked = (f"ranked by {row['ranked_by']} instead ({row['ranked_value']:.3g}, IQM of all seeds)"
                  if row.get("ranked_by") else "not ranked")
        return (f"not converged at this budget ({row['states']}): the samples did not learn the data (never "
                f"{pct(QUALITY_FLOOR)} on the modes, or a stalled G, a pinned D, samples far from the data), so "
                f"their coverage is not a measurement; {ranked}")
    since = f"(from step ~{row['time_to_collapse']:.0f})"
    if row["d_overpowering_rate"] >= 0.5:
        return f"D overpowers G in {pct(row['d_overpowering_rate'])} of seeds {since}"
    if row["mode_collapse_rate"] >= 0.5:
        return f"collapses in {pct(row['mode_collapse_rate'])} of seeds {since}"
    value = row.get(primary, math.nan) if primary else math.nan
    extra = (f"; collapse in {pct(row['collapse_rate'])} of seeds" if row["collapse_rate"] else "") + (
        f"; {row['not_converged']} of {row['seeds']} seeds not converged, left out of the numbers"
        if row.get("not_converged") else "")
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


def baseline_deltas(results: Results, baseline: Results, rules: Rules, final: pd.DataFrame | None = None
                    ) -> pd.DataFrame:
    """Per variant x dataset x metric: the median now and in the baseline and the gate's comparison of the two
    (``statistics.shift`` at the suite's alpha, with the tolerance of the suite's ``check.regression`` where it
    names the metric, none otherwise): regressed exactly where ``ganbench check --baseline`` fails the
    regression rule. A cell measured differently (another dataset, budget, feature space) is not compared.
    ``final``: ``final_metrics(results)``, where the caller has it already."""
    catalog = results.metric_info()
    now_final = final_metrics(results) if final is None else final
    then_final, then_measured = final_metrics(baseline), measurements(baseline)
    rows = []
    for (variant, dataset), now in now_final.groupby(["variant", "dataset"]):
        then = then_final[(then_final.variant == variant) & (then_final.dataset == dataset)]
        if then.empty:
            continue
        runs = results.runs[(results.runs.variant == variant) & (results.runs.dataset == dataset)]
        differs = measured_differently(then_measured.get((variant, dataset)),
                                       results.configs.get(measured_run(runs), {}))
        for metric in directed(catalog):
            if metric not in now or metric not in then:
                continue
            a, b = now[metric].dropna().tolist(), then[metric].dropna().tolist()
            if not a or not b:
                continue
            higher = bool(catalog[metric].higher_is_better)
            tolerance = rules.regression.get(metric)
            found = shift(a, b, higher, tolerance.allowed(float(np.median(b))) if tolerance else 0.0)
            rows.append({"variant": variant, "dataset": dataset, "metric": metric, "now": found.now,
                         "baseline": found.then, "better_by": found.better_by, "allowed": found.allowed,
                         "p_worse": found.p_worse, "p_better": found.p_better, "seeds": found.seeds,
                         "gated": tolerance is not None,
                         "change": "not comparable" if differs else found.direction(rules.alpha)})
    return pd.DataFrame(rows)


def reproduction(results: Results, alpha: float = 0.05) -> pd.DataFrame:
    """One row per ``reference:`` row of the stored suite: published, measured IQM [95 % CI] and outcome; for a
    ``better_than`` claim, P(the variant's seed beats the other's) [95 % CI] and the gate's comparison of the two
    at ``alpha`` (the suite's)."""
    from ganbench.evidence.reproduction import claim_outcome, outcome, parse_references

    doc = results.store.suite_doc()
    if not doc.get("reference"):
        return pd.DataFrame()
    catalog = results.metric_info()
    refs = parse_references(doc["reference"], set(results.runs.variant), set(results.runs.dataset), catalog)
    final = results.final(sorted({ref.metric for ref in refs}))

    def finals(variant: str, ref) -> tuple[pd.DataFrame, np.ndarray]:
        """A variant's final evaluations on the row's dataset, and their finite values of the row's metric."""
        cell = final[(final.variant == variant) & (final.dataset == ref.dataset)]
        values = cell[ref.metric].to_numpy(dtype=float) if ref.metric in cell else np.array([])
        return cell, values[np.isfinite(values)]

    rows = []
    for ref in refs:
        cell, values = finals(ref.variant, ref)
        steps = int(results.runs[results.runs.run_id.isin(cell.index)].step.min()) if len(cell) else 0
        row = {"source": ref.source, "variant": ref.variant, "dataset": ref.dataset, "metric": ref.metric,
               "published": ref.published(), "seeds": len(values), "steps": steps, "note": ref.note}
        if ref.better_than is None:
            ci = stats.bootstrap_ci(values) if len(values) > 1 else (math.nan, math.nan)
            rows.append({**row, "measured": stats.iqm(values), "ci": ci, "measure": "IQM",
                         "outcome": outcome(ref, len(values), ci, steps)})
            continue
        _, others = finals(ref.better_than, ref)
        higher = bool(lookup(catalog, ref.metric).higher_is_better)
        if not len(values) or not len(others):
            rows.append({**row, "measured": math.nan, "ci": (math.nan, math.nan), "measure": "P(better)",
                         "outcome": claim_outcome(ref, "", steps)})
            continue
        p, low, high = stats.probability_ci([values], [others], higher)
        found = shift(values.tolist(), others.tolist(), higher)
        rows.append({**row, "measured": p, "ci": (low, high), "measure": "P(better)",
                     "seeds": f"{len(values)} vs {len(others)}",
                     "outcome": claim_outcome(ref, found.direction(alpha), steps)})
    return pd.DataFrame(rows)


def best_snapshots(results: Results, final: pd.DataFrame, metric: str, higher_is_better: bool) -> pd.DataFrame:
    """Per variant x dataset: the evaluation where ``metric`` was best in each seed -- its step (median and range
    over seeds) and value (IQM [95 % CI]) -- beside the final value's, and how many seeds ended past their best
    (a ``past_best`` event)."""
    m = results.metrics
    m = m[(m.name == metric) & m.run_id.isin(final.run_id)].dropna(subset=["value"])
    if m.empty:
        return pd.DataFrame()
    pick = m.loc[(m.value if higher_is_better else -m.value).groupby(m.run_id, observed=True).idxmax()]
    best = pick.set_index("run_id")
    past = set(results.events[results.events.kind == "past_best"].run_id)
    rows = []
    for (variant, dataset), frame in final.groupby(["variant", "dataset"], sort=True):
        ids = [r for r in frame.run_id if r in best.index]
        if not ids:
            continue
        steps = best.loc[ids, "step"].to_numpy(dtype=float)
        rows.append({"variant": variant, "dataset": dataset, "n": len(ids),
                     "best step": f"{int(np.median(steps)):,} ({int(steps.min()):,}–{int(steps.max()):,})",
                     "best": stats.summarize(best.loc[ids, "value"].to_numpy(dtype=float)),
                     "final": stats.summarize(frame[metric].to_numpy(dtype=float)),
                     "ended past best": f"{sum(r in past for r in ids)} of {len(ids)}"})
    return pd.DataFrame(rows)


CONDITIONAL_EVENTS = ("label_ignored", "class_collapse", "class_diversity")


def per_class(results: Results) -> pd.DataFrame:
    """Conditional runs at their final evaluation, one row per variant, dataset and class: the median over seeds
    of the class's FID, recall, precision and coverage, and the seeds."""
    family = results.metrics[results.metrics.name.str.match(r"class_(fid|recall|precision|coverage)/\d+$")]
    if family.empty:
        return pd.DataFrame()
    last = family.sort_values("step").groupby(["run_id", "name"], observed=True).tail(1)
    parts = last.name.str.extract(r"class_(?P<what>\w+)/(?P<cls>\d+)")
    last = last.assign(what=parts.what.values, cls=parts.cls.astype(int).values)
    table = last.pivot_table(index=["variant", "dataset", "cls"], columns="what", values="value", aggfunc="median")
    seeds = last.groupby(["variant", "dataset", "cls"]).run_id.nunique().rename("seeds")
    return table.join(seeds).reset_index().rename(columns={"cls": "class"})


def conditional_summary(results: Results) -> str:
    """One sentence on the conditional events: which variant ignored its labels, which class collapsed where."""
    events = results.events[results.events.kind.isin(CONDITIONAL_EVENTS)]
    if events.empty:
        return ""
    seeds = results.runs.groupby(["variant", "dataset"]).size()
    said = []
    for (variant, dataset, kind), frame in events.groupby(["variant", "dataset", "kind"], sort=True):
        n = f"{frame.seed.nunique()} of {seeds.loc[(variant, dataset)]} seeds"
        if kind == "label_ignored":
            said.append(f"{variant} on {dataset} ignored its labels in {n}")
        elif kind == "class_collapse":
            classes = sorted({int(e["class"]) for e in frame.evidence if isinstance(e, dict) and "class" in e})
            named = ", ".join(str(c) for c in classes)
            said.append(f"{variant} on {dataset} lost class {named} in {n}")
        else:
            said.append(f"{variant} on {dataset} followed its labels with too little variety within a class in {n}")
    return "Per class: " + "; ".join(said) + "."
