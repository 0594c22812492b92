"""The CI gate, end to end through the CLI on real (small) runs."""

import json
import xml.etree.ElementTree as ET

import pytest
import yaml

from tests.test_scenarios import SCENARIOS


def gate_suite(check: dict | None = None, variants=("overpowered-minimax", "healthy-ns")) -> dict:
    """400 steps: too few for the healthy recipe to reach the ring's modes, so these rules do not require the
    runs to learn (the learning rule has its own tests)."""
    doc = {**SCENARIOS, "name": "gate", "seeds": 2,
           "variants": [v for v in SCENARIOS["variants"] if v["name"] in variants],
           "train": {**SCENARIOS["train"], "steps": 400, "eval_every": 100}}
    doc["check"] = {"require_learning": False, **(check or {})}
    return doc


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("gate")


def run_check(invoke, out, doc, *args):
    path = out / "suite.yaml"
    path.write_text(yaml.safe_dump(doc))
    return invoke("check", path, "--out", out, *args)


def test_collapsing_recipe_fails_with_junit_naming_it(invoke, out):
    junit, summary = out / "junit.xml", out / "summary.md"
    result = run_check(invoke, out, gate_suite(), "--junit", junit, "--summary", summary)
    assert result.exit_code == 1, result.output
    assert "FAIL  overpowered-minimax on ring  events:d_overpowering: d_overpowering in 2 of 2 seeds" in result.output
    assert "PASS  healthy-ns on ring  events:d_overpowering" in result.output
    failures = [case for case in ET.parse(junit).getroot().iter("testcase") if case.find("failure") is not None]
    assert {c.get("classname") for c in failures} == {"ganbench.overpowered-minimax"}
    assert "grad_norm_g_rel" in failures[0].find("failure").get("message")
    assert "❌" in summary.read_text() and "overpowered-minimax" in summary.read_text()


def test_allowed_events_pass(invoke, out):
    # D overpowers G, and G, without gradient, stops moving: both are this recipe's known behaviour
    allowed = ["d_overpowering", "generator_stalled"]
    result = run_check(invoke, out, gate_suite({"allow": {"overpowered-minimax": allowed}}))
    assert result.exit_code == 0, result.output
    assert "allowed for this variant" in result.output


def test_healthy_recipe_passes_and_writes_github_summary(invoke, out, monkeypatch, tmp_path):
    step_summary = tmp_path / "step_summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    result = run_check(invoke, out, gate_suite(variants=("healthy-ns",)))
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output and "✅ no failure" in step_summary.read_text()


def test_threshold_rule_is_seen_not_significant_at_two_seeds_and_strict_fails_it(invoke, out, monkeypatch):
    """Both seeds past the bound, but a sign test at two seeds cannot reach alpha: seen, not significant -- a
    warning (an annotation under GitHub Actions), not a failure; `strict` and `inconclusive: fail` fail it."""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    rules = {"thresholds": {"fid": {"max": 1e-9}}}
    result = run_check(invoke, out, gate_suite(rules, variants=("healthy-ns",)))
    assert result.exit_code == 0, result.output
    assert "SEEN, NOT SIGNIFICANT  healthy-ns on ring  threshold:fid: 2 of 2 seeds outside max 1e-09" in result.output
    assert "1 seen, not significant" in result.output and "undecided verdicts warn" in result.output
    assert "::warning title=ganbench check%3A healthy-ns on ring%3A threshold%3Afid" in result.output
    assert "threshold:fid: fails when >= 2 of 2 seeds are past the bound" not in result.output  # p >= 0.25
    assert "threshold:fid: cannot fail at 2 seeds" in result.output  # what the build could decide, said first
    failing = run_check(invoke, out, gate_suite({**rules, "inconclusive": "fail"}, variants=("healthy-ns",)))
    assert failing.exit_code == 1 and "::error title=" in failing.output
    strict = run_check(invoke, out, gate_suite({**rules, "strict": True}, variants=("healthy-ns",)))
    assert strict.exit_code == 1 and "strict" in strict.output


def test_regression_against_a_better_baseline(invoke, out, tmp_path):
    doc = gate_suite({"regression": {"fid": 0.10}}, variants=("healthy-ns",))
    baseline = tmp_path / "baseline.json"
    assert run_check(invoke, out, doc, "--write-baseline", baseline).exit_code == 0
    saved = json.loads(baseline.read_text())
    fids = saved["metrics"]["healthy-ns"]["ring"]["fid"]
    assert len(fids) == 2 and saved["events"]["healthy-ns"]["ring"]["seeds"] == 2
    assert saved["measured"]["healthy-ns"]["ring"]["steps"] == 400
    # the same results against themselves: no regression
    result = run_check(invoke, out, doc, "--baseline", baseline)
    assert result.exit_code == 0 and "regression:fid" in result.output and "within tolerance" in result.output
    # a baseline whose FID was 10x better: worse, but 2 vs 2 seeds cannot make a one-sided test significant
    saved["metrics"]["healthy-ns"]["ring"]["fid"] = [f / 10 for f in fids]
    baseline.write_text(json.dumps(saved))
    result = run_check(invoke, out, doc, "--baseline", baseline)
    assert result.exit_code == 0 and "SEEN, NOT SIGNIFICANT  healthy-ns on ring  regression:fid" in result.output
    assert "cannot go below 0.167" in result.output
    # a baseline measured over another budget is not compared
    saved["measured"]["healthy-ns"]["ring"]["steps"] = 999
    baseline.write_text(json.dumps(saved))
    result = run_check(invoke, out, doc, "--baseline", baseline)
    assert "NOT COMPARABLE  healthy-ns on ring  baseline: the baseline was measured differently: steps 999 (now 400)" \
        in result.output and "regression:fid" not in result.output
    # a results directory works as a baseline too
    assert run_check(invoke, out, doc, "--baseline", out / "gate").exit_code == 0


@pytest.mark.parametrize("rules, message", [
    ({"fail_on": "mode_collapse"}, "check.fail_on must be a list of event kinds"),
    ({"thresholds": {"fid": {"max": "low"}}}, "check.thresholds.fid.max must be a number"),
    ({"thresholds": {"fdi": {"max": 1}}}, "check.thresholds: unknown metric 'fdi'"),
    ({"regression": {"fid": -0.1}}, "check.regression.fid must be >= 0"),
    ({"allow": {"vanilla": ["collapse"]}}, r"check.allow.vanilla\[0\] must be one of"),
    ({"alpha": 0}, "check.alpha must be > 0"),
    ({"strict": "yes"}, "check.strict must be true or false"),
    ({"regression": {"fid": {"abs": -1}}}, "check.regression.fid.abs must be >= 0"),
    ({"min_seeds": 5}, "unknown key 'min_seeds' at check"),
])
def test_malformed_rules_exit_2(rules, message, invoke, out):
    import re

    result = run_check(invoke, out, gate_suite(rules))
    assert result.exit_code == 2 and re.search(message, result.output) and "Traceback" not in result.output


def test_bad_baseline_exits_2(invoke, out, tmp_path):
    bad = tmp_path / "b.json"
    bad.write_text("{}")
    result = run_check(invoke, out, gate_suite(variants=("healthy-ns",)), "--baseline", bad)
    assert result.exit_code == 2 and "not a ganbench baseline" in result.output


def test_a_missing_baseline_is_reported_before_the_suite_trains(invoke, tmp_path, write_suite):
    """`check SUITE --baseline nope.json` trained the whole suite, then failed; a directory that holds no
    results was called 'a results file'. Both now fail at once, saying how to write a baseline."""
    from tests.conftest import tiny_suite

    suite = write_suite(tiny_suite())
    for baseline, message in ((tmp_path / "nope.json", "no baseline at"),
                              (tmp_path, "is a directory but not a results directory")):
        result = invoke("check", suite, "--baseline", baseline, "--out", tmp_path / "out")
        assert result.exit_code == 2 and message in result.output and "--write-baseline" in result.output
        assert not (tmp_path / "out").exists()  # nothing trained


def test_failed_runs_fail_the_gate(invoke, tmp_path, write_suite):
    from tests.conftest import tiny_suite

    doc = tiny_suite(variants=["nonsaturating"])
    assert invoke("run", write_suite(doc), "--out", tmp_path).exit_code == 0
    status = next((tmp_path / "tiny" / "runs").iterdir()) / "status.json"
    status.write_text(json.dumps({"status": "failed", "step": 3, "error": "CUDA out of memory"}))
    result = invoke("check", tmp_path / "tiny")
    assert result.exit_code == 1 and "FAIL  nonsaturating on ring  runs: 1 of 1 runs did not finish" in result.output
    assert "CUDA out of memory" in result.output


def test_check_takes_a_shipped_suite_by_name_as_run_does(invoke, tmp_path, monkeypatch):
    """`ganbench check papers/dirac` runs the shipped suite and checks it, as `ganbench run papers/dirac` runs it."""
    monkeypatch.chdir(tmp_path)  # no file or folder of that name here
    result = invoke("check", "papers/dirac", "--out", tmp_path / "out", "--workers", "1")
    assert result.exit_code in (0, 1), result.output
    assert (tmp_path / "out" / "dirac" / "manifest.json").exists() and "PASS" in result.output


def test_a_baseline_from_another_cpu_model_is_noted(invoke, out, tmp_path, monkeypatch):
    from ganbench.evidence import baseline as baseline_module

    doc = gate_suite({"regression": {"fid": 0.10}}, variants=("healthy-ns",))
    baseline = tmp_path / "baseline.json"
    monkeypatch.setattr(baseline_module, "cpu_models", lambda results: ["CPU A"])
    assert run_check(invoke, out, doc, "--write-baseline", baseline).exit_code == 0
    assert json.loads(baseline.read_text())["cpus"] == ["CPU A"]
    assert "CPU" not in run_check(invoke, out, doc, "--baseline", baseline).output  # the same model: no note
    monkeypatch.setattr(baseline_module, "cpu_models", lambda results: ["CPU B"])
    result = run_check(invoke, out, doc, "--baseline", baseline)
    assert result.exit_code == 0
    assert "note: the baseline trained on CPU A, these runs on CPU B" in result.output


def test_cpu_models_leave_out_runs_that_named_only_the_architecture():
    from types import SimpleNamespace

    from ganbench.evidence.baseline import cpu_models

    configs = {"a": {"versions": {"cpu": "x86_64", "machine": "x86_64"}}, "b": {},
               "c": {"versions": {"cpu": "Intel(R) Xeon(R) Processor", "machine": "x86_64"}}}
    assert cpu_models(SimpleNamespace(configs=configs)) == ["Intel(R) Xeon(R) Processor"]


def test_an_interrupted_suite_is_told_apart_from_a_failed_one(invoke, tmp_path, write_suite):
    """Runs that were interrupted or never started are 'unfinished', not 'failed': the report says the suite is
    unfinished and how to resume it; the gate fails them as runs that did not finish, and its per-seed rules
    count only the runs that ended (no 'PASS learning: 0 of 2 seeds did not learn' for seeds never trained)."""
    from tests.conftest import tiny_suite

    doc = tiny_suite(variants=["nonsaturating", "hinge"], seeds=2)
    assert invoke("run", write_suite(doc), "--out", tmp_path).exit_code == 0
    runs = {p.name: p for p in (tmp_path / "tiny" / "runs").iterdir()}
    hinge = sorted(name for name in runs if name.startswith("hinge"))
    (runs[hinge[0]] / "status.json").write_text(json.dumps({"status": "interrupted", "step": 2}))
    (runs[hinge[1]] / "status.json").unlink()  # never started: pending
    assert invoke("report", tmp_path / "tiny").exit_code == 0
    report = (tmp_path / "tiny" / "report" / "report.md").read_text()
    assert "This suite is unfinished: 2 of 4 runs did not end (1 interrupted, 1 pending)" in report
    assert "| hinge | unfinished |" in report and "nan%" not in report
    result = invoke("check", tmp_path / "tiny")
    assert "FAIL  hinge on ring  runs: 2 of 2 runs did not finish" in result.output
    assert "INCONCLUSIVE  hinge on ring  seeds: none of the 2 runs finished" in result.output
    assert "hinge on ring  learning" not in result.output and "hinge on ring  events" not in result.output
