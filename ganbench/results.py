"""load_results: a suite's results directory as tidy pandas frames (``runs``, ``metrics``, ``events``).

Reports, checks and notebooks all read results through here; nothing here trains.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ganbench.errors import GanbenchError
from ganbench.store import RunStore, read_json, read_metrics

RUN_KEYS = ["run_id", "variant", "dataset", "seed"]


@dataclass
class Results:
    root: Path
    suite: str
    runs: pd.DataFrame  # one row per run: run_id, variant, dataset, seed, status, step, time_s, error, ...
    metrics: pd.DataFrame  # run_id, variant, dataset, seed, step, name, value
    events: pd.DataFrame  # run_id, variant, dataset, seed, kind, step, evidence
    configs: dict[str, dict[str, Any]]  # run_id -> config.json

    def final(self, names: list[str] | None = None) -> pd.DataFrame:
        """Each run's last evaluation: one row per run, one column per metric (NaN where it has none)."""
        m = self.metrics if names is None else self.metrics[self.metrics.name.isin(names)]
        if m.empty:
            return self.runs[RUN_KEYS].set_index("run_id")
        last = m.sort_values("step").groupby(["run_id", "name"], observed=True).tail(1)
        wide = last.pivot(index="run_id", columns="name", values="value")
        return self.runs[RUN_KEYS].set_index("run_id").join(wide)


def _read_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    events = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
            events.append({"kind": str(event["kind"]), "step": int(event["step"]), "evidence": event.get("evidence")})
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise GanbenchError(f"corrupt results file {path}, line {i}: {exc}") from None
    return events


def load_results(root: str | Path) -> Results:
    """Read ``results/<suite>/`` (the directory holding manifest.json)."""
    root = Path(root)
    if not (root / "manifest.json").exists():
        raise GanbenchError(f"{root} is not a ganbench results directory (no manifest.json); "
                            "pass results/<suite name>")
    manifest = read_json(root / "manifest.json")
    store = RunStore.at(root)
    entries = manifest.get("runs") if isinstance(manifest, dict) else None
    if not isinstance(entries, list):
        raise GanbenchError(f"corrupt results file {root / 'manifest.json'}: no 'runs' list")
    rows, metric_frames, events, configs = [], [], [], {}
    for i, entry in enumerate(entries):
        try:
            run_id = str(entry["id"])
            keys = {"run_id": run_id, "variant": str(entry["variant"]), "dataset": str(entry["dataset"]),
                    "seed": int(entry["seed"])}
        except (KeyError, TypeError, ValueError) as exc:
            raise GanbenchError(f"corrupt results file {root / 'manifest.json'}: run {i}: {exc!r}") from None
        if "/" in run_id or run_id in (".", ".."):
            raise GanbenchError(f"corrupt results file {root / 'manifest.json'}: run id {run_id!r}")
        directory = store.run_dir(run_id)
        status = store.status(run_id)
        if not isinstance(status, dict):
            raise GanbenchError(f"corrupt results file {directory / 'status.json'}: not a JSON object")
        config = read_json(directory / "config.json") if (directory / "config.json").exists() else {}
        if not isinstance(config, dict):
            raise GanbenchError(f"corrupt results file {directory / 'config.json'}: not a JSON object")
        configs[run_id] = config
        rows.append({**keys, "status": status.get("status"), "step": status.get("step"),
                     "time_s": status.get("time_s"), "error": status.get("error"),
                     "device": config.get("device")})
        if (directory / "metrics.csv").exists():
            frame = read_metrics(directory / "metrics.csv")
            metric_frames.append(frame.assign(**keys))
        events += [{**keys, **e} for e in _read_events(directory / "events.jsonl")]
    metrics = (pd.concat(metric_frames, ignore_index=True) if metric_frames
               else pd.DataFrame(columns=[*RUN_KEYS, "step", "name", "value"]))
    metrics = metrics[[*RUN_KEYS, "step", "name", "value"]]
    events_frame = pd.DataFrame(events, columns=[*RUN_KEYS, "kind", "step", "evidence"])
    return Results(root, root.name, pd.DataFrame(rows, columns=[*RUN_KEYS, "status", "step", "time_s", "error",
                                                                 "device"]),
                   metrics, events_frame, configs)
