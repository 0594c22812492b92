"""Live views beside the store: W&B (offline, read back by W&B's own reader) and MLflow (a real SQLite tracking
store, read back by MLflow's client) receive what metrics.csv, events.jsonl and the sample pictures hold, for a
suite's runs and a tracked loop alike."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from torch import nn

import ganbench
from ganbench.execution.runner import run_suite
from ganbench.results import load_results
from ganbench.spec.suite import parse_suite
from tests.conftest import tiny_suite


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No account, no network: W&B offline and silent, MLflow's store the default SQLite file."""
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb-config"))
    monkeypatch.delenv("WANDB_PROJECT", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def _stored(root: Path, run_id: str) -> pd.DataFrame:
    return pd.read_csv(root / "runs" / run_id / "metrics.csv")


def _wandb_history(root: Path, run_id: str) -> tuple[pd.DataFrame, dict, dict]:
    """(step, name, value) rows, the run's config and its final summary, read from the run's transaction log by
    W&B's own reader (`wandb leet inspect --json`)."""
    logs = [_records(p) for p in (root / "wandb").glob("offline-run-*/run-*.wandb")]
    (records,) = [r for r in logs if any(x.get("run", {}).get("display_name") == run_id for x in r)]
    rows, config, summary = [], {}, {}
    for record in records:
        if record.get("type") == "history":
            item = record["history"]["item"]
            rows += [(int(item["_step"]), k, v) for k, v in item.items() if not k.startswith("_")]
        elif record.get("type") == "run":
            config = record["run"]["config"]["update"]
        elif record.get("type") == "summary":
            summary.update(record["summary"].get("update", {}))
    return pd.DataFrame(rows, columns=["step", "name", "value"]), config, summary


def _records(log: Path) -> list[dict]:
    wandb = shutil.which("wandb", path=str(Path(sys.executable).parent)) or "wandb"
    out = subprocess.run([wandb, "leet", "inspect", "--json", str(log)], capture_output=True, text=True, check=True)
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def _same(stored: pd.DataFrame, logged: pd.DataFrame, names: set[str]) -> None:
    """Every stored row of these metrics was logged with the same step and value (NaN as NaN)."""
    stored = stored[stored.name.isin(names)].sort_values(["name", "step"]).reset_index(drop=True)
    logged = logged[logged.name.isin(names)].sort_values(["name", "step"]).reset_index(drop=True)
    assert list(zip(stored.name, stored.step)) == list(zip(logged.name, logged.step))
    for a, b in zip(stored.value, logged.value):
        b = float("nan") if b in ("NaN", "nan", None) else float(b)
        assert (math.isnan(a) and math.isnan(b)) or a == b, (a, b)


def _mlflow_run(root: Path, run_id: str):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(root.name)
    (run,) = client.search_runs([experiment.experiment_id], f"tags.`ganbench.run_id` = '{run_id}'")
    return client, run


def _mlflow_history(client, run, names: set[str]) -> pd.DataFrame:
    return pd.DataFrame([(m.step, name, m.value) for name in names
                         for m in client.get_metric_history(run.info.run_id, name)],
                        columns=["step", "name", "value"])


def test_a_suites_runs_reach_wandb_offline_as_stored(tmp_path, offline):
    pytest.importorskip("wandb", reason="the wandb extra is not installed")
    result = run_suite(parse_suite(tiny_suite(loggers=["wandb"])), out=tmp_path)
    (run,) = result.runs
    stored = _stored(result.root, run["id"])
    logged, config, summary = _wandb_history(result.root, run["id"])
    _same(stored, logged, set(stored.name))
    assert config["spec.recipe.objective"] == "nonsaturating" and config["spec.seed"] == "0"
    pictures = logged[logged.name == "samples._type"]  # W&B's record of an image: its type, size and file
    assert set(pictures.value) == {"image-file"}
    assert sorted(pictures.step) == sorted(int(p.stem.split("_")[1]) for p in
                                           load_results(result.root).store.sample_images(run["id"]))
    events = load_results(result.root).store.read_events(run["id"])
    assert {f"event/{e['kind']}" for e in events} <= set(summary) and events, "the tiny run raises events"


def test_a_suites_runs_reach_an_mlflow_sqlite_store_as_stored(tmp_path, offline):
    pytest.importorskip("mlflow", reason="the mlflow extra is not installed")
    doc = tiny_suite(loggers=["mlflow"], seeds=2)
    result = run_suite(parse_suite(doc), out=tmp_path, workers=2)  # two processes share one store
    store = load_results(result.root).store
    for run in result.runs:
        stored = _stored(result.root, run["id"])
        client, logged_run = _mlflow_run(result.root, run["id"])
        _same(stored, _mlflow_history(client, logged_run, set(stored.name)), set(stored.name))
        assert logged_run.data.params["spec.recipe.objective"] == "nonsaturating"
        assert logged_run.info.status == "FINISHED"
        events = store.read_events(run["id"])
        assert events and {f"event.{e['kind']}" for e in events} <= set(logged_run.data.tags)
        pictures = {p.name for p in store.sample_images(run["id"])}
        artifacts = {Path(a.path).name for a in client.list_artifacts(logged_run.info.run_id, "samples")}
        assert pictures == artifacts


class _Ring(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 2))

    def forward(self, z):
        return self.net(z)


def test_a_tracked_loop_reaches_both(tmp_path, offline):
    pytest.importorskip("wandb", reason="the wandb extra is not installed")
    pytest.importorskip("mlflow", reason="the mlflow extra is not installed")
    torch.manual_seed(0)
    g, d = _Ring(), nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 1))
    opt_g, opt_d = torch.optim.Adam(g.parameters(), 1e-3), torch.optim.Adam(d.parameters(), 1e-3)
    with ganbench.track(tmp_path, g=g, d=d, data="ring", z_dim=8, suite="live", seed=0, steps=60,
                        eval_every=30, loggers=("wandb", "mlflow"), evaluation="in_loop") as tracker:
        for step in range(1, 61):
            real, fake = torch.randn(64, 2), g(torch.randn(64, 8))
            d_real, d_fake = d(real), d(fake.detach())
            loss_d = nn.functional.softplus(-d_real).mean() + nn.functional.softplus(d_fake).mean()
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            loss_g = nn.functional.softplus(-d(fake)).mean()
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            tracker.log(step, loss_d=loss_d, loss_g=loss_g, real_out=d_real, fake_out=d_fake, real=real, fake=fake)
    root = tmp_path / "live"
    (run_id,) = [p.name for p in (root / "runs").iterdir()]
    stored = _stored(root, run_id)
    assert {"loss_d", "sliced_wasserstein"} <= set(stored.name)
    logged, _, _ = _wandb_history(root, run_id)
    _same(stored, logged, set(stored.name))
    client, logged_run = _mlflow_run(root, run_id)
    _same(stored, _mlflow_history(client, logged_run, set(stored.name)), set(stored.name))


def test_the_report_links_each_runs_page_in_a_live_view(tmp_path, monkeypatch):
    """A live view that knows the run's page (W&B online, an MLflow server) has it linked from the report."""
    from ganbench.catalog import LOGGERS
    from ganbench.report.render import write_report
    from ganbench.training.loggers import Logger

    class Pages(Logger):
        def link(self) -> str:
            return f"https://tracking.example/{self.run_id}"

    monkeypatch.setitem(LOGGERS._items, "pages", Pages)
    result = run_suite(parse_suite(tiny_suite(loggers=["pages"])), out=tmp_path)
    (run,) = result.runs
    assert load_results(result.root).store.status(run["id"])["links"] == {
        "pages": f"https://tracking.example/{run['id']}"}
    write_report(result.root)
    assert f"https://tracking.example/{run['id']}" in (result.root / "report" / "report.md").read_text()
