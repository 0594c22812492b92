"""Seed ensembles: members train like the separate runs with their seeds, each with its own outputs."""

from __future__ import annotations

import json

import pytest
import torch

from ganbench.execution.jobs import ProgressReporter, jobs_of
from ganbench.execution.runner import run_suite
from ganbench.results import load_results
from ganbench.results.store import read_metrics
from ganbench.spec.suite import parse_suite
from ganbench.training.loop import _first_diverged
from tests.conftest import TINY_TRAIN, tiny_suite

ENSEMBLE = {**TINY_TRAIN, "ensemble": True}
DIGITS = {"datasets": [{"name": "digits", "size": 16}], "architecture": {"name": "dcgan", "width": 8},
          "train": {**TINY_TRAIN, "steps": 20, "eval_every": 10, "checkpoint_every": 10, "z_dim": 8}}


def _metrics(root, run_id):
    frame = read_metrics(root / "runs" / run_id / "metrics.csv")
    return frame.pivot(index="step", columns="name", values="value")


@pytest.mark.parametrize("variant, extra", [
    ("nonsaturating", {}),  # Adam
    ("wgan", {}),  # RMSprop, weight clipping after each D step, n_critic 5
    ("wgan-gp", {}),  # gradient penalty: a double backward through the stacked critic
    ("sngan", {}),  # spectral norm: power-iteration vectors stacked and updated in place
    ("lsgan", DIGITS),  # DCGAN: BatchNorm running statistics stacked, used at evaluation
    ("rsgan", {}),  # relativistic: G's loss reads D on a real batch drawn from each member's stream
    ("ragan", {}),  # relativistic average: batch means taken within each member
    ("dragan", {}),  # DRAGAN: perturbations drawn per coordinate, batch std per member
    # today's recipe axes
    ("r3gan", {}),  # relativistic pairing with R1 + R2: two penalties' double backwards, summed
    ({"name": "ema", "base": "nonsaturating", "g_ema": 0.9, "g_ema_start": 5}, {}),  # evaluated on each member's EMA
    ({"name": "cos", "base": "nonsaturating", "lr_schedule": "cosine"}, {}),  # a learning rate per step
    ({"name": "lecam", "base": "nonsaturating", "regularizer": "lecam", "regularizer_weight": 0.1}, {}),  # anchors
    ({"name": "da", "base": "nonsaturating", "augment": ["color", "translation", "cutout"]}, DIGITS),  # DiffAugment
    ({"name": "ada", "base": "nonsaturating", "augment": ["translation"], "ada_target": 0.6}, DIGITS),  # p per member
    ({"name": "bcr", "base": "nonsaturating", "regularizer": "bcr"}, DIGITS),  # consistency on flipped, shifted
    ({"name": "pac3-gp", "base": "wgan-gp", "pack": 3}, {}),  # PacGAN: packs of 3, the penalty per pack
    ({"name": "pac2", "base": "nonsaturating", "pack": 2}, DIGITS),  # packs of 2 images, channels side by side
    ({"name": "mbstd", "base": "nonsaturating", "minibatch_std": 4}, DIGITS),  # the spread within each member
    ({"name": "fm", "base": "nonsaturating", "feature_matching": True}, DIGITS),  # features read through the stack
    ({"name": "unrolled", "base": "sngan", "unroll": 2, "d_lr": 1.15e-3, "g_lr": 4.09e-3,
      "lr_schedule": "linear", "lr_decay_start": 0.5}, {}),  # D's stacked Adam state and SN vectors, unrolled
])
def test_members_follow_their_separately_trained_runs(tmp_path, variant, extra):
    """Same init, data, latents and math as the separate run with each seed; only kernel rounding differs
    (batched vs unbatched matmuls), so the first logged losses agree to float32 precision and the curves
    stay close over a short run."""
    doc = tiny_suite(variants=[variant], seeds=3, **extra)
    separate = run_suite(parse_suite(doc), out=tmp_path / "separate")
    doc["train"] = {**doc["train"], "ensemble": True}
    together = run_suite(parse_suite(doc), out=tmp_path / "ensemble")
    assert [r["status"] for r in together.runs] == ["completed"] * 3
    assert [r["seed"] for r in together.runs] == [r["seed"] for r in separate.runs]
    for a, b in zip(separate.runs, together.runs):
        alone, member = _metrics(separate.root, a["id"]), _metrics(together.root, b["id"])
        assert list(alone.columns) == list(member.columns) and list(alone.index) == list(member.index)
        first = alone.index[0]
        assert member.loc[first, "loss_d"] == pytest.approx(alone.loc[first, "loss_d"], rel=1e-5, abs=1e-6)
        assert member.loc[first, "loss_g"] == pytest.approx(alone.loc[first, "loss_g"], rel=1e-5, abs=1e-6)
        last = alone.index[-1]
        for name in ("loss_d", "loss_g", "fid"):
            assert member.loc[last, name] == pytest.approx(alone.loc[last, name], rel=0.05, abs=1e-3), name
    # distinct seeds really are distinct members
    losses = [_metrics(together.root, r["id"]).loc[:, "loss_d"].iloc[0] for r in together.runs]
    assert len(set(losses)) == 3


def test_an_ensemble_is_one_job_per_variant_and_dataset():
    doc = tiny_suite(variants=["nonsaturating", "lsgan"], datasets=["ring", "grid"], seeds=3, train=ENSEMBLE)
    jobs = jobs_of(parse_suite(doc).expand())
    assert len(jobs) == 4 and all(len(job) == 3 for job in jobs)
    assert all(len({(s.variant, s.dataset.name) for s in job}) == 1 for job in jobs)
    assert all(sorted(s.seed for s in job) == [0, 1, 2] for job in jobs)
    assert len(jobs_of(parse_suite(tiny_suite(seeds=3)).expand())) == 3  # without ensemble: one job per run


def test_ensemble_members_are_ordinary_runs_downstream(tmp_path):
    doc = tiny_suite(variants=["nonsaturating", "hinge"], seeds=2, train=ENSEMBLE)
    result = run_suite(parse_suite(doc), out=tmp_path)
    ids = [r["id"] for r in result.runs]
    for run in result.runs:
        config = json.loads((result.root / "runs" / run["id"] / "config.json").read_text())
        assert config["spec"]["train"]["ensemble"] is True and config["ensemble"]["size"] == 2
        assert run["id"] in config["ensemble"]["members"] and set(config["ensemble"]["members"]) <= set(ids)
        assert (result.root / "runs" / run["id"] / "samples" / "step_40.png").exists()
    results = load_results(result.root)
    assert sorted(results.runs.run_id) == sorted(ids) and set(results.runs.status) == {"completed"}
    # a rerun skips the finished members
    again = run_suite(parse_suite(doc), out=tmp_path)
    assert [r["status"] for r in again.runs] == ["completed"] * 4


class _StopAt(ProgressReporter):
    """Interrupts the suite right after one member reports a step (its checkpoint is written by then)."""

    def __init__(self, step: int, seed: int) -> None:
        self.at = (step, seed)

    def step(self, spec, step, steps):
        if (step, spec.seed) == self.at:
            raise KeyboardInterrupt


@pytest.mark.parametrize("stop_seed, resumed_from", [(2, 20), (0, 0)])
def test_an_interrupted_ensemble_resumes_to_the_same_numbers(tmp_path, stop_seed, resumed_from):
    """Stopped after every member checkpointed step 20, it resumes there; stopped between two members'
    checkpoints (seed 0 has step 20, seeds 1-2 do not), the lockstep ensemble restarts from step 0. Either way
    the files end byte-identical to an uninterrupted ensemble."""
    suite = parse_suite(tiny_suite(seeds=3, train=ENSEMBLE))
    whole = run_suite(suite, out=tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):
        run_suite(suite, out=tmp_path / "cut", reporter=_StopAt(20, stop_seed))
    resumed = run_suite(suite, out=tmp_path / "cut")
    for a, b in zip(whole.runs, resumed.runs):
        status = json.loads((resumed.root / "runs" / b["id"] / "status.json").read_text())
        assert status["status"] == "completed" and status["resumed_from"] == resumed_from
        assert (whole.root / "runs" / a["id"] / "metrics.csv").read_bytes() == (
            resumed.root / "runs" / b["id"] / "metrics.csv").read_bytes()


def test_member_checkpoints_load_as_single_runs(tmp_path):
    """A member's checkpoint has the single-run layout: its optimizer state is its own slice."""
    doc = tiny_suite(seeds=2, train={**ENSEMBLE, "steps": 30})
    result = run_suite(parse_suite(doc), out=tmp_path)
    state = torch.load(result.root / "runs" / result.runs[1]["id"] / "checkpoint.pt", weights_only=True)
    assert state["step"] == 20 and set(state) == {"step", "g", "d", "opt_g", "opt_d", "rng"}
    weight = state["d"]["net.0.weight"]
    assert weight.shape == (16, 2)  # one member's, not the stack's (2, 16, 2)
    assert state["opt_d"]["state"][0]["exp_avg"].shape == weight.shape


def test_a_diverging_ensemble_records_each_member_diverged(tmp_path):
    boom = {"name": "boom", "base": "nonsaturating", "optimizer": "sgd", "d_lr": 1e30, "g_lr": 1e30}
    result = run_suite(parse_suite(tiny_suite(variants=[boom, "lsgan"], seeds=2, train=ENSEMBLE)), out=tmp_path)
    statuses = {(r["variant"], r["seed"]): r["status"] for r in result.runs}
    assert statuses == {("boom", 0): "diverged", ("boom", 1): "diverged", ("lsgan", 0): "completed",
                        ("lsgan", 1): "completed"}


def test_nonfinite_losses_are_found_per_member():
    window = torch.zeros(5, 3, 2)  # (steps, members, [loss_d, loss_g])
    window[3, 1, 0] = float("nan")
    window[4, 1, 1] = float("inf")
    window[1, 2, 1] = float("-inf")
    found = _first_diverged(window, first_step=11)
    assert found[0] is None and found[1][0] == 14 and found[2][0] == 12


def test_ensemble_must_be_true_or_false(write_suite, invoke):
    result = invoke("run", write_suite(tiny_suite(train={**TINY_TRAIN, "ensemble": "yes"})), "--out", "x")
    assert result.exit_code == 2 and "train.ensemble must be true or false" in result.output


def test_processes_train_ensembles_to_the_same_numbers_as_sequential(tmp_path):
    suite = parse_suite(tiny_suite(variants=["nonsaturating", "lsgan"], seeds=2, train=ENSEMBLE))
    seq = run_suite(suite, out=tmp_path / "seq")
    par = run_suite(suite, out=tmp_path / "par", workers=2)
    assert [r["status"] for r in par.runs] == ["completed"] * 4
    for a, b in zip(seq.runs, par.runs):
        assert (seq.root / "runs" / a["id"] / "metrics.csv").read_bytes() == (
            par.root / "runs" / b["id"] / "metrics.csv").read_bytes()


@pytest.mark.parametrize("name", ["gradient_penalty", "r1", "dragan"])
def test_a_stacked_penalty_is_each_members_own_penalty(name):
    """One double backward through the stacked critic gives every member the penalty it gets alone."""
    from ganbench.models import build_models
    from ganbench.recipes.regularizers import make_regularizer
    from ganbench.training.ensemble import Stacked

    torch.manual_seed(0)
    critics = [build_models("mlp", {"width": 16, "depth": 2}, (2,), 4, "d")[1] for _ in range(3)]
    alone = [build_models("mlp", {"width": 16, "depth": 2}, (2,), 4, "d")[1] for _ in range(3)]
    for a, c in zip(alone, critics):
        a.load_state_dict(c.state_dict())
    stacked = Stacked(critics)
    real, fake = torch.randn(3, 8, 2), torch.randn(3, 8, 2)
    draws = {(): torch.rand(3, 8), (2,): torch.rand(3, 8, 2)}  # uniform(*shape) -> (K, B, *shape)
    penalty = make_regularizer(name, None)
    together = penalty.penalty(stacked, real, fake, lambda *shape: draws[shape], batch_dims=2)
    assert together.shape == (3,)
    for k in range(3):
        own = penalty.penalty(alone[k], real[k], fake[k], lambda *shape, k=k: draws[shape][k])
        assert torch.allclose(together[k], own, rtol=1e-5), k


def test_an_architecture_vmap_cannot_batch_fails_its_runs_with_a_hint(tmp_path, monkeypatch):
    from torch import nn

    from ganbench.models import ARCHITECTURES
    from ganbench.models.mlp import mlp

    class ReadsAScalar(nn.Module):  # .item() in forward: fine alone, impossible under vmap
        def __init__(self, d: nn.Module) -> None:
            super().__init__()
            self.d = d

        def forward(self, x):
            return self.d(x) * (1.0 if x.abs().max().item() >= 0 else 0.0)

    ARCHITECTURES.load_builtins()
    monkeypatch.setattr(ARCHITECTURES, "_items", dict(ARCHITECTURES._items))

    @ARCHITECTURES.register("scalar_reader")
    def scalar_reader(sample_shape, z_dim, **params):
        g, d = mlp(sample_shape, z_dim, **params)
        return g, ReadsAScalar(d)

    arch = {"name": "scalar_reader", "width": 8, "depth": 1}
    alone = run_suite(parse_suite(tiny_suite(architecture=arch, seeds=2)), out=tmp_path)
    assert [r["status"] for r in alone.runs] == ["completed"] * 2
    together = run_suite(parse_suite(tiny_suite(architecture=arch, seeds=2, train=ENSEMBLE)), out=tmp_path)
    assert [r["status"] for r in together.runs] == ["failed"] * 2
    status = json.loads((together.root / "runs" / together.runs[0]["id"] / "status.json").read_text())
    assert "item" in status["error"] and "ensemble: false" in status["error"]
