import json

from ganbench.runner import run_suite
from ganbench.suite import parse_suite
from tests.conftest import tiny_suite


def test_processes_give_metrics_identical_to_sequential(tmp_path):
    suite = parse_suite(tiny_suite(variants=["nonsaturating", "lsgan"], seeds=2))
    seq = run_suite(suite, out=tmp_path / "seq")
    par = run_suite(suite, out=tmp_path / "par", workers=2)
    assert [r["status"] for r in par.runs] == ["completed"] * 4
    for a, b in zip(seq.runs, par.runs):
        assert a["id"] == b["id"]
        assert (seq.root / "runs" / a["id"] / "metrics.csv").read_bytes() == (
            par.root / "runs" / b["id"] / "metrics.csv").read_bytes()
    manifest = json.loads((par.root / "manifest.json").read_text())
    assert {r["status"] for r in manifest["runs"]} == {"completed"}
