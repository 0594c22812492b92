"""Each run's final evaluation metrics with its state, and which of them may head a ranking: what the report,
the ranking and sweep selection read."""

from __future__ import annotations

import pandas as pd

from ganbench.evidence.states import not_learned, run_states
from ganbench.meta import Catalog, directed
from ganbench.results import Results


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
    unlearned = not_learned(results)
    final["state"] = final["run_id"].map(run_states(results, unlearned))
    final["learned"] = ~final["run_id"].isin(unlearned)  # a collapsed run may not have learned either
    return final
