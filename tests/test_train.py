"""End-to-end runs on tiny suites: layout, bit-identical reruns, skipping, divergence, failures."""

import json

import pandas as pd
import pytest

from ganbench.execution.runner import run_suite
from ganbench.spec.suite import parse_suite
from tests.conftest import TINY_TRAIN, tiny_suite

STEP_METRICS = {"loss_d", "loss_g", "d_real", "d_fake", "d_accuracy", "grad_norm_d", "grad_norm_g",
                "grad_norm_d_input"}
EVAL_METRICS = {"fid", "modes_covered", "mode_coverage", "high_quality", "mode_kl"}


def test_layout_and_metric_names(tmp_path, write_suite, invoke):
    path = write_suite(tiny_suite(variants=["vanilla", "wgan-gp"]))
    result = invoke("run", path, "--out", tmp_path / "res")
    assert result.exit_code == 0, result.output
    root = tmp_path / "res" / "tiny"
    assert (root / "suite.yaml").read_text() == path.read_text()
    manifest = json.loads((root / "manifest.json").read_text())["runs"]
    assert [(r["variant"], r["status"]) for r in manifest] == [("vanilla", "completed"), ("wgan-gp", "completed")]
    for entry in manifest:
        run = root / "runs" / entry["id"]
        config = json.loads((run / "config.json").read_text())
        assert config["spec"]["variant"] == entry["variant"] and config["versions"]["torch"]
        assert config["determinism"]["use_deterministic_algorithms"] is True
        assert config["collectors"]["fid"]["feature_space"] == "coordinates"
        metrics = pd.read_csv(run / "metrics.csv")
        assert set(metrics.name) >= STEP_METRICS | EVAL_METRICS
        assert sorted(p.name for p in (run / "samples").iterdir()) == ["step_20.png", "step_40.png"]
        assert (run / "samples" / "step_40.png").read_bytes()[:4] == b"\x89PNG"
        assert (run / "events.jsonl").exists() and (run / "checkpoint.pt").exists()
        assert json.loads((run / "status.json").read_text())["status"] == "completed"
    assert not list(root.rglob("*.tmp"))


def test_same_suite_twice_is_bit_identical(tmp_path):
    suite = parse_suite(tiny_suite(variants=["nonsaturating", "wgan"], seeds=2))
    a = run_suite(suite, out=tmp_path / "a")
    b = run_suite(suite, out=tmp_path / "b")
    for ra, rb in zip(a.runs, b.runs):
        assert (a.root / "runs" / ra["id"] / "metrics.csv").read_bytes() == (
            b.root / "runs" / rb["id"] / "metrics.csv").read_bytes()


def test_same_seed_gives_same_eval_batch_across_variants_and_seeds_differ(tmp_path):
    from ganbench.training.seeding import make_streams

    a, b, c = make_streams(0), make_streams(0), make_streams(1)
    assert all(int(x.initial_seed()) == int(y.initial_seed()) for x, y in zip(
        (a.data, a.latent, a.eval), (b.data, b.latent, b.eval)))
    assert a.eval.initial_seed() != c.eval.initial_seed() and a.eval.initial_seed() != a.latent.initial_seed()


def test_rerun_skips_finished_runs_and_fresh_starts_over(tmp_path, write_suite, invoke):
    path = write_suite(tiny_suite())
    assert invoke("run", path, "--out", tmp_path).exit_code == 0
    again = invoke("run", path, "--out", tmp_path)
    assert again.exit_code == 0 and "1 already finished" in again.output
    status = next((tmp_path / "tiny" / "runs").iterdir()) / "status.json"
    before = status.stat().st_mtime_ns
    assert invoke("run", path, "--out", tmp_path).exit_code == 0
    assert status.stat().st_mtime_ns == before
    fresh = invoke("run", path, "--out", tmp_path, "--fresh")
    assert fresh.exit_code == 0 and "already finished" not in fresh.output


def test_nonfinite_loss_ends_the_run_as_diverged_and_the_suite_goes_on(tmp_path, write_suite, invoke):
    boom = {"name": "boom", "base": "nonsaturating", "optimizer": "sgd", "d_lr": 1e30, "g_lr": 1e30}
    result = invoke("run", write_suite(tiny_suite(variants=[boom, "lsgan"])), "--out", tmp_path)
    assert result.exit_code == 0, result.output
    runs = {r["variant"]: r for r in json.loads((tmp_path / "tiny" / "manifest.json").read_text())["runs"]}
    assert runs["boom"]["status"] == "diverged" and runs["lsgan"]["status"] == "completed"
    run = tmp_path / "tiny" / "runs" / runs["boom"]["id"]
    status = json.loads((run / "status.json").read_text())
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    assert events[0]["kind"] == "divergence" and events[0]["step"] == status["step"] <= 40


def test_a_loss_past_the_divergence_bound_ends_the_run_there(tmp_path):
    """Finite but exploding (lr 10): the run ends diverged at the step the bound was crossed, as the event says;
    with stop_on_divergence off it trains on, the event still recorded."""
    from ganbench.results import load_results

    boom = {"name": "boom", "base": "nonsaturating", "d_lr": 10.0, "g_lr": 10.0}
    detectors = {"divergence": {"bound": 1.0e3}}
    root = run_suite(parse_suite(tiny_suite(variants=[boom, "lsgan"], detectors=detectors)), out=tmp_path).root
    results = load_results(root)
    runs = results.runs.set_index("variant")
    assert runs.loc["boom", "status"] == "diverged" and runs.loc["lsgan", "status"] == "completed"
    (event,) = results.events[results.events.variant == "boom"].itertuples()
    assert event.kind == "divergence" and event.step == runs.loc["boom", "step"] < TINY_TRAIN["steps"]
    losses = results.metrics[(results.metrics.variant == "boom") & results.metrics.name.isin(["loss_d", "loss_g"])]
    assert losses.step.max() == event.step and losses[losses.step == event.step].value.abs().max() > 1.0e3
    on = parse_suite(tiny_suite(variants=[boom], detectors=detectors,
                                train={**TINY_TRAIN, "stop_on_divergence": False}))
    results = load_results(run_suite(on, out=tmp_path / "on").root)
    assert list(results.runs.status) == ["completed"] and "divergence" in set(results.events.kind)


def test_a_run_that_errors_is_failed_and_exit_code_is_1(tmp_path, write_suite, invoke, monkeypatch):
    import ganbench.training.loop

    real_build = ganbench.training.loop.build_run

    def flaky(spec, device):
        if spec.variant == "lsgan":
            raise RuntimeError("out of memory (simulated)")
        return real_build(spec, device)

    monkeypatch.setattr(ganbench.training.loop, "build_run", flaky)
    result = invoke("run", write_suite(tiny_suite(variants=["lsgan", "hinge"])), "--out", tmp_path)
    assert result.exit_code == 1
    assert "failed" in result.output and "out of memory (simulated)" in result.output
    runs = {r["variant"]: r["status"] for r in json.loads((tmp_path / "tiny" / "manifest.json").read_text())["runs"]}
    assert runs == {"lsgan": "failed", "hinge": "completed"}


def test_no_collectors_still_trains_and_detects_divergence(tmp_path):
    boom = {"name": "boom", "base": "nonsaturating", "optimizer": "sgd", "d_lr": 1e30, "g_lr": 1e30}
    result = run_suite(parse_suite(tiny_suite(collectors=[], variants=["lsgan", boom])), out=tmp_path)
    assert [r["status"] for r in result.runs] == ["completed", "diverged"]


def test_checkpoints_land_on_steps_that_are_not_logging_steps(tmp_path):
    train = {**tiny_suite()["train"], "steps": 30, "log_every": 10, "checkpoint_every": 7}
    result = run_suite(parse_suite(tiny_suite(train=train)), out=tmp_path)
    import torch

    state = torch.load(result.root / "runs" / result.runs[0]["id"] / "checkpoint.pt", weights_only=True)
    assert state["step"] == 28


def test_determinism_flags_are_set_and_reported():
    """apply_determinism sets torch's eager flag itself (without use_deterministic_algorithms' 1.5 s import of
    inductor), so what the run's config reports must be what torch has in force."""
    import torch

    from ganbench.training.seeding import apply_determinism

    before = torch.are_deterministic_algorithms_enabled()
    try:
        for mode in (True, False):
            state = apply_determinism(mode, torch.device("cpu"))
            assert torch.are_deterministic_algorithms_enabled() is mode
            assert state["use_deterministic_algorithms"] is mode and state["cudnn_deterministic"] is mode
    finally:
        apply_determinism(before, torch.device("cpu"))


def test_a_device_this_machine_lacks_is_refused_before_any_run(tmp_path, write_suite, invoke, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = invoke("run", write_suite(tiny_suite(device="cuda")), "--out", tmp_path)
    assert result.exit_code == 2 and "CUDA is not available on this machine" in result.output
    assert not (tmp_path / "tiny" / "runs").exists()


def test_an_unknown_optimizer_is_an_error_not_sgd():
    import torch

    from ganbench.errors import GanbenchError
    from ganbench.training.loop import make_optimizer

    params = [torch.nn.Parameter(torch.zeros(1))]
    assert isinstance(make_optimizer("sgd", params, 0.1, (0.5, 0.999)), torch.optim.SGD)
    with pytest.raises(GanbenchError, match="unknown optimizer 'adamw'"):
        make_optimizer("adamw", params, 0.1, (0.5, 0.999))
