"""The gate on loops ganbench did not write: the corpus of independently written loops (examples/corpus),
tracked without changing a single step; D outputs read as what they are; both Lightning names; calibrating
the gate on a user's own loop."""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

import ganbench
from ganbench.errors import GanbenchError
from ganbench.results import load_results

sys.path.insert(0, str(Path(__file__).parent.parent / "examples"))

subprocess_run = subprocess.run
LOOPS = ("bce_mlp", "logits_dcgan", "wgan_gp", "hinge_sngan", "lightning_gan", "cgan_mlp")


@pytest.mark.parametrize("name", LOOPS)
def test_a_tracked_loop_trains_exactly_as_the_untracked_one(name, tmp_path):
    """Same seed, same losses at every step (across an evaluation at step 250 for the first loop): the tracker
    draws from its own random streams and puts back D's buffers after its extra D pass."""
    loop = importlib.import_module(f"corpus.{name}")
    steps = {"bce_mlp": 260, "wgan_gp": 30}.get(name, 60)
    bare = loop.train(data="ring", seed=3, steps=steps, g_lr=1e-3, d_lr=1e-3, track=False)
    tracked = loop.train(data="ring", seed=3, steps=steps, g_lr=1e-3, d_lr=1e-3, out=str(tmp_path), track=True)
    assert len(bare) == steps and tracked == bare
    (run,) = load_results(next(tmp_path.iterdir())).runs.itertuples()
    assert run.status == "completed" and run.step == steps


class _SigmoidAtTheEnd(nn.Module):
    def forward(self, x):
        return torch.sigmoid(x)


def _watched(tmp_path, d, **options):
    g = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    return g, ganbench.track(tmp_path, g=g, d=d, data="ring", z_dim=4, eval_samples=200, **options)


def test_a_sigmoid_discriminator_is_read_as_probabilities_and_the_config_says_so(tmp_path):
    d = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1), nn.Sigmoid())
    _, tracker = _watched(tmp_path, d)
    assert tracker.d_outputs == {"read_as": "probabilities", "because": "D's last module is a Sigmoid"}
    for step in range(1, 21):  # a D sure of both: 0.99 on real, 0.01 on fake
        tracker.log(step, loss_d=0.02, loss_g=4.6, real_out=torch.full((8, 1), 0.99),
                    fake_out=torch.full((8, 1), 0.01))
    tracker.close()
    results = load_results(tmp_path / "tracked")
    acc = results.metrics[results.metrics.name == "d_accuracy"].value
    assert (acc == 1.0).all()  # as logits these would all be positive: accuracy 0.5
    assert results.configs[results.runs.run_id[0]]["d_outputs"]["read_as"] == "probabilities"


def test_outputs_that_never_leave_zero_one_are_taken_for_logits_with_a_warning(tmp_path):
    d = nn.Sequential(nn.Linear(2, 1), _SigmoidAtTheEnd())  # a sigmoid the tracker cannot see
    _, tracker = _watched(tmp_path, d)
    with pytest.warns(UserWarning, match="d_outputs='probabilities'"):
        for step in range(1, 250):
            tracker.log(step, loss_d=1.0, loss_g=1.0, real_out=torch.linspace(0.6, 0.9, 8)[:, None],
                        fake_out=torch.linspace(0.1, 0.4, 8)[:, None])
    tracker.close()


def test_logits_that_leave_zero_one_bring_no_warning(tmp_path):
    _, tracker = _watched(tmp_path, nn.Linear(2, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for step in range(1, 250):
            tracker.log(step, loss_d=1.0, loss_g=1.0, real_out=torch.full((8, 1), 0.7 + step / 100),
                        fake_out=torch.full((8, 1), 0.3))
    tracker.close()


def test_the_extra_d_pass_leaves_batchnorm_dropout_and_spectral_norm_as_they_were(tmp_path):
    torch.manual_seed(0)
    d = nn.Sequential(nn.utils.parametrizations.spectral_norm(nn.Linear(2, 16)), nn.BatchNorm1d(16), nn.ReLU(),
                      nn.Dropout(0.3), nn.Linear(16, 1))
    _, tracker = _watched(tmp_path, d)
    before = {k: v.clone() for k, v in d.state_dict().items()}
    rng = torch.get_rng_state()
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    tracker.log(10, loss_d=1.0, loss_g=1.0, real_out=d(real).detach(), fake_out=d(fake).detach(), real=real,
                fake=fake)
    after_own_pass = {k: v.clone() for k, v in d.state_dict().items()}  # the loop's own D calls above
    torch.set_rng_state(rng)
    d.load_state_dict(before)
    d(real), d(fake)  # the same two calls, untracked
    assert all(torch.equal(after_own_pass[k], v) for k, v in d.state_dict().items())
    tracker.close()


def test_one_callback_serves_both_lightning_names():
    import lightning.pytorch
    import pytorch_lightning

    from ganbench.training.lightning import GanbenchCallback

    assert issubclass(GanbenchCallback, lightning.pytorch.Callback)
    assert issubclass(GanbenchCallback, pytorch_lightning.Callback)


LOOP = '''
import torch
from torch import nn
import ganbench


def train(seed, out, suite, lr=2e-3, steps=60):
    torch.manual_seed(seed)
    g = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 2))
    d = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 1))
    opt_g, opt_d = torch.optim.Adam(g.parameters(), lr), torch.optim.Adam(d.parameters(), lr)
    tracker = ganbench.track(out, g=g, d=d, data="ring", z_dim=4, suite=suite, seed=seed, eval_samples=200,
                             eval_every=20, log_every=5)
    for step in range(1, steps + 1):
        real = 2 * torch.randn(32, 2)
        d_real, d_fake = d(real), d(g(torch.randn(32, 4)).detach())
        loss_d = nn.functional.softplus(-d_real).mean() + nn.functional.softplus(d_fake).mean()
        opt_d.zero_grad(); loss_d.backward(); opt_d.step()
        loss_g = nn.functional.softplus(-d(g(torch.randn(32, 4)))).mean()
        opt_g.zero_grad(); loss_g.backward(); opt_g.step()
        tracker.log(step, loss_d=loss_d, loss_g=loss_g, real_out=d_real, fake_out=d_fake)
    tracker.close()
'''


def test_calibrate_measures_the_gate_on_a_users_own_loop(tmp_path, invoke):
    (tmp_path / "my_loop.py").write_text(LOOP)
    result = invoke("calibrate", "--loop", f"{tmp_path}/my_loop.py:train", "--seeds", "2", "--sets", "1",
                    "--set", "steps=40", "--inject", "frozen: lr=x0.0", "--out", tmp_path / "res")
    assert result.exit_code == 0, result.output
    assert "| **whole gate** |" in result.output and "| frozen |" in result.output
    frozen = load_results(tmp_path / "res" / "my_loop-calibrate-frozen")
    assert sorted(frozen.runs.seed) == [2, 3] and (frozen.runs.step == 40).all()
    assert set(load_results(tmp_path / "res" / "my_loop-calibrate").runs.seed) == {0, 1, 2, 3}


def test_calibrate_names_what_is_wrong_with_a_loop(tmp_path, invoke):
    (tmp_path / "my_loop.py").write_text("def train(seed):\n    pass\n")
    result = invoke("calibrate", "--loop", f"{tmp_path}/my_loop.py:train", "--out", tmp_path)
    assert result.exit_code == 2 and "takes no out, suite" in result.output
    scaled = invoke("calibrate", "--loop", f"{tmp_path}/my_loop.py:nope", "--out", tmp_path)
    assert scaled.exit_code == 2 and "has no function nope" in scaled.output


def _tiny_tracked_loop(out, evaluation: str, g: nn.Module | None = None) -> None:
    torch.manual_seed(0)
    g = g or nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    d = nn.Linear(2, 1)
    opt_g, opt_d = torch.optim.Adam(g.parameters(), 1e-2), torch.optim.Adam(d.parameters(), 1e-2)
    tracker = ganbench.track(out, g=g, d=d, data="ring", z_dim=4, eval_samples=200, eval_every=20,
                             evaluation=evaluation)
    for step in range(1, 71):
        d_real, d_fake = d(2 * torch.randn(16, 2)), d(g(torch.randn(16, 4)).detach())
        loss_d = nn.functional.softplus(-d_real).mean() + nn.functional.softplus(d_fake).mean()
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = nn.functional.softplus(-d(g(torch.randn(16, 4)))).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        tracker.log(step, loss_d=loss_d, loss_g=loss_g, real_out=d_real, fake_out=d_fake)
        g.step = step
    tracker.close()


def test_deferred_evaluations_wait_for_the_run_to_end_and_are_measured_once(tmp_path):
    """A reader of a run still training leaves its saved samples alone (the loop is still appending rows); after
    the run ends the first reader measures them, and a measurement killed after writing its rows and before
    removing the samples does not write them twice."""
    g, d = nn.Linear(4, 2), nn.Linear(2, 1)
    tracker = ganbench.track(tmp_path, g=g, d=d, data="ring", z_dim=4, eval_samples=100, eval_every=5,
                             evaluation="deferred")
    out = torch.zeros(8, 1)
    for step in range(1, 11):
        tracker.log(step, loss_d=0.7, loss_g=0.7, real_out=out, fake_out=out)
    assert "fid" not in set(load_results(tmp_path / "tracked").metrics.name)
    saved = tmp_path / "tracked" / "runs" / tracker.run_id / "deferred"
    assert sorted(p.name for p in saved.glob("step_*")) == ["step_10.pt", "step_5.pt"]  # G's weights from the first
    tracker.close()
    kept = {p.name: p.read_bytes() for p in saved.iterdir()}
    first = load_results(tmp_path / "tracked").metrics
    assert sorted(first[first.name == "fid"].step) == [5, 10] and not saved.exists()
    saved.mkdir()  # as a measurement killed before it removed the samples left them
    for name, data in kept.items():
        (saved / name).write_bytes(data)
    again = load_results(tmp_path / "tracked").metrics
    assert again.sort_values(["step", "name"]).reset_index(drop=True).equals(
        first.sort_values(["step", "name"]).reset_index(drop=True)) and not saved.exists()


def test_where_evaluations_are_measured_by_default(tmp_path):
    g, d = nn.Linear(4, 2), nn.Linear(2, 1)

    def evaluation(**options):
        return ganbench.track(tmp_path, g=g, d=d, z_dim=4, eval_samples=50, **options).evaluation

    assert evaluation(data="ring") == "deferred"
    assert evaluation(data=torch.randn(50, 2)) == "in_loop"  # a later reader could not rebuild these samples
    assert evaluation(data="ring", stop_on=("divergence", "mode_collapse")) == "in_loop"
    with pytest.raises(GanbenchError, match="evaluation='deferred' rebuilds the data by its name"):
        evaluation(data=torch.randn(50, 2), evaluation="deferred")
    with pytest.raises(GanbenchError, match="evaluation must be"):
        evaluation(data="ring", evaluation="later")


def test_evaluations_in_the_loop_beside_it_or_deferred_measure_the_same(tmp_path):
    """The tracker measures each evaluation in the loop, on a thread of its own (written at the next one), or
    from G's saved samples when the results are first read: the same values every way, and rows in a fixed
    order (so the same bytes every time)."""
    modes = ("in_loop", "beside", "beside", "deferred", "deferred")
    for i, evaluation in enumerate(modes):
        _tiny_tracked_loop(tmp_path / f"{evaluation}{i}", evaluation)
    saved = next((tmp_path / "deferred3" / "tracked" / "runs").iterdir()) / "deferred"
    # only G's weights: G is a program of torch.nn modules
    assert sorted(p.name for p in saved.glob("step_*")) == ["step_20.pt", "step_40.pt", "step_60.pt", "step_70.pt"]
    assert (saved / "generator.json").exists()
    tidy = {name: load_results(tmp_path / name / "tracked").metrics.sort_values(["step", "name"])
            [["step", "name", "value"]].reset_index(drop=True) for name in ("in_loop0", "beside1", "deferred3")}
    assert not saved.exists()  # measured once, at the first read
    assert tidy["in_loop0"].equals(tidy["beside1"]) and tidy["in_loop0"].equals(tidy["deferred3"])
    assert sorted(tidy["deferred3"][tidy["deferred3"].name == "fid"].step) == [20, 40, 60, 70]
    for pair in (("beside1", "beside2"), ("deferred3", "deferred4")):
        load_results(tmp_path / pair[1] / "tracked")
        files = [next((tmp_path / name / "tracked" / "runs").iterdir()) for name in pair]
        for name in ("metrics.csv", "events.jsonl", "samples/step_70.png"):
            assert (files[0] / name).read_bytes() == (files[1] / name).read_bytes(), name


class _BranchingOnInput(nn.Module):
    """A G whose forward takes a Python branch on its input: torch.fx cannot capture it."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))

    def forward(self, z):
        return self.net(z) if z.numel() else z


class _ScaledByStep(nn.Module):
    """A G whose output scale is a Python number the loop changes: a captured graph holds the first one."""

    def __init__(self) -> None:
        super().__init__()
        self.net, self.step = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2)), 0

    def forward(self, z):
        return self.net(z) * (1 + self.step / 100)


def _tidy_metrics(path):
    metrics = load_results(path / "tracked").metrics
    return metrics.sort_values(["step", "name"])[["step", "name", "value"]].reset_index(drop=True)


def test_a_deferred_generator_that_cannot_be_captured_saves_its_samples(tmp_path):
    for evaluation in ("in_loop", "deferred"):
        torch.manual_seed(5)
        _tiny_tracked_loop(tmp_path / evaluation, evaluation, _BranchingOnInput())
    saved = next((tmp_path / "deferred" / "tracked" / "runs").iterdir()) / "deferred"
    assert sorted(p.name for p in saved.glob("step_*")) == [f"step_{s}.npy" for s in (20, 40, 60, 70)]
    assert _tidy_metrics(tmp_path / "in_loop").equals(_tidy_metrics(tmp_path / "deferred"))


def test_samples_are_regenerated_under_the_loops_arithmetic_in_a_process_of_their_own(tmp_path, monkeypatch):
    """A reader whose arithmetic is not the loop's regenerates G's samples in a child process that has the loop's:
    the same values as measured in the loop."""
    from ganbench.results import deferred

    _tiny_tracked_loop(tmp_path / "in_loop", "in_loop")
    _tiny_tracked_loop(tmp_path / "deferred", "deferred")
    children = []
    monkeypatch.setattr(deferred.arithmetic, "label", lambda: "another-arithmetic")
    monkeypatch.setattr(deferred.subprocess, "run",
                        lambda *a, **k: children.append(k["env"]) or subprocess_run(*a, **k))
    assert _tidy_metrics(tmp_path / "in_loop").equals(_tidy_metrics(tmp_path / "deferred"))
    assert len(children) == 1


def test_an_evaluation_whose_samples_cannot_be_regenerated_is_not_measured_and_says_so(tmp_path, capfd):
    """G's forward reads a number the loop changes after the first evaluation: the probe saved with each later
    evaluation's weights tells the reader that its samples would not be the loop's, so those go unmeasured."""
    _tiny_tracked_loop(tmp_path, "deferred", _ScaledByStep())
    metrics = _tidy_metrics(tmp_path)
    assert sorted(metrics[metrics.name == "fid"].step) == [20]
    err = capfd.readouterr().err
    for step in (40, 60, 70):
        assert f"the evaluation at step {step} of " in err
    assert "track this G with evaluation='in_loop' or 'beside'" in err


@pytest.mark.slow
def test_the_gate_fails_a_conditional_loop_whose_generator_gets_shuffled_labels_and_passes_the_unchanged_one(
        tmp_path, invoke):
    """The corpus's conditional loop (labels embedded and concatenated, BCE) at the 2 seeds `ganbench calibrate`
    says the gate needs (docs/own-loop.md): G handed the batch's labels in another order ignores them."""
    cgan_mlp = importlib.import_module("corpus.cgan_mlp")
    for seed in range(2):
        for labels in ("true", "shuffled"):
            cgan_mlp.train(seed=seed, steps=1250, g_labels=labels, out=str(tmp_path / labels), suite="cgan")
    same = invoke("check", tmp_path / "true" / "cgan")
    assert same.exit_code == 0, same.output
    shuffled = invoke("check", tmp_path / "shuffled" / "cgan")
    assert shuffled.exit_code == 1, shuffled.output
    assert "FAIL  cgan-mlp-ring on ring  events:label_ignored: label_ignored in 2 of 2 seeds" in shuffled.output
