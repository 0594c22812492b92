"""load_results: a suite's results directory as tidy pandas frames (``runs``, ``metrics``, ``events``).

Reports, checks and notebooks all read results through here; nothing here trains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ganbench.errors import GanbenchError
from ganbench.meta import Catalog, MetricInfo
from ganbench.results.store import CachedRun, RunStore, compact, ended, read_json, run_signature

RUN_KEYS = ["run_id", "variant", "dataset", "seed"]


@dataclass
class Results:
    store: RunStore
    runs: pd.DataFrame  # one row per run: run_id, variant, dataset, seed, status, step, time_s, error, ...
    metrics: pd.DataFrame  # run_id, variant, dataset, seed, step, name, value
    events: pd.DataFrame  # run_id, variant, dataset, seed, kind, step, evidence
    configs: dict[str, dict[str, Any]]  # run_id -> config.json
    _catalog: Catalog | None = field(default=None, repr=False, compare=False)  # metric_info's, read once

    @property
    def sweep(self) -> dict[str, Any] | None:
        """A swept suite's sweep.json: its trials, seeds and each variant's best trial (ganbench.spec.sweep)."""
        path = self.store.root / "sweep.json"
        return read_json(path) if path.exists() else None

    @property
    def root(self) -> Path:
        return self.store.root

    @property
    def suite(self) -> str:
        return self.store.root.name

    def final(self, names: list[str] | None = None) -> pd.DataFrame:
        """Each run's last evaluation: one row per run, one column per metric (NaN where it has none)."""
        m = self.metrics if names is None else self.metrics[self.metrics.name.isin(names)]
        if m.empty:
            return self.runs[RUN_KEYS].set_index("run_id")
        last = m.sort_values("step").groupby(["run_id", "name"], observed=True).tail(1)
        wide = last.pivot(index="run_id", columns="name", values="value")
        return self.runs[RUN_KEYS].set_index("run_id").join(wide)

    def subset(self, seeds) -> Results:
        """The same results restricted to ``seeds`` (calibration splits one run of many seeds into builds)."""
        keep = set(seeds)
        runs = self.runs[self.runs.seed.isin(keep)].reset_index(drop=True)
        ids = set(runs.run_id)
        return Results(self.store, runs, self.metrics[self.metrics.seed.isin(keep)],
                       self.events[self.events.seed.isin(keep)],
                       {run_id: c for run_id, c in self.configs.items() if run_id in ids})

    def metric_info(self) -> Catalog:
        """What each logged metric means, as the runs' collectors declared it (config.json); runs written
        before metrics carried metadata fall back to the registered collectors."""
        if self._catalog is None:
            catalog: Catalog = {}
            for config in self.configs.values():  # runs mostly declare the same metrics: parse each name once
                for name, doc in (config.get("metrics") or {}).items():
                    if name not in catalog:
                        catalog[name] = MetricInfo.from_json(doc)
            if not self.configs or any("metrics" not in c for c in self.configs.values()):
                from ganbench.metrics import metric_catalog

                catalog = {**metric_catalog(), **catalog}
            self._catalog = catalog
        return dict(self._catalog)


def measure_deferred(store: RunStore) -> None:
    """Measure the tracked runs that saved their evaluations' samples for later
    (``ganbench.track(evaluation="deferred")``) and have ended. ``load_results`` calls it first; a process that
    ran a loop may call it to measure at once."""
    ids = [str(e.get("id")) for e in store.read_manifest()]
    waiting = [run_id for run_id in ids if store.deferred_dir(run_id).exists()]
    if waiting:
        from ganbench.results.deferred import measure_ended  # torch and the metrics: only now

        measure_ended(store, waiting)


def load_results(root: str | Path, trials: bool = False) -> Results:
    """Read ``results/<suite>/`` (the directory holding manifest.json). A swept suite's trial runs are left out
    unless ``trials``: what a sweep reports, ranks and gates is each variant's best trial on fresh seeds."""
    store = RunStore.at(root)
    manifest = store.root / "manifest.json"
    measure_deferred(store)
    rows, tables, events, configs = [], [], [], {}
    cache, read = store.read_cache(), {}  # read: what this load read of each ended run, for the next one
    for i, entry in enumerate(store.read_manifest()):
        if entry.get("trial") and not trials:
            continue
        try:
            run_id = str(entry["id"])
            keys = {"run_id": run_id, "variant": str(entry["variant"]), "dataset": str(entry["dataset"]),
                    "seed": int(entry["seed"])}
        except (KeyError, TypeError, ValueError) as exc:
            raise GanbenchError(f"corrupt results file {manifest}: run {i}: {exc!r}") from None
        if "/" in run_id or run_id in (".", ".."):
            raise GanbenchError(f"corrupt results file {manifest}: run id {run_id!r}")
        signature = run_signature(store.run_dir(run_id))  # before reading: a later change misses the cache
        if (run := cache.get(run_id)) is None or run.signature != signature:
            run = _read_run(store, run_id, signature)
        if ended(run.status):
            read[run_id] = run
        status, config, table, run_events = run.status, run.config, run.table, run.events
        configs[run_id] = config
        if table is not None:
            tables.append((len(rows), table))
        rows.append({**keys, "status": status.get("status", "pending"), "step": status.get("step"),
                     "time_s": status.get("time_s"), "error": status.get("error"), "device": config.get("device")})
        events += [{**keys, **e} for e in run_events]
    if any(cache.get(run_id) is not run for run_id, run in read.items()):  # something was read anew
        store.write_cache({**cache, **read})
    runs = pd.DataFrame(rows, columns=[*RUN_KEYS, "status", "step", "time_s", "error", "device"])
    events_frame = pd.DataFrame(events, columns=[*RUN_KEYS, "kind", "step", "evidence"])
    return Results(store, runs, _metrics_frame(runs, tables), events_frame, configs)


def _read_run(store: RunStore, run_id: str, signature: list) -> CachedRun:
    try:
        status = store.read_object(run_id, "status")
        config = store.read_object(run_id, "config")
        table = store.metrics_table(run_id, ended=ended(status))
        events = store.read_events(run_id)
    except GanbenchError as exc:  # say what repairs it: the runner retrains a run whose files are corrupt
        raise GanbenchError(f"{exc}. Run the suite again (ganbench run, or your tracked loop) to train run "
                            f"{run_id} anew; the other runs are kept") from None
    return CachedRun(signature, status, config, events, None if table is None else compact(table))


def _metrics_frame(runs: pd.DataFrame, tables: list) -> pd.DataFrame:
    """Every run's metrics rows in one frame with the run's keys on each row, built in Arrow: one concatenation and
    one conversion, whatever the number of runs. The text columns are categorical (categories in sorted order, as
    a sort of the text would give) and the integers 32-bit: 10,000 runs of 2,000 rows take about 0.4 GB, not 2."""
    if not tables:
        return pd.DataFrame(columns=[*RUN_KEYS, "step", "name", "value"])
    import numpy as np
    import pyarrow as pa

    which = np.concatenate([np.full(t.num_rows, row, dtype=np.int32) for row, t in tables])
    table = pa.concat_tables([t for _, t in tables])
    columns = {key: _categorical(runs[key].to_numpy(str), which) for key in ("run_id", "variant", "dataset")}
    columns["seed"] = runs.seed.to_numpy(np.int32)[which]
    columns["step"] = table.column("step").to_numpy()
    names = table.column("name").unify_dictionaries().chunks  # one dictionary for every run's chunk
    codes = np.concatenate([chunk.indices.to_numpy() for chunk in names])
    columns["name"] = _categorical(names[0].dictionary.to_numpy(zero_copy_only=False), codes)
    value = table.column("value").to_numpy()
    columns["value"] = value if value.flags.writeable else value.copy()  # one run's column is Arrow's own buffer
    return pd.DataFrame(columns, copy=False)  # each array is new: no 1.4 s copy into blocks at 20 M rows


def _categorical(values, codes) -> pd.Categorical:
    """``values[codes]`` as a categorical whose categories are sorted, without building the strings row by row."""
    import numpy as np

    categories, inverse = np.unique(values.astype(str), return_inverse=True)
    return pd.Categorical.from_codes(inverse[codes].astype(np.int32 if len(categories) > 32_000 else np.int16),
                                     categories=categories.tolist())
