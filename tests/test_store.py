import math
import os

import pytest

from ganbench.errors import GanbenchError
from ganbench.results.store import RunStore, atomic_write, read_json, read_metrics


def test_atomic_write_leaves_no_partial_file_on_error(tmp_path, monkeypatch):
    target = tmp_path / "a.json"
    atomic_write(target, "old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write(target, "new")
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]


def test_metrics_round_trip_is_bit_exact_with_nonfinite_values(tmp_path):
    store = RunStore(tmp_path, "s")
    values = {"a": 0.1 + 0.2, "b": 1e-310, "c": math.pi, "d": float("nan"), "e": float("inf")}
    writer = store.metrics_writer("r")
    writer.write(7, values)
    writer.close()
    frame = read_metrics(store.run_dir("r") / "metrics.csv")
    got = dict(zip(frame.name, frame.value))
    assert got["a"] == 0.1 + 0.2 and got["b"] == 1e-310 and got["c"] == math.pi
    assert math.isnan(got["d"]) and got["e"] == math.inf and set(frame.step) == {7}


def test_resumed_writer_drops_rows_after_the_checkpoint(tmp_path):
    store = RunStore(tmp_path, "s")
    writer = store.metrics_writer("r")
    for step in (10, 20, 30):
        writer.write(step, {"x": float(step)})
    writer.close()
    writer = store.metrics_writer("r", resume_step=20)
    writer.write(30, {"x": 31.0})
    writer.close()
    frame = read_metrics(store.run_dir("r") / "metrics.csv")
    assert list(frame.value) == [10.0, 20.0, 31.0]


def test_writer_frame_is_what_reading_the_file_gives_across_a_resume(tmp_path):
    import pandas as pd

    store = RunStore(tmp_path, "s")
    writer = store.metrics_writer("r")
    for step in (10, 20, 30):
        writer.write(step, {"loss": step / 3, "grad_norm_d/net.0.weight": float("nan"), "x": float("-inf")})
    writer.close()
    writer = store.metrics_writer("r", resume_step=20)
    writer.write(30, {"loss": 1e-310, "new": 0.1 + 0.2})
    writer.flush()
    pd.testing.assert_frame_equal(writer.frame(), read_metrics(store.run_dir("r") / "metrics.csv"))
    writer.close()
    assert len(store.metrics_writer("q").frame()) == 0


def test_corrupt_files_name_the_file(tmp_path):
    (tmp_path / "m.json").write_text("{trunc")
    with pytest.raises(GanbenchError, match="corrupt results file .*m.json"):
        read_json(tmp_path / "m.json")
    (tmp_path / "metrics.csv").write_text("step,name\n1,a\n")
    with pytest.raises(GanbenchError, match="corrupt results file .*metrics.csv"):
        read_metrics(tmp_path / "metrics.csv")


def test_checkpoints_load_with_weights_only(tmp_path):
    import torch

    store = RunStore(tmp_path, "s")
    store.save_checkpoint("r", {"step": 3, "w": torch.ones(2)})
    assert store.load_checkpoint("r")["step"] == 3


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_results_and_report_get_the_umasks_file_mode(umask, tmp_path):
    """Not mkstemp's 0600: a teammate or a web server publishing the report must be able to read them."""
    from ganbench.execution.runner import run_suite
    from ganbench.report.render import write_report
    from ganbench.spec.suite import parse_suite
    from tests.conftest import tiny_suite

    old = os.umask(umask)
    try:
        root = run_suite(parse_suite(tiny_suite()), out=tmp_path).root
        write_report(root)
    finally:
        os.umask(old)
    files = [p for p in root.rglob("*") if p.is_file()]
    assert len(files) > 8 and {p.name for p in files} >= {"metrics.csv", "config.json", "index.html"}
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {oct(0o666 & ~umask)}


def _frames(root):
    from ganbench.results.frames import load_results

    results = load_results(root)
    return results.runs, results.metrics, results.events


def _same(left, right):
    import pandas as pd

    for a, b in zip(left, right):
        pd.testing.assert_frame_equal(a, b)


def test_a_finished_run_writes_a_summary_that_reads_as_its_csv(tmp_path):
    from ganbench.execution.runner import run_suite
    from ganbench.results.store import READ_CACHE, SUMMARY, read_metrics_table
    from ganbench.spec.suite import parse_suite
    from tests.conftest import tiny_suite

    root = run_suite(parse_suite(tiny_suite(seeds=2)), out=tmp_path).root
    summaries = sorted(root.glob(f"runs/*/{SUMMARY}"))
    assert len(summaries) == 2
    for summary in summaries:
        csv = summary.with_name("metrics.csv")
        table = read_metrics_table(csv, summarize=False)
        frame = read_metrics(csv)
        assert table.to_pandas().equals(frame)  # bit for bit, NaN where NaN
    through = _frames(root)
    for summary in [*summaries, root / READ_CACHE]:
        summary.unlink()
    _same(through, _frames(root))  # read from the CSVs alone: the same frames
    assert len(list(root.glob(f"runs/*/{SUMMARY}"))) == 2  # rebuilt by that read: the runs have ended


def test_the_read_cache_gives_what_the_runs_files_give_and_follows_their_changes(tmp_path):
    from ganbench.diagnostics import Event
    from ganbench.results.store import READ_CACHE

    store = RunStore(tmp_path, "s")
    store.prepare("name: s\n")
    for seed in (0, 1):
        run_id = f"r{seed}"
        writer = store.metrics_writer(run_id)
        writer.write(10, {"x": 1.0 + seed, "y": float("nan")})
        writer.write(20, {"x": 2.0})
        writer.close()
        store.write_config(run_id, {"device": "cpu", "metrics": {"x": {"name": "x", "description": "an x"}}})
        store.write_events(run_id, [Event("mode_collapse", 20, {"share": 1.0})] if seed else [])
        store.set_status(run_id, "completed", step=20)
        store.upsert_manifest({"id": run_id, "variant": "v", "dataset": "ring", "seed": seed})
    first = _frames(store.root)  # read from the runs' files; writes the cache
    assert (store.root / READ_CACHE).exists()
    cached = _frames(store.root)
    _same(first, cached)
    (store.root / READ_CACHE).unlink()
    _same(first, _frames(store.root))

    store.append_metrics("r1", [(30, {"x": 3.0})])  # measured later: only this run is read anew
    store.write_events("r0", [Event("divergence", 20, {})])
    _, metrics, events = _frames(store.root)
    assert metrics[metrics.run_id == "r1"].step.max() == 30
    assert list(events.kind) == ["divergence", "mode_collapse"]
    (store.root / READ_CACHE).write_bytes(b"ARROW1 torn")  # a broken cache is no cache
    _same(_frames(store.root), _frames(store.root))
    _, metrics, _ = _frames(store.root)
    assert metrics[metrics.run_id == "r1"].step.max() == 30


def test_a_stale_or_broken_summary_is_rebuilt_from_the_csv(tmp_path):
    from ganbench.results.store import SUMMARY, read_metrics_table, write_summary

    store = RunStore(tmp_path, "s")
    writer = store.metrics_writer("r")
    writer.write(10, {"x": 1.0})
    writer.close()
    csv = store.run_dir("r") / "metrics.csv"
    write_summary(csv, read_metrics(csv))
    store.append_metrics("r", [(20, {"x": 2.0})])  # measured after the run ended: the CSV grew
    assert read_metrics_table(csv, summarize=True).column("step").to_pylist() == [10, 20]
    assert read_metrics_table(csv, summarize=False).column("value").to_pylist() == [1.0, 2.0]  # rebuilt, current
    (csv.with_name(SUMMARY)).write_bytes(b"ARROW1 torn")
    assert read_metrics_table(csv, summarize=True).column("step").to_pylist() == [10, 20]
    csv.write_text("step,name,value\n10,x,1.0\n20,x,")  # the CSV stays the truth: its damage is reported
    with pytest.raises(GanbenchError, match="truncated"):
        read_metrics_table(csv, summarize=True)
