"""Assemble the report: one self-contained ``index.html`` (images embedded) and ``report.md`` with its
images beside it. Every user-supplied string is escaped."""

from __future__ import annotations

import base64
import html
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ganbench.evidence.gate import Rules, rules_of
from ganbench.evidence.states import (
    FAILED,
    FINISHED,
    HEALTHY,
    MEASURED,
    QUALITY_FLOOR,
    collapse_kinds,
    nonconvergence_kinds,
)
from ganbench.evidence.statistics import min_attainable_p, pairwise_tests, summarize
from ganbench.meta import Catalog
from ganbench.report import plots, tables
from ganbench.results import Results, load_results
from ganbench.results.store import write_files

CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1200px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}h1{font-size:1.7em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;
padding-bottom:.2em;margin-top:2em}table{border-collapse:collapse;font-size:.86em;margin:.6em 0}
th,td{border:1px solid #ddd;padding:.3em .6em;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child,td:last-child,th:last-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:.4em 0}.note{color:#666;font-size:.9em}.caveat{background:#fff7e0;
border-left:4px solid #f0b400;padding:.5em .8em;margin:.8em 0}.summary{font-size:1.1em;background:#eef4ff;
border-left:4px solid #3a6fd8;padding:.6em .9em;margin:.8em 0}.scroll{overflow-x:auto;max-width:100%}
td:last-child{min-width:16em}.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));
gap:.8em}.gallery figure{margin:0}"""


def fmt(x, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


def fmt_ci(value: float, ci: tuple[float, float]) -> str:
    low, high = ci
    return fmt(value) + ("" if math.isnan(low) else f" [{fmt(low)}, {fmt(high)}]")


def pct(x: float) -> str:
    return "—" if x is None or math.isnan(x) else f"{100 * x:.0f}%"


@dataclass
class Report:
    """Sections in order; each is a heading, paragraphs, tables (as string frames) and images."""

    title: str
    blocks: list[tuple[str, object]] = field(default_factory=list)  # (kind, payload)
    images: dict[str, bytes] = field(default_factory=dict)

    def heading(self, text: str) -> None:
        self.blocks.append(("h2", text))

    def text(self, text: str, css: str = "") -> None:
        self.blocks.append(("p", (text, css)))

    def table(self, frame: pd.DataFrame) -> None:
        self.blocks.append(("table", frame.astype(str)))

    def links(self, label: str, targets: list[tuple[str, str]]) -> None:
        """A line of links (text, relative address), e.g. to each run's sample pictures."""
        if targets:
            self.blocks.append(("links", (label, targets)))

    def image(self, name: str, png: bytes | None, caption: str) -> None:
        if png is not None:
            self.images[name] = png
            self.blocks.append(("img", (name, caption)))

    def gallery(self, pictures: list[tuple[str, bytes, str]], caption: str) -> None:
        """Pictures (name, png, caption) that wrap: four a row at laptop width, one a row on a phone."""
        if pictures:
            self.images.update({name: png for name, png, _ in pictures})
            self.blocks.append(("gallery", ([(name, text) for name, _, text in pictures], caption)))

    def html(self) -> str:
        parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>"
                 f"<style>{CSS}</style></head><body><h1>{html.escape(self.title)}</h1>"]
        for kind, payload in self.blocks:
            if kind == "h2":
                parts.append(f"<h2>{html.escape(payload)}</h2>")
            elif kind == "p":
                text, css = payload
                parts.append(f"<p class='{css}'>{html.escape(text)}</p>")
            elif kind == "table":
                # a wide table scrolls on its own on a narrow window, instead of running off the page
                parts.append(f"<div class='scroll'>{payload.to_html(index=False, escape=True, border=0)}</div>")
            elif kind == "links":
                label, targets = payload
                anchors = " · ".join(f"<a href='{html.escape(href)}'>{html.escape(text)}</a>" for text, href in targets)
                parts.append(f"<p class='note'>{html.escape(label)} {anchors}</p>")
            elif kind == "gallery":
                pictures, caption = payload
                parts.append("<figure><div class='gallery'>" + "".join(self._figure(*p) for p in pictures)
                             + f"</div><figcaption class='note'>{html.escape(caption)}</figcaption></figure>")
            else:
                parts.append(self._figure(*payload))
        parts.append("</body></html>")
        return "\n".join(parts)

    def _figure(self, name: str, caption: str) -> str:
        data = base64.b64encode(self.images[name]).decode()
        return (f"<figure><img src='data:image/png;base64,{data}' alt='{html.escape(caption)}'>"
                f"<figcaption class='note'>{html.escape(caption)}</figcaption></figure>")

    def markdown(self) -> str:
        lines = [f"# {self.title}", ""]
        for kind, payload in self.blocks:
            if kind == "h2":
                lines += [f"## {payload}", ""]
            elif kind == "p":
                text, css = payload
                lines += [f"> {text}" if css in ("caveat", "summary") else text, ""]
            elif kind == "table":
                lines += [_md_table(payload), ""]
            elif kind == "links":
                label, targets = payload
                lines += [label + " " + " · ".join(f"[{text}]({href})" for text, href in targets), ""]
            elif kind == "gallery":
                pictures, caption = payload
                lines += [" ".join(f"![{text}](img/{name}.png)" for name, text in pictures), "", caption, ""]
            else:
                name, caption = payload
                lines += [f"![{caption}](img/{name}.png)", ""]
        return "\n".join(lines)


def _md_table(frame: pd.DataFrame) -> str:
    cell = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    rows = ["| " + " | ".join(cell(c) for c in frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    rows += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(rows)


def _ranking_section(report: Report, final: pd.DataFrame, rank: pd.DataFrame, catalog: Catalog,
                     alpha: float) -> list[str]:
    primary = tables.primary_metric(final, catalog)
    shown = pd.DataFrame({"rank": [f"{r}=" if t else str(r) for r, t in zip(rank["rank"], rank.tied)],
                          "variant": rank.variant, "state": rank.state, "seeds": rank.states,
                          # what the rank stands on, beside it: the key metric or, for a variant that never
                          # converged, the whole-distribution metric over all its seeds
                          "ranked on (IQM)": [f"{m} {fmt(v)}" if m else "— (not ranked)"
                                              for m, v in zip(rank.ranked_by, rank.ranked_value)]})
    for m in tables.key_metrics(final, catalog):
        arrow = "↑" if catalog[m].higher_is_better else "↓"
        shown[f"{m} {arrow} IQM [95% CI]"] = [
            fmt_ci(v, ci) + (f" ({n} of {seeds} seeds)" if n < seeds and n else "") if n else "— (no measured seed)"
            for v, ci, n, seeds in zip(rank[m], rank[f"{m}_ci"], rank.measured, rank.seeds)]
    everyone = len(rank) - 1
    shown["tied with"] = ["—" if not t else ("all the others" if everyone > 2 and len(t.split(", ")) == everyone else t)
                          for t in rank.tied]
    shown["collapse rate"] = rank.collapse_rate.map(pct)
    shown["time to collapse (median step)"] = rank.time_to_collapse.map(lambda x: fmt(x, 6))
    shown["summary"] = rank.summary
    report.heading("Ranking")
    collapse = " or ".join(collapse_kinds())
    unlearned = ", ".join(nonconvergence_kinds())
    report.text(f"Variants are grouped by state — what most seeds became: healthy, collapsed (a {collapse} event), "
                f"not converged (at no evaluation were {QUALITY_FLOOR:.0%} of the samples on a mode, or a "
                f"{unlearned} event: the run did not learn), diverged or failed. Healthy and collapsed variants are "
                f"ranked by {primary or 'nothing (no metric may head a ranking)'} over their converged seeds only "
                "(the number says when seeds were left out); not-converged variants by "
                f"{tables.WHOLE_DISTRIBUTION} over all seeds, which sees the whole distribution; diverged and failed "
                "ones not at all. A variant's rank is 1 + the variants in better groups + those in its own group "
                f"that beat it in a two-sided Mann-Whitney U test, Holm-corrected within the group, at α = {alpha} "
                "(the suite's); \"2=\" marks a rank shared with the variants no test separates. Key metrics: IQM "
                "over the converged seeds and datasets, 95% CI a percentile bootstrap stratified over datasets. "
                f"Collapse rate: share of seeds with a {collapse} event; time to collapse: median step it began.",
                "note")
    report.table(shown)
    return list(rank.variant)


def _final_pictures(results: Results) -> dict[str, Path]:
    """run id -> its final sample picture, for every run that drew one."""
    found = {run_id: results.store.sample_images(run_id) for run_id in results.runs.run_id}
    return {run_id: pictures[-1] for run_id, pictures in found.items() if pictures}


WRONG_SEEDS_SHOWN = 3  # per variant and dataset, beside its lowest seed


def _final_samples(results: Results, order: list[str], pictures: dict[str, Path],
                   states: dict[str, str]) -> list[tuple[str, bytes, str]]:
    """(name, png, caption): each variant's final sample picture on each dataset from its lowest seed, then from
    its first seeds that went wrong (not healthy), so the report shows what a collapse looked like."""
    shown = []
    for dataset in sorted(results.runs.dataset.unique()):
        for variant in order:
            runs = results.runs[(results.runs.variant == variant) & (results.runs.dataset == dataset)]
            runs = [r for r in runs.sort_values("seed").itertuples() if r.run_id in pictures]
            if not runs:
                continue
            wrong = [r for r in runs[1:] if states.get(r.run_id, HEALTHY) != HEALTHY][:WRONG_SEEDS_SHOWN]
            for run in [runs[0], *wrong]:
                state = states.get(run.run_id, HEALTHY)
                shown.append((f"samples-{len(shown)}", pictures[run.run_id].read_bytes(),
                              f"{variant} · {dataset} · seed {run.seed}" + ("" if state == HEALTHY else f" ({state})")))
    return shown


def _sample_links(report: Report, results: Results, order: list[str], pictures: dict[str, Path]) -> None:
    """Every run's final sample picture one click away: copied beside the report (img/seeds/RUN.png), so the
    links hold wherever the report folder is copied."""
    for variant in order:
        runs = results.runs[results.runs.variant == variant].sort_values(["dataset", "seed"])
        targets = []
        for run in runs.itertuples():
            if run.run_id in pictures:
                report.images[f"seeds/{run.run_id}"] = pictures[run.run_id].read_bytes()
                targets.append((f"{run.dataset} seed {run.seed}", f"img/seeds/{run.run_id}.png"))
        report.links(f"{variant} — every seed's final samples:", targets)
        pages = [(f"{run.dataset} seed {run.seed} ({tool})", link) for run in runs.itertuples()
                 for tool, link in results.store.status(run.run_id).get("links", {}).items()]
        if pages:  # runs logged to W&B or an MLflow server: their pages there
            report.links(f"{variant} — every seed's page in its live view:", pages)


def _reproduction_section(report: Report, results: Results, alpha: float) -> None:
    from ganbench.evidence.reproduction import CLAIM_RULE, RULE

    rows = tables.reproduction(results, alpha)
    if rows.empty:
        return
    sources = list(dict.fromkeys(rows.source))
    shown = pd.DataFrame({
        "ref": [f"[{sources.index(x) + 1}]" for x in rows.source], "variant": rows.variant,
        "dataset": rows.dataset, "metric": rows.metric,
        "published": rows.published,
        "measured [95% CI]": [f"{m} {fmt_ci(v, ci)}" for m, v, ci in zip(rows.measure, rows.measured, rows.ci)],
        "seeds": rows.seeds, "steps": rows.steps.map(lambda x: f"{x:,}"), "outcome": rows.outcome})
    report.heading("Reproduction")
    claims = rows.measure.eq("P(better)").any()
    report.text("Published numbers this suite is held against (its reference: block), beside the same metric "
                f"measured here at the final evaluation. Rule: {RULE}" + (
                    f" For orderings, {CLAIM_RULE}" if claims else ""), "note")
    report.table(shown)
    for i, source in enumerate(sources, 1):
        report.text(f"[{i}] {source}", "note")
    for note in dict.fromkeys(n for n in rows.note if n):
        report.text(note, "note")


def _caveats(report: Report, final: pd.DataFrame) -> None:
    seeds = final.groupby(["variant", "dataset"]).size()
    if seeds.min() < 5:
        n = int(seeds.min())
        report.text(f"Small samples: some cells have only {n} seed(s). Confidence intervals from so few seeds are "
                    f"wide and unstable, and a two-sided Mann-Whitney test with {n} vs {n} seeds cannot go below "
                    f"p = {min_attainable_p(n, n):.2g}; treat rankings as provisional and add seeds to confirm.",
                    "caveat")


def _cell_section(report: Report, final: pd.DataFrame, catalog: Catalog) -> None:
    cells = tables.cell_stats(final, tables.present(final, catalog))
    if cells.empty:
        return
    report.heading("Final evaluation per variant and dataset")
    for metric, frame in cells.groupby("metric", sort=False):
        info = catalog[metric]
        arrow = "higher" if info.higher_is_better else "lower"
        report.text(f"{metric}: {info.description} ({arrow} is better). n seeds, mean, median, IQM and its 95% "
                    "bootstrap CI.", "note")
        shown = frame.assign(**{c: frame[c].map(fmt) for c in ("mean", "median", "iqm")})
        shown["95% CI (IQM)"] = [f"[{fmt(a)}, {fmt(b)}]" for a, b in zip(frame.ci_low, frame.ci_high)]
        report.table(shown[["variant", "dataset", "n", "mean", "median", "iqm", "95% CI (IQM)"]])


def _class_section(report: Report, results: Results) -> None:
    """Conditional runs: a row per variant, dataset and class at the final evaluation."""
    rows = tables.per_class(results)
    if rows.empty:
        return
    report.heading("Per class (conditional runs)")
    report.text("Each class's generated samples against its real ones at the final evaluation, median over seeds: "
                "FID, recall (variety) and precision (fidelity), k = 3, and coverage (the share of the class's "
                "samples that are good samples of it). A class far below the others lost its variety or its "
                "samples; samples per class: the evaluation samples over the classes.", "note")
    measures = [c for c in ("fid", "recall", "precision", "coverage") if c in rows]
    shown = rows.assign(**{c: rows[c].map(fmt) for c in measures})
    report.table(shown[["variant", "dataset", "class", "seeds", *measures]])


def _sweep_section(report: Report, results: Results, final: pd.DataFrame, colours: dict) -> None:
    """A swept suite: each variant's best trial and its settings, every trial's score, expected-max curves."""
    from ganbench.evidence.selection import trial_scores
    from ganbench.evidence.statistics import expected_max

    sweep = results.sweep
    if sweep is None:
        return
    names = [t["name"] for info in sweep["variants"].values() for t in info["trials"]]
    trial_score, metric, higher = trial_scores(load_results(results.root, trials=True), names, sweep["metric"])
    scores = pd.DataFrame([{"variant": variant, "trial": t["name"], "settings": t["settings"],
                            "score": trial_score[t["name"]], "best": t["name"] == info["best"]}
                           for variant, info in sweep["variants"].items() for t in info["trials"]])
    report.heading("Equal-budget sweep")
    report.text(f"Every variant got the same {sweep['method']} search: {sweep['trials']} trials over the settings "
                f"below. Each trial trained on the selection seeds {sweep['selection_seeds']}; the best trial per "
                f"variant (highest IQM of {metric}" + ("" if higher else ", lower being better") + " over those "
                f"seeds) was then retrained on the fresh seeds {sweep['reporting_seeds']}, which alone give the "
                "reported score and everything else in this report -- so the winner's luck on the selection "
                "seeds does not inflate it.", "note")
    table = []
    for variant in sweep["variants"]:
        best = scores[(scores.variant == variant) & scores.best].iloc[0]
        reported = summarize(final.loc[final.variant == variant, metric])
        table.append({"variant": variant, "best trial": best.trial,
                      "settings": ", ".join(f"{k} {fmt(x) if isinstance(x, float) else x}"
                                            for k, x in best.settings.items()),
                      f"{metric} on selection seeds (IQM)": fmt(best.score),
                      f"{metric} on reporting seeds, IQM [95% CI]": fmt_ci(reported["iqm"], (reported["ci_low"],
                                                                                             reported["ci_high"])),
                      "reporting seeds": reported["n"]})
    report.table(pd.DataFrame(table))
    report.image("sweep-trials", plots.sweep_sensitivity(scores, metric, colours),
                 "Sensitivity: every trial's score on the selection seeds (one dot per trial; the circled dot won). "
                 "A wide spread means the variant's result depends on its settings more than on itself.")
    curves = []
    for variant, frame in scores.groupby("variant", sort=False):
        finite = frame.score.to_numpy(dtype=float)
        finite = finite[np.isfinite(finite)]
        for k in range(1, len(finite) + 1):
            mean, var = expected_max(finite if higher else -finite, k)
            curves.append({"variant": variant, "k": k, "mean": mean if higher else -mean, "std": math.sqrt(var),
                           "low": finite.min(), "high": finite.max()})
    report.image("sweep-expected-max", plots.expected_max_curves(pd.DataFrame(curves), metric, higher, colours),
                 "Expected best score after k trials (Dodge et al. 2019), k drawn without replacement from the trials "
                 "run, ±1 std: k = 1 is a trial's average, the right end the best trial. Where two curves cross, "
                 "which variant wins depends on the tuning budget.")


def _best_section(report: Report, results: Results, final: pd.DataFrame, catalog: Catalog) -> None:
    """Where each variant's key metric was best, beside its final value: every comparison above uses the final."""
    metric, kept = best_metric(results, final, catalog)
    if metric is None:
        return
    best = tables.best_snapshots(results, final, metric, bool(catalog[metric].higher_is_better))
    if best.empty:
        return
    report.heading("Best snapshot")
    where = (f"Each run kept G at its best {metric} evaluation in best.pt (train.keep_best)." if kept else
             "A run's checkpoint holds its last checkpoint step, not its best: `train.keep_best` keeps that G.")
    report.text(f"The evaluation where {metric} was best in each seed: its step (median, range over seeds) and "
                "value, beside the final one. Every ranking, table and test above compares final evaluations. "
                + where, "note")
    shown = best.assign(**{f"{k} (IQM, 95% CI)": [fmt_ci(s["iqm"], (s["ci_low"], s["ci_high"])) for s in best[k]]
                           for k in ("best", "final")})
    report.table(shown[["variant", "dataset", "n", "best step", "best (IQM, 95% CI)", "final (IQM, 95% CI)",
                        "ended past best"]])


def best_metric(results: Results, final: pd.DataFrame, catalog: Catalog) -> tuple[str | None, bool]:
    """The metric whose best evaluation the report names, and whether every run kept that G: the suite's
    ``train.keep_best`` where every run set the same one, else the ``past_best`` detector's metric (the suite's,
    where every run set the same one) where runs logged it, else the ranking's primary metric."""
    from ganbench.diagnostics.detectors import PastBest

    specs = [results.configs.get(r, {}).get("spec", {}) for r in final.run_id]
    kept = {spec.get("train", {}).get("keep_best") for spec in specs}
    if len(kept) == 1 and None not in kept:
        return kept.pop(), True
    read = {(spec.get("detectors") or {}).get("past_best", {}).get("metric", PastBest.metric) for spec in specs}
    past = read.pop() if len(read) == 1 else PastBest.metric
    if past in final and final[past].notna().any():
        return past, False
    return tables.primary_metric(final, catalog), False


def _events_section(report: Report, rates: pd.DataFrame) -> None:
    report.heading("Stability: event rates per variant and dataset")
    shown = rates[["variant", "dataset", "seeds"]].copy()
    kinds = [c for c in rates if c.endswith("_rate") and c not in ("collapse_rate", "instability_rate")]
    silent = [c.removesuffix("_rate") for c in kinds if not (rates[c] > 0).any()]
    for col in [c for c in kinds if c.removesuffix("_rate") not in silent] + ["instability_rate"]:
        shown[col.removesuffix("_rate")] = rates[col].map(pct)
    shown["time to collapse"] = rates.time_to_collapse.map(lambda x: fmt(x, 6))
    if silent:  # a column per detector that found nothing would hide the ones that did
        report.text(f"No run raised {', '.join(silent)}.", "note")
    report.table(shown.rename(columns={"instability": "any event"}))


def _pairwise_section(report: Report, final: pd.DataFrame, catalog: Catalog, alpha: float) -> None:
    """On the primary metric over converged seeds, as the ranking reads it; where no seed converged, on the
    whole-distribution metric over all seeds (a coverage of 0.02 against 0 is no evidence of anything)."""
    metric, seeds = tables.primary_metric(final, catalog), "converged seeds"
    if "state" in final:
        measured = final[final.state.isin(MEASURED)]
        if measured.empty:
            metric, seeds = (tables.WHOLE_DISTRIBUTION if tables.WHOLE_DISTRIBUTION in final else None), "all seeds"
        elif metric:
            final = measured
    if metric is None or metric not in final or final[metric].isna().all():
        return
    beats = tables.beat_matrix(final, metric, bool(catalog[metric].higher_is_better))
    if beats.empty:
        return
    report.heading(f"Pairwise comparison on {metric}")
    report.text(f"P(A beats B): the probability that a random seed of A has a better final {metric} than a random "
                f"seed of B (ties count half) over {seeds}, averaged over datasets, with a stratified bootstrap 95% "
                "CI.", "note")
    matrix = beats.pivot(index="a", columns="b", values="p")
    ci = beats.set_index(["a", "b"])
    shown = pd.DataFrame({"A \\ B": matrix.index})
    for b in matrix.columns:
        shown[b] = [("—" if a == b else fmt_ci(matrix.loc[a, b], tuple(ci.loc[(a, b), ["ci_low", "ci_high"]])))
                    for a in matrix.index]
    report.table(shown)
    tests = pairwise_tests(final, metric)
    if not tests.empty:
        report.text(f"Two-sided Mann-Whitney U tests per dataset, Holm-corrected within each dataset, at the "
                    f"suite's α = {alpha} (its check.alpha, the level of every gate test).", "note")
        tests = tests.assign(p=tests.p.map(fmt), p_holm=tests.p_holm.map(fmt),
                             significant=(tests.p_holm < alpha).map({True: "yes", False: "no"}),
                             min_possible_p=[fmt(min_attainable_p(a, b)) for a, b in zip(tests.n_a, tests.n_b)])
        report.table(tests)


def _baseline_section(report: Report, results: Results, final: pd.DataFrame, baseline: Results,
                      rules: Rules) -> None:
    deltas = tables.baseline_deltas(results, baseline, rules, final)
    report.heading(f"Against the baseline ({baseline.root})")
    if deltas.empty:
        report.text("No variant and dataset in common with the baseline.", "note")
        return
    report.text(f"The gate's comparison (ganbench check --baseline): medians now and in the baseline; a metric "
                f"regressed or improved when its median moved past the allowed change (the suite's "
                f"check.regression tolerance for the metrics it gates, none for the others) and a one-sided "
                f"Mann-Whitney U test at the suite's α = {rules.alpha} agrees; \"too few seeds\" when no p at "
                "these seeds could reach α.", "note")
    shown = pd.DataFrame({
        "variant": deltas.variant, "dataset": deltas.dataset, "metric": deltas.metric,
        "now": deltas.now.map(fmt), "baseline": deltas.baseline.map(fmt),
        "better by": deltas.better_by.map(fmt), "allowed": deltas.allowed.map(fmt),
        "p (worse)": deltas.p_worse.map(fmt), "p (better)": deltas.p_better.map(fmt),
        "seeds": [f"{a} vs {b}" for a, b in deltas.seeds], "gated": deltas.gated.map({True: "yes", False: "no"}),
        "change": deltas.change})
    report.table(shown)


def _variants_section(report: Report, results: Results) -> None:
    """Each variant's recipe as its runs recorded it: the axes it sets away from the defaults -- one row per recipe,
    naming the datasets where a variant trained with another recipe on each (tuned rates on 2D data)."""
    from ganbench.recipes.variants import Recipe

    defaults = Recipe().to_dict()
    recipes: dict[str, dict[str, tuple[str, list[str]]]] = {}  # variant -> its recipe's axes -> (description, data)
    for run in results.runs.itertuples():
        recipe = results.configs.get(run.run_id, {}).get("spec", {}).get("recipe")
        if recipe is None:
            continue
        axes = "; ".join(f"{k}: {json.dumps(x)}" for k, x in recipe.items()
                         if k != "description" and json.dumps(x) != json.dumps(defaults.get(k))) or "the defaults"
        _, data = recipes.setdefault(run.variant, {}).setdefault(axes, (recipe.get("description", ""), []))
        if run.dataset not in data:
            data.append(run.dataset)
    rows = [(variant if len(own) == 1 else f"{variant} (on {', '.join(data)})", axes, text)
            for variant, own in recipes.items() for axes, (text, data) in own.items()]
    if rows:
        report.heading("Variants")
        report.text("Each variant's recipe as its runs recorded it (config.json): the axes it sets away from the "
                    "defaults (non-saturating loss, Adam 2e-4, betas (0.5, 0.999)).", "note")
        report.table(pd.DataFrame(rows, columns=["variant", "recipe", "description"]))


def _environment_section(report: Report, results: Results) -> None:
    report.heading("Run environment")
    configs = [c for c in results.configs.values() if c]
    if not configs:
        report.text("No run wrote a config.", "note")
        return
    versions = [c.get("versions", {}) for c in configs]
    rows = [(k, _across([v.get(k) for v in versions])) for k in sorted({k for v in versions for k in v})]
    determinism = [", ".join(f"{k}={v}" for k, v in sorted(c.get("determinism", {}).items())) for c in configs]
    rows += [("device", _across([c.get("device") for c in configs])),
             ("determinism in force", _across(determinism)),
             ("compute time (sum over runs)", f"{results.runs.time_s.fillna(0).sum():.1f} s"),
             ("runs", ", ".join(f"{n} {s}" for s, n in results.runs.status.value_counts().items()))]
    spaces = [c.get("collectors", {}).get("fid", {}).get("feature_space") for c in configs]
    if any(spaces):
        rows.append(("FID feature space", f"{_across(spaces)} (FIDs from different spaces do not compare)"))
    report.table(pd.DataFrame(rows, columns=["what", "value"]))


def _across(values: list) -> str:
    """One value the runs share, or each value with how many runs had it (most first): runs trained on other
    versions or machines in one results directory show as such."""
    counts = Counter("–" if v is None or v == "" else str(v) for v in values)
    if len(counts) == 1:
        return next(iter(counts))
    return "; ".join(f"{v} ({n} of {len(values)} runs)" for v, n in counts.most_common())


def build_report(results: Results, baseline: Results | None = None) -> Report:
    """The report of ``results`` (against ``baseline``)."""
    report = Report(f"ganbench report: {results.suite}")
    rules = rules_of(results)  # the suite's alpha and tolerances: the report states the gate's tests
    final = tables.final_metrics(results)
    catalog = results.metric_info()
    shown = tables.present(final, catalog)
    rates = tables.event_rates(results)
    colours = plots.palette(list(results.runs.variant.unique()))
    seeds = results.runs.groupby(["variant", "dataset"]).size()
    seed_text = f"{seeds.min()}" if seeds.min() == seeds.max() else f"{seeds.min()}–{seeds.max()}"
    report.text(f"{len(results.runs)} runs: {results.runs.variant.nunique()} variants × "
                f"{results.runs.dataset.nunique()} datasets × {seed_text} seeds; results in {results.root}.", "note")
    unfinished = results.runs[~results.runs.status.isin([*FINISHED, FAILED])]
    if len(unfinished):  # an interrupted suite is not a failed one: say so before any number
        kinds = ", ".join(f"{n} {status}" for status, n in unfinished.status.value_counts().sort_index().items())
        report.text(f"This suite is unfinished: {len(unfinished)} of {len(results.runs)} runs did not end ({kinds}). "
                    "Run the suite again to resume them; until then their variants' numbers stand on the finished "
                    "seeds only.", "summary")
    rank = tables.ranking(final, rates, catalog, rules.alpha)
    report.text(tables.headline(rank), "summary")
    conditional = tables.conditional_summary(results)  # the class a conditional event named, up front
    if conditional:
        report.text(conditional, "summary")
    _reproduction_section(report, results, rules.alpha)
    order = _ranking_section(report, final, rank, catalog, rules.alpha)
    _caveats(report, final)
    _sweep_section(report, results, final, colours)
    pictures = _final_pictures(results)  # the store's sample pictures, listed once for the gallery and the links
    states = dict(zip(final.run_id, final.state))
    report.gallery(_final_samples(results, order, pictures, states),
                   "Fixed-latent samples at the final evaluation: each variant's lowest seed, then up to "
                   f"{WRONG_SEEDS_SHOWN} of its seeds that went wrong, with their state (on 2-D data, red circles are "
                   "the true modes).")
    _sample_links(report, results, order, pictures)
    report.heading("Curves")
    report.image("quality", plots.curves(results, shown[:4], colours),
                 "Evaluation metrics over training: median over seeds, band from the lowest to the highest seed.")
    probability_runs = {run_id for run_id, c in results.configs.items()
                        if c.get("collectors", {}).get("d_outputs") == "probability"}
    report.image("discriminator", plots.curves(results, ["d_real", "d_fake", "d_accuracy"], colours,
                                               only={"d_real": probability_runs, "d_fake": probability_runs}),
                 "D(x) and D(G(z)) as probabilities (BCE-type objectives only: raw scores of other objectives "
                 "have no common scale) and D accuracy (every variant, at its objective's decision threshold).")
    report.image("gradients", plots.curves(results, ["grad_norm_d", "grad_norm_g", "grad_norm_d_input"], colours,
                                           log=True), "Gradient norms (log scale).")
    report.heading("Final metrics, every seed")
    report.image("final", plots.final_distributions(final, shown[:4], colours),
                 "Final evaluation: each dot is one seed.")
    report.image("modes", plots.mode_histograms(results), "Per-mode histogram at the final evaluation.")
    _cell_section(report, final, catalog)
    _class_section(report, results)
    _best_section(report, results, final, catalog)
    _events_section(report, rates)
    report.image("events", plots.event_timeline(results, colours), "When each event began (one mark per seed).")
    _pairwise_section(report, final, catalog, rules.alpha)
    if baseline is not None:
        _baseline_section(report, results, final, baseline, rules)
    _variants_section(report, results)
    _environment_section(report, results)
    return report


def write_report(results_dir: str | Path, out: str | Path | None = None,
                 baseline_dir: str | Path | None = None) -> Path:
    """Build the report for ``results_dir`` into ``out`` (default ``results_dir/report``)."""
    results = load_results(results_dir)
    baseline = load_results(baseline_dir) if baseline_dir else None
    out = Path(out) if out else Path(results_dir) / "report"
    report = build_report(results, baseline)
    files: dict[str, bytes | str] = {"index.html": report.html(), "report.md": report.markdown()}
    files.update({f"img/{name}.png": png for name, png in report.images.items()})
    write_files(out, files)
    return out
