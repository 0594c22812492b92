"""The report's figures (seaborn on matplotlib, Agg). Each function returns PNG bytes, or None when the
results have nothing to show for it. One palette maps each variant to the same colour in every figure."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ganbench.results import Results  # noqa: E402

EVENT_MARKERS = {"mode_collapse": "X", "d_overpowering": "v", "divergence": "*", "oscillation": "o"}
OTHER_MARKERS = "sDP^<>ph"  # for event kinds of plugin detectors, in order of appearance


def palette(variants: list[str]) -> dict[str, tuple]:
    colours = sns.color_palette("tab10" if len(variants) <= 10 else "husl", len(variants))
    return dict(zip(sorted(variants), colours))


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _grid(rows: int, cols: int, width: float = 4.2, height: float = 3.0):
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    return fig, axes


def curves(results: Results, names: list[str], colours: dict, log: bool = False, title: str = "",
           only: dict[str, set[str]] | None = None) -> bytes | None:
    """Median over seeds per step, with a band from the lowest to the highest seed; one panel per metric x
    dataset. ``only`` limits a metric to some runs ({metric: run ids})."""
    m = results.metrics[results.metrics.name.isin(names)]
    for name, run_ids in (only or {}).items():
        m = m[(m.name != name) | m.run_id.isin(run_ids)]
    if m.empty:
        return None
    present = set(m.name.unique())
    names = [n for n in names if n in present]
    datasets = sorted(m.dataset.unique())
    agg = m.groupby(["dataset", "name", "variant", "step"], observed=True).value.agg(["median", "min", "max"])
    fig, axes = _grid(len(names), len(datasets))
    for i, name in enumerate(names):
        for j, dataset in enumerate(datasets):
            ax = axes[i][j]
            for variant, colour in colours.items():
                key = (dataset, name, variant)
                if key not in agg.index.droplevel("step"):
                    continue
                cell = agg.loc[key]
                ax.plot(cell.index, cell["median"], color=colour, label=variant, linewidth=1.4)
                ax.fill_between(cell.index, cell["min"], cell["max"], color=colour, alpha=0.15, linewidth=0)
            ax.set_title(f"{name} · {dataset}", fontsize=9)
            ax.set_xlabel("step", fontsize=8)
            ax.set_ylabel(name + (" (log scale)" if log else ""), fontsize=8)
            if log:
                ax.set_yscale("log")
            ax.tick_params(labelsize=7)
            if ax.get_legend_handles_labels()[0]:  # beside its own panel: no hunting for a legend below them all
                ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _png(fig)


SEED_MARKS = {"collapsed": {"marker": "x", "s": 45, "linewidths": 1.6},  # in the variant's colour
              "not converged": {"marker": "o", "s": 45, "facecolors": "none", "linewidths": 1.4}}


def final_distributions(final: pd.DataFrame, metrics: list[str], colours: dict) -> bytes | None:
    """Every seed a dot: the final value of each metric, per dataset; a collapsed seed is a cross and one that did
    not converge a ring, in its variant's colour, just below its row."""
    metrics = [m for m in metrics if m in final and final[m].notna().any()]
    if not metrics:
        return None
    datasets = sorted(final.dataset.unique())
    fig, axes = _grid(len(metrics), len(datasets), width=4.6, height=0.45 * final.variant.nunique() + 1.2)
    order = sorted(colours)
    for i, metric in enumerate(metrics):
        for j, dataset in enumerate(datasets):
            ax = axes[i][j]
            frame = final[final.dataset == dataset]
            odd = frame.state.isin(list(SEED_MARKS)) if "state" in frame else pd.Series(False, frame.index)
            plain = frame[~odd]
            # The vertical jitter is drawn from a fixed seed (seaborn's stripplot draws from numpy's global random
            # state), so the same results give the same picture, byte for byte
            jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(plain))
            ax.scatter(plain[metric], [order.index(v) for v in plain.variant] + jitter, s=36,
                       c=[colours[v] for v in plain.variant], linewidths=0)
            for state, style in SEED_MARKS.items():  # seeds whose numbers are no measurement of the recipe
                seeds = frame[odd & (frame.state == state)] if odd.any() else frame.iloc[:0]
                if len(seeds):
                    colour = [colours[v] for v in seeds.variant]
                    paint = {"edgecolors": colour} if style["marker"] == "o" else {"c": colour}
                    ax.scatter(seeds[metric], [order.index(v) + 0.22 for v in seeds.variant], label=state, zorder=3,
                               **paint, **style)
            if odd.any():  # the marks' legend in black: the colour says the variant, the mark the state
                shown = [state for state in SEED_MARKS if (frame.state == state).any()]
                handles = [plt.Line2D([], [], linestyle="", color="black", markerfacecolor="none",
                                      marker=SEED_MARKS[state]["marker"], label=state) for state in shown]
                ax.legend(handles=handles, fontsize=7, loc="best", frameon=False)
            ax.set_title(f"final {metric} · {dataset}", fontsize=9)
            ax.set_yticks(range(len(order)), order)  # every variant's row named, even one with no plain dot
            ax.set_ylim(len(order) - 0.5, -0.5)
            ax.set_ylabel("")
            ax.set_xlabel(metric, fontsize=8)
            ax.tick_params(labelsize=7)
    fig.tight_layout()
    return _png(fig)


def event_timeline(results: Results, colours: dict) -> bytes | None:
    events = results.events
    if events.empty:
        return None
    datasets = sorted(results.runs.dataset.unique())
    order = sorted(colours)
    fig, axes = _grid(1, len(datasets), width=5, height=0.4 * len(order) + 1.2)
    max_step = results.metrics.step.max() if not results.metrics.empty else events.step.max()
    others = [k for k in sorted(events.kind.unique()) if k not in EVENT_MARKERS]
    markers = {**EVENT_MARKERS, **{k: OTHER_MARKERS[i % len(OTHER_MARKERS)] for i, k in enumerate(others)}}
    for j, dataset in enumerate(datasets):
        ax = axes[0][j]
        ev = events[events.dataset == dataset]
        for kind, marker in markers.items():
            sub = ev[ev.kind == kind]
            if sub.empty:
                continue
            y = [order.index(v) + (hash(s) % 7 - 3) * 0.04 for v, s in zip(sub.variant, sub.seed)]
            ax.scatter(sub.step, y, marker=marker, s=50, label=kind,
                       c=[colours[v] for v in sub.variant], edgecolors="black", linewidths=0.5)
        ax.set_yticks(range(len(order)), order, fontsize=7)
        ax.set_ylim(-0.6, len(order) - 0.4)
        ax.set_xlim(0, max_step * 1.02)
        ax.set_xlabel("step the event began", fontsize=8)
        ax.set_title(f"events · {dataset}", fontsize=9)
        ax.tick_params(labelsize=7)
    handles = [plt.Line2D([], [], marker=m, linestyle="", color="grey", label=k) for k, m in markers.items()]
    fig.legend(handles=handles, loc="upper center", ncol=4, fontsize=8, frameon=False, bbox_to_anchor=(0.5, 1.08))
    fig.tight_layout()
    return _png(fig)


def mode_histograms(results: Results) -> bytes | None:
    """Share of samples per mode at the final evaluation, mean over seeds: one heatmap row per variant."""
    m = results.metrics[results.metrics.name.str.startswith("mode_share/")]
    if m.empty:
        return None
    last = m[m.step == m.groupby("run_id").step.transform("max")]
    last = last.assign(mode=last.name.str.slice(len("mode_share/")).astype(int))
    datasets = sorted(last.dataset.unique())
    fig, axes = _grid(1, len(datasets), width=6, height=0.4 * last.variant.nunique() + 1.4)
    for j, dataset in enumerate(datasets):
        table = last[last.dataset == dataset].pivot_table(index="variant", columns="mode", values="value",
                                                          aggfunc="mean")
        sns.heatmap(table, ax=axes[0][j], cmap="viridis", vmin=0, cbar_kws={"label": "share of samples"})
        k = table.shape[1]
        axes[0][j].set_title(f"samples per mode, final step · {dataset} (uniform = {1 / k:.3f})", fontsize=9)
        axes[0][j].set_ylabel("")
        axes[0][j].tick_params(labelsize=7)
    fig.tight_layout()
    return _png(fig)


def sweep_sensitivity(scores: pd.DataFrame, metric: str, colours: dict) -> bytes | None:
    """Every trial's selection score as a dot per variant (scores: variant, trial, score, best)."""
    if scores.empty:
        return None
    variants = list(dict.fromkeys(scores.variant))
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(variants) + 1.2))
    for y, variant in enumerate(variants):
        rows = scores[scores.variant == variant]
        ax.scatter(rows.score, np.full(len(rows), y), color=colours.get(variant), alpha=0.75, s=28)
        best = rows[rows.best]
        ax.scatter(best.score, np.full(len(best), y), facecolors="none", edgecolors="black", s=120, linewidths=1.5)
    ax.set_yticks(range(len(variants)), variants)
    ax.invert_yaxis()
    ax.set_xlabel(f"{metric} (IQM over the selection seeds)")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def expected_max_curves(curves: pd.DataFrame, metric: str, higher: bool, colours: dict) -> bytes | None:
    """Expected best score after k trials with a ±1 std band, one line per variant (curves: variant, k, mean,
    std, and low / high: the variant's worst and best trial)."""
    if curves.empty:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 4.0))
    for variant, rows in curves.groupby("variant", sort=False):
        colour = colours.get(variant)
        ax.plot(rows.k, rows["mean"], marker="o", ms=3, color=colour, label=variant)
        # the best of k trials lies between the worst and the best trial: the band is clipped to that range
        low = np.maximum(rows["mean"] - rows["std"], rows["low"])
        high = np.minimum(rows["mean"] + rows["std"], rows["high"])
        ax.fill_between(rows.k, low, high, color=colour, alpha=0.12)
    ax.set_xlabel("trials (k)")
    ax.set_ylabel(f"expected {'best' if higher else 'lowest'} {metric}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _png(fig)
