"""Your own loop, watched: the tracking API writes what `ganbench run` writes, so report, check and diagnose
read it; the detectors fire on it as on a registry run; TensorBoard gets the same numbers live."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from torch import nn

import ganbench
from ganbench.errors import GanbenchError
from ganbench.execution.runner import run_suite
from ganbench.results import load_results
from ganbench.results.store import RunStore
from ganbench.spec.suite import parse_suite
from tests.conftest import tiny_suite

sys.path.insert(0, str(Path(__file__).parent.parent / "examples"))
import own_loop  # noqa: E402


def _names(metrics: pd.DataFrame) -> set[str]:
    """Metric names, with D's per-parameter gradient norms as one family (parameter names differ by model)."""
    return {"grad_norm_d/*" if n.startswith("grad_norm_d/") else n for n in metrics.name.unique()}


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    out = tmp_path_factory.mktemp("own")
    own_loop.main(["--out", str(out), "--steps", "500", "--seed", "0"])
    return load_results(out / "own-loop")


def test_the_example_writes_the_metrics_a_registry_run_writes(example, tmp_path):
    paper = {"name": "nonsaturating", "d_lr": 2e-4, "g_lr": 2e-4}  # constant rates, as the example's (no lr_d, lr_g)
    registry = load_results(run_suite(parse_suite(tiny_suite(datasets=[{"name": "ring", "std": 0.05}],
                                                             variants=[paper])), out=tmp_path).root)
    assert _names(example.metrics) == _names(registry.metrics)
    (run,) = example.runs.itertuples()
    assert run.status == "completed" and run.step == 500
    config = example.configs[run.run_id]
    assert config["tracked"]["config"]["steps"] == 500 and "torch" in config["versions"]
    assert sorted(example.metrics[example.metrics.name == "fid"].step) == [250, 500]


def test_report_check_and_diagnose_read_it(example, invoke):
    root = example.root
    assert invoke("report", root).exit_code == 0 and (root / "report" / "index.html").exists()
    check = invoke("check", root)
    assert check.exit_code == 0, check.output
    assert "own-gan" in check.output
    assert invoke("diagnose", root).exit_code == 0


def test_a_restarted_script_appends_without_duplicating_rows(tmp_path):
    for _ in range(2):
        own_loop.main(["--out", str(tmp_path), "--steps", "300"])
    (run,) = load_results(tmp_path / "own-loop").runs.itertuples()
    metrics = pd.read_csv(tmp_path / "own-loop" / "runs" / run.run_id / "metrics.csv")
    assert not metrics.duplicated(["step", "name"]).any() and metrics.step.max() == 300


class _Exploding(nn.Module):
    def forward(self, z):
        return z[:, :2]


def test_a_loss_that_explodes_ends_the_run_diverged_and_asks_the_loop_to_stop(tmp_path):
    g, d = nn.Linear(4, 2), nn.Linear(2, 1)
    tracker = ganbench.track(tmp_path, g=g, d=d, data="ring", z_dim=4, log_every=1, eval_every=5)
    out = torch.zeros(8, 1)
    tracker.log(1, loss_d=0.7, loss_g=0.7, real_out=out, fake_out=out)
    tracker.log(2, loss_d=float("nan"), loss_g=0.7, real_out=out, fake_out=out)
    assert tracker.should_stop and tracker.status == "diverged"
    tracker.close()
    (run,) = load_results(tmp_path / "tracked").runs.itertuples()
    assert run.status == "diverged" and run.step == 2
    events = load_results(tmp_path / "tracked").events
    assert list(events.kind) == ["divergence"] and list(events.step) == [2]


def _events(root: Path, run_id: str) -> list[str]:
    return [event["kind"] for event in RunStore(root, "tracked").read_events(run_id)]


@pytest.mark.parametrize("stop_on", [("divergence",), ("d_pinned",)])
def test_a_deferred_run_stops_on_the_events_it_is_told_and_finds_the_rest_when_it_ends(tmp_path, stop_on):
    """Between deferred evaluations only the detectors named in ``stop_on`` run, and the divergence one (the
    run's status reads it); when the run ends every detector runs. Here D's outputs are constant (d_pinned from
    step 1), and G's weights blow up after step 5 while the loss stays bounded (a divergence at step 6)."""
    g, d = nn.Linear(4, 2), nn.Linear(2, 1)
    tracker = ganbench.track(tmp_path, g=g, d=d, data="ring", z_dim=4, eval_samples=50, log_every=1, eval_every=5,
                             evaluation="deferred", stop_on=stop_on)
    out = torch.zeros(8, 1)
    pinned = "d_pinned" in stop_on
    for step in range(1, 11):
        tracker.log(step, loss_d=0.7, loss_g=0.7, real_out=out, fake_out=out)
        if step == 5:
            assert tracker.should_stop == pinned and _events(tmp_path, tracker.run_id) == ["d_pinned"] * pinned
            with torch.no_grad():
                g.weight.fill_(1e3)
    assert tracker.should_stop and _events(tmp_path, tracker.run_id) == ["d_pinned"] * pinned + ["divergence"]
    tracker.close()
    assert set(_events(tmp_path, tracker.run_id)) == {"d_pinned", "divergence"} and tracker.status == "diverged"


def test_a_tracked_loop_stops_on_past_best_naming_its_best_snapshot(tmp_path):
    """``stop_on: past_best``: G's samples match the ring's mean and covariance at step 2 (FID near 0), then
    spread three times too wide; the loop is told to stop at the second worse evaluation, naming step 2."""
    from ganbench.data import make_dataset

    spread = make_dataset("ring", {}).sample(20000, torch.Generator().manual_seed(0)).std(dim=0)
    g, d = nn.Linear(2, 2, bias=False), nn.Linear(2, 1)
    tracker = ganbench.track(tmp_path, g=g, d=d, data="ring", z_dim=2, eval_samples=500, log_every=1, eval_every=1,
                             stop_on=("past_best",))
    out = torch.zeros(8, 1)
    for step, scale in enumerate([0.1, 1.0, 3.0, 3.0, 3.0, 3.0], start=1):
        with torch.no_grad():
            g.weight.copy_(torch.diag(scale * spread))
        tracker.log(step, loss_d=0.7, loss_g=0.7, real_out=out, fake_out=out)
        if tracker.should_stop:
            break
    tracker.close()
    assert step == 4
    (event,) = [e for e in RunStore(tmp_path, "tracked").read_events(tracker.run_id) if e["kind"] == "past_best"]
    assert event["step"] == 3 and event["evidence"]["best_step"] == 2 and event["evidence"]["metric"] == "fid"


def test_an_error_in_the_loop_is_a_failed_run(tmp_path):
    g, d = nn.Linear(4, 2), nn.Linear(2, 1)
    with pytest.raises(RuntimeError), ganbench.track(tmp_path, g=g, d=d, data="ring", z_dim=4) as tracker:
        tracker.log(10, loss_d=0.7, loss_g=0.7, real_out=torch.zeros(8, 1), fake_out=torch.zeros(8, 1))
        raise RuntimeError("out of memory")
    status = json.loads((tmp_path / "tracked" / "runs" / tracker.run_id / "status.json").read_text())
    assert status["status"] == "failed" and "out of memory" in status["error"]


def test_own_samples_with_known_modes(tmp_path):
    """No registered dataset: real samples, their mode centres and std give mode coverage."""
    modes = torch.tensor([[0.0, 0.0], [5.0, 5.0]])
    real = modes[torch.arange(200) % 2] + 0.1 * torch.randn(200, 2)
    g = nn.Linear(3, 2)
    with torch.no_grad():  # G puts everything on the first mode
        g.weight.zero_()
        g.bias.zero_()
    tracker = ganbench.track(tmp_path, g=g, d=nn.Linear(2, 1), data=real, modes=modes, mode_std=0.1, z_dim=3,
                             eval_samples=100)
    values = tracker.evaluate(1)
    tracker.close()
    assert values["modes_covered"] == 1 and values["high_quality"] == 1.0 and values["dominant_mode"] == 0


@pytest.mark.slow
def test_a_loop_whose_generator_stalls_fails_the_gate_and_the_unchanged_one_passes(tmp_path, invoke):
    for seed in range(4):
        own_loop.main(["--out", str(tmp_path / "same"), "--seed", str(seed), "--steps", "1500"])
        own_loop.main(["--out", str(tmp_path / "stalled"), "--seed", str(seed), "--steps", "1500",
                       "--g-lr-scale", "0.001"])
    same = invoke("check", tmp_path / "same" / "own-loop")
    assert same.exit_code == 0, same.output
    stalled = invoke("check", tmp_path / "stalled" / "own-loop")
    assert stalled.exit_code == 1, stalled.output
    assert "FAIL  own-gan on ring  learning: 4 of 4 seeds did not learn" in stalled.output


def test_tensorboard_gets_scalars_images_and_events(tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    doc = tiny_suite(loggers=["tensorboard"])
    result = run_suite(parse_suite(doc), out=tmp_path)
    (run,) = result.runs
    logs = EventAccumulator(str(result.root / "tensorboard" / run["id"])).Reload()
    tags = logs.Tags()
    assert {"loss_d", "loss_g", "fid", "mode_coverage"} <= set(tags["scalars"]) and "samples" in tags["images"]
    steps = [s.step for s in logs.Scalars("loss_d")]
    stored = load_results(result.root).metrics
    assert steps == sorted(stored[stored.name == "loss_d"].step)


def test_unknown_logger_is_a_usage_error(write_suite, invoke):
    result = invoke("run", write_suite(tiny_suite(loggers=["tensorbord"])))
    assert result.exit_code == 2 and "did you mean 'tensorboard'" in result.output


def test_a_lightning_module_with_manual_optimization_is_watched_unchanged(tmp_path):
    pl = pytest.importorskip("pytorch_lightning", reason="the lightning extra is not installed")
    import torch.nn.functional as F

    from ganbench.training.lightning import GanbenchCallback

    class GAN(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.automatic_optimization = False
            self.generator = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
            self.discriminator = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))

        def training_step(self, batch, batch_idx):
            (real,) = batch
            opt_g, opt_d = self.optimizers()
            z = torch.randn(len(real), 4)
            d_real, d_fake = self.discriminator(real), self.discriminator(self.generator(z).detach())
            loss_d = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
            opt_d.zero_grad()
            self.manual_backward(loss_d)
            opt_d.step()
            self.toggle_optimizer(opt_g)
            loss_g = F.softplus(-self.discriminator(self.generator(z))).mean()
            opt_g.zero_grad()
            self.manual_backward(loss_g)
            opt_g.step()
            self.untoggle_optimizer(opt_g)
            return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(), "d_real": d_real.detach(),
                    "d_fake": d_fake.detach()}

        def configure_optimizers(self):
            return (torch.optim.Adam(self.generator.parameters(), 1e-3),
                    torch.optim.Adam(self.discriminator.parameters(), 1e-3))

    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(640, 2)), batch_size=32)
    callback = GanbenchCallback(tmp_path, data="ring", z_dim=4, log_every=5, eval_every=10, variant="lit")
    trainer = pl.Trainer(max_epochs=1, callbacks=[callback], logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(GAN(), data)
    results = load_results(tmp_path / "tracked")
    (run,) = results.runs.itertuples()
    assert run.status == "completed" and run.step == 20 and run.variant == "lit"
    names = set(results.metrics.name)
    assert {"loss_d", "d_accuracy", "grad_norm_d", "grad_norm_g", "fid", "mode_coverage"} <= names


def test_seeds_tracked_at_once_into_one_directory_all_reach_the_manifest(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    def one(seed):
        g, d = nn.Linear(4, 2), nn.Linear(2, 1)
        with ganbench.track(tmp_path, g=g, d=d, data="ring", z_dim=4, seed=seed, eval_samples=50) as tracker:
            tracker.log(10, loss_d=0.7, loss_g=0.7, real_out=torch.zeros(8, 1), fake_out=torch.zeros(8, 1))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(8)))
    runs = load_results(tmp_path / "tracked").runs
    assert sorted(runs.seed) == list(range(8)) and set(runs.status) == {"completed"}


def test_a_tracker_with_evaluation_collectors_only_logs_and_closes(tmp_path):
    """No collector has step values: the step is written empty rather than failing (one code path with the
    trainer, which always handled it)."""
    g, d = nn.Linear(4, 2), nn.Linear(2, 1)
    tracker = ganbench.track(tmp_path, g=g, d=d, data="ring", z_dim=4, collectors=("fid",), eval_samples=100)
    tracker.log(10, loss_d=1.0, loss_g=1.0, real_out=torch.zeros(4, 1), fake_out=torch.zeros(4, 1))
    tracker.close()
    assert tracker.status == "completed"
    assert "fid" in set(load_results(tmp_path / "tracked").metrics.name)


def _tracked(out, data, steps: int, seeds=range(4), **options):
    """A tiny tracked loop (a linear G, never trained) for ``steps`` steps per seed."""
    for seed in seeds:
        g, d = nn.Linear(4, 2), nn.Linear(2, 1)
        with ganbench.track(out, g=g, d=d, data=data, z_dim=4, seed=seed, eval_samples=100, eval_every=10,
                            **options) as tracker:
            for step in range(1, steps + 1):
                tracker.log(step, loss_d=0.7, loss_g=0.7, real_out=torch.randn(8, 1), fake_out=torch.randn(8, 1))
    return out / "tracked"


@pytest.mark.parametrize("change", ["dataset", "steps", "generator"])
def test_a_tracked_baseline_measured_differently_is_not_comparable(tmp_path, invoke, change):
    """A tracked run records how it was measured (data, step budget, networks, evaluation), as a trained run
    does: ``ganbench check`` then refuses to compare it with a baseline measured otherwise."""
    base = _tracked(tmp_path / "base", {"name": "ring", "std": 0.05}, 20)
    assert invoke("check", base, "--baseline", base).exit_code == 0
    now = _tracked(tmp_path / "now", {"name": "ring", "std": 0.1 if change == "dataset" else 0.05},
                   40 if change == "steps" else 20)
    for config_path in (now / "runs").glob("*/config.json") if change == "generator" else ():  # another G
        config = json.loads(config_path.read_text())
        config["measurement"]["architecture"]["g"]["parameters"] += 1
        config_path.write_text(json.dumps(config))
    result = invoke("check", now, "--baseline", base)
    assert "not comparable" in result.output and "the baseline was measured differently" in result.output
    assert {"dataset": "dataset", "steps": "steps 20 (now 40)", "generator": "architecture"}[change] in result.output
    # the same measurement compares
    assert "not comparable" not in invoke("check", base, "--baseline", base).output


def test_a_tracked_run_that_stopped_early_states_no_budget_unless_told(tmp_path):
    out = _tracked(tmp_path, "ring", 20, seeds=[0])
    config = json.loads(next((out / "runs").glob("*/config.json")).read_text())
    assert config["measurement"]["steps"] == 20 and config["measurement"]["eval_samples"] == 100
    assert config["measurement"]["feature_space"] == "coordinates"
    g, d = nn.Linear(4, 2), nn.Linear(2, 1)
    with ganbench.track(tmp_path / "told", g=g, d=d, data="ring", z_dim=4, steps=500) as tracker:
        tracker.log(1, loss_d=float("nan"), loss_g=0.7, real_out=torch.zeros(8, 1), fake_out=torch.zeros(8, 1))
    assert tracker.status == "diverged"
    config = json.loads(next((tmp_path / "told" / "tracked" / "runs").glob("*/config.json")).read_text())
    assert config["measurement"]["steps"] == 500


def _spellings_the_docs_show() -> list[str]:
    """The objective names the own-loop page's keyword table gives (in backticks, in the `objective` row)."""
    import re

    row = next(line for line in (Path(__file__).parent.parent / "docs" / "own-loop.md").read_text().splitlines()
               if line.startswith("| `objective` |"))
    return re.findall(r'`"?([a-z_-]+)"?`', row.split("|")[3])


@pytest.mark.parametrize("name", sorted({*_spellings_the_docs_show(), "lsgan", "wgan-gp", "least_squares"}))
def test_every_objective_spelling_the_docs_show_is_accepted(tmp_path, name):
    """issue #51: objective="lsgan", as the docs spelled it, raised "unknown objective". A variant's name reads D's
    outputs as that variant's objective does."""
    tracker = ganbench.track(tmp_path, g=nn.Linear(4, 2), d=nn.Linear(2, 1), data="ring", z_dim=4, objective=name,
                             eval_samples=50)
    tracker.close()
    assert tracker.status == "completed"


def test_the_docs_name_more_than_one_objective_spelling():
    assert {"nonsaturating", "lsgan", "wasserstein", "hinge"} <= set(_spellings_the_docs_show())


def test_an_unknown_objective_names_both_kinds_of_name(tmp_path):
    with pytest.raises(GanbenchError, match="registered variant's name.*did you mean 'lsgan'"):
        ganbench.track(tmp_path, g=nn.Linear(4, 2), d=nn.Linear(2, 1), data="ring", z_dim=4, objective="lsgn")


class _DCGANStyleG(nn.Module):
    """The most common DCGAN code: G takes (N, nz, 1, 1) latents."""

    def __init__(self, nz=8):
        super().__init__()
        self.net = nn.Sequential(nn.ConvTranspose2d(nz, 2, 1), nn.Flatten())

    def forward(self, z):
        return self.net(z)


@pytest.mark.parametrize("evaluation", ["in_loop", "deferred"])
def test_a_g_taking_latents_of_shape_nz_1_1_is_evaluated(tmp_path, evaluation):
    """issue #51: z_dim gave (N, nz) latents to a G that needs (N, nz, 1, 1), which crashed the first evaluation.
    z_shape draws the same numbers as z_dim, shaped for G."""
    g = _DCGANStyleG()
    with ganbench.track(tmp_path, g=g, d=nn.Linear(2, 1), data="ring", z_shape=(8, 1, 1), eval_samples=100,
                        eval_every=10, evaluation=evaluation) as tracker:
        for step in range(1, 21):
            tracker.log(step, loss_d=0.7, loss_g=0.7, real_out=torch.randn(8, 1), fake_out=torch.randn(8, 1))
    flat = ganbench.track(tmp_path / "flat", g=nn.Linear(8, 2), d=nn.Linear(2, 1), data="ring", z_dim=8,
                          eval_samples=100)
    assert torch.equal(tracker.eval_z.flatten(1), flat.eval_z) and tracker.eval_z.shape == (100, 8, 1, 1)
    flat.close()
    results = load_results(tmp_path / "tracked")
    assert set(results.runs.status) == {"completed"}
    assert set(results.metrics[results.metrics.name == "fid"].step) == {10, 20}


def test_z_shape_and_z_dim_must_agree(tmp_path):
    with pytest.raises(GanbenchError, match=r"z_shape \(8, 1, 1\) holds 8 numbers, z_dim says 16"):
        ganbench.track(tmp_path, g=_DCGANStyleG(), d=nn.Linear(2, 1), data="ring", z_dim=16, z_shape=(8, 1, 1))


@pytest.mark.parametrize("where", ["log", "close"])
def test_an_exception_inside_the_tracker_ends_the_run_failed_with_its_cause(tmp_path, where):
    """issue #51: a G that cannot take the latents raised at the first evaluation and left the run `running`
    forever. Outside any `with` too, the run now ends `failed` with the cause, and the error reaches the loop."""
    tracker = ganbench.track(tmp_path, g=_DCGANStyleG(), d=nn.Linear(2, 1), data="ring", z_dim=8, eval_samples=50,
                             eval_every=10 if where == "log" else 1000)
    with pytest.raises(RuntimeError):
        for step in range(1, 11):
            tracker.log(step, loss_d=0.7, loss_g=0.7, real_out=torch.randn(8, 1), fake_out=torch.randn(8, 1))
        tracker.close()
    status = RunStore(tmp_path, "tracked").status(tracker.run_id)
    assert tracker.status == "failed" and status["status"] == "failed"
    assert "RuntimeError" in status["error"] and status["step"] == 10
    assert [r["status"] for r in RunStore(tmp_path, "tracked").read_manifest()] == ["failed"]
    tracker.log(11, loss_d=0.7, loss_g=0.7, real_out=torch.randn(8, 1), fake_out=torch.randn(8, 1))  # ignored now


@pytest.mark.parametrize("objective", ["lsgan", "wasserstein", "hinge"])
def test_an_objective_without_probabilities_reads_raw_scores_and_says_so(tmp_path, objective, recwarn):
    """issue #51: a least-squares run's config said read_as "logits" while its collectors read raw scores. A
    D ending in a Sigmoid changes nothing there, and scores in [0, 1] raise no 'pass probabilities' warning."""
    d = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    with ganbench.track(tmp_path, g=nn.Linear(4, 2), d=d, data="ring", z_dim=4, objective=objective,
                        eval_samples=50, log_every=1) as tracker:
        for step in range(1, 50):
            tracker.log(step, loss_d=0.7, loss_g=0.7, real_out=torch.rand(8, 1), fake_out=torch.rand(8, 1))
    config = RunStore(tmp_path, "tracked").read_object(tracker.run_id, "config")
    assert config["d_outputs"]["read_as"] == "scores" and objective in config["d_outputs"]["because"]
    assert not [w for w in recwarn if "d_outputs" in str(w.message)]
    with pytest.raises(GanbenchError, match="needs a BCE-type objective"):
        ganbench.track(tmp_path, g=nn.Linear(4, 2), d=d, data="ring", z_dim=4, objective=objective,
                       d_outputs="probabilities")


def test_the_first_read_says_how_far_it_got_per_run(tmp_path, capsys):
    """issue #51: the first read of tracked runs measured for minutes with one line at the start. Now each run's
    measurement prints a line: how many evaluations, from what, in how long."""
    root = _tracked(tmp_path, "ring", 20, seeds=range(2), evaluation="deferred")
    capsys.readouterr()
    load_results(root)
    err = capsys.readouterr().err
    assert "measuring the deferred evaluations of 2 tracked run(s)" in err
    lines = [line for line in err.splitlines() if line.startswith("ganbench: [")]
    assert len(lines) == 2 and lines[0].startswith("ganbench: [1/2] ") and lines[1].startswith("ganbench: [2/2] ")
    assert all("2 evaluation(s) from G's weights in " in line for line in lines)


class _IgnoresItsLatent(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(4, 2)

    def forward(self, z):
        return self.net(torch.zeros_like(z))


@pytest.mark.parametrize("evaluation", ["in_loop", "deferred"])
def test_a_tracked_generator_that_ignores_its_latent_is_collapsed_to_one_point(tmp_path, evaluation):
    """issue #44, in a tracked loop: one sample for every latent fires mode_collapse at the first evaluation,
    named 'to one point', and the run's state is collapsed (and, never on a mode, not learned either)."""
    from ganbench.evidence.states import COLLAPSED, not_learned, run_states

    for seed in range(2):
        with ganbench.track(tmp_path, g=_IgnoresItsLatent(), d=nn.Linear(2, 1), data="ring", z_dim=4, seed=seed,
                            eval_samples=200, eval_every=10, evaluation=evaluation) as tracker:
            for step in range(1, 41):
                tracker.log(step, loss_d=0.7, loss_g=0.7, real_out=torch.randn(8, 1), fake_out=torch.randn(8, 1))
    results = load_results(tmp_path / "tracked")
    events = results.events[results.events.kind == "mode_collapse"]
    assert sorted(events.seed) == [0, 1] and set(events.step) == {10}
    assert {e["collapse"] for e in events.evidence} == {"to one point"}
    assert set(run_states(results)) == {COLLAPSED} and not_learned(results) == set(results.runs.run_id)
