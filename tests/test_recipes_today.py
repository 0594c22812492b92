"""Today's recipe axes, each against a known answer: learning-rate schedules by their formula (through a
resume), the generator EMA by its closed form, R2 on a linear D by its closed form, several penalties at once as
their sum."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from ganbench.errors import GanbenchError
from ganbench.execution.runner import run_suite
from ganbench.recipes.regularizers import make_regularizer
from ganbench.recipes.schedules import lr_factor, weight_factor
from ganbench.spec.suite import parse_suite
from ganbench.training.ema import GeneratorEMA
from tests.conftest import TINY_TRAIN, resumed_identically, tiny_suite


def test_schedules_follow_their_formulas():
    steps = 10
    assert [lr_factor("constant", t, steps) for t in (1, 5, 10)] == [1.0, 1.0, 1.0]
    assert [lr_factor("linear", t, steps) for t in (1, 2, 10)] == pytest.approx([1.0, 0.9, 0.1])
    assert lr_factor("cosine", 6, steps) == pytest.approx(0.5 * (1 + math.cos(math.pi * 5 / 10)))  # = 0.5
    # decay from half-way: 1 until step 5, then linear over the last 5
    assert [lr_factor("linear", t, steps, start=0.5) for t in (5, 6, 7, 10)] == pytest.approx([1.0, 1.0, 0.8, 0.2])


@pytest.mark.parametrize("ensemble", [False, True])
def test_the_learning_rate_at_each_step_is_the_schedules_through_a_resume(tmp_path, ensemble):
    variant = {"name": "decayed", "base": "nonsaturating", "lr_schedule": "linear", "d_lr": 1e-3, "g_lr": 2e-3}
    suite = parse_suite(tiny_suite(variants=[variant], seeds=2 if ensemble else 1,
                                   train={**TINY_TRAIN, "ensemble": ensemble}))
    whole = resumed_identically(suite, tmp_path)
    for a in whole.runs:
        rows = (whole.root / "runs" / a["id"] / "metrics.csv").read_text().splitlines()
        lr_g = {int(r.split(",")[0]): float(r.split(",")[2]) for r in rows if ",lr_g," in r}
        assert lr_g[5] == pytest.approx(2e-3 * lr_factor("linear", 5, 40)) and lr_g[40] == pytest.approx(2e-3 / 40)
        config = json.loads((whole.root / "runs" / a["id"] / "config.json").read_text())
        assert config["spec"]["recipe"]["lr_schedule"] == "linear"


def test_the_ema_after_n_steps_is_the_closed_form_average():
    g = nn.Sequential(nn.Linear(1, 1, bias=False), nn.BatchNorm1d(1))
    ema = GeneratorEMA(g, decay=0.9, start=2)
    values = [0.0, 1.0, 2.0, 4.0, 8.0, 16.0]  # G's weight after steps 1..6
    for step, w in enumerate(values, 1):
        with torch.no_grad():
            g[0].weight.fill_(w)
            g[1].running_mean.fill_(w)
        ema.update(g, step)
    # a copy through step 2 (start), then theta_n = 0.9 theta_{n-1} + 0.1 w_n
    expected = values[1]
    for w in values[2:]:
        expected = 0.9 * expected + 0.1 * w
    assert float(ema.module[0].weight) == pytest.approx(expected)
    assert float(ema.module[1].running_mean) == 16.0  # buffers copied, not averaged
    assert not any(p.requires_grad for p in ema.module.parameters())


def test_a_ramped_up_ema_forgets_fast_early_as_stylegan2_ada_does():
    g = nn.Linear(1, 1, bias=False)
    ema = GeneratorEMA(g, decay=0.99, rampup=0.5)
    # half-life at most 0.5 x (t - 1) steps: decay_t = 0.5 ** (1 / (0.5 (t - 1))), capped at 0.99
    assert [ema.decay_at(t) for t in (1, 2, 3)] == pytest.approx([0.0, 0.25, 0.5])
    assert ema.decay_at(1000) == 0.99
    expected = 0.0
    for step, w in enumerate([3.0, 5.0, 7.0], 1):
        with torch.no_grad():
            g.weight.fill_(w)
        ema.update(g, step)
        expected = ema.decay_at(step) * expected + (1 - ema.decay_at(step)) * w
    assert float(ema.module.weight) == pytest.approx(expected)  # 3 -> 0.25 * 3 + 0.75 * 5 -> 0.5 * 4.5 + 0.5 * 7
    assert expected == pytest.approx(5.75)
    with pytest.raises(GanbenchError, match="g_ema_rampup .* give g_ema"):
        parse_suite(tiny_suite(variants=[{"name": "x", "base": "nonsaturating", "g_ema_rampup": 0.05}]))


@pytest.mark.parametrize("ensemble", [False, True])
def test_evaluation_measures_the_ema_and_a_resume_restores_it(tmp_path, ensemble):
    variant = {"name": "averaged", "base": "nonsaturating", "g_ema": 0.9, "g_ema_start": 5, "g_ema_rampup": 0.5}
    suite = parse_suite(tiny_suite(variants=[variant, "nonsaturating"], seeds=2 if ensemble else 1,
                                   train={**TINY_TRAIN, "ensemble": ensemble}))
    whole = resumed_identically(suite, tmp_path)
    by_variant = {r["variant"]: r["id"] for r in whole.runs if r["seed"] == 0}
    config = json.loads((whole.root / "runs" / by_variant["averaged"] / "config.json").read_text())
    assert config["evaluated_g"].startswith("EMA of G (decay 0.9")
    state = torch.load(whole.root / "runs" / by_variant["averaged"] / "checkpoint.pt", weights_only=True)
    assert set(state["g_ema"]) == set(state["g"])

    def final(variant):
        rows = (whole.root / "runs" / by_variant[variant] / "metrics.csv").read_text().splitlines()
        return [r for r in rows if r.startswith("40,sliced_wasserstein,")]
    # the same seed, the same training: only what evaluation measured differs
    assert final("averaged") != final("nonsaturating")
    losses = [[r for r in (whole.root / "runs" / by_variant[v] / "metrics.csv").read_text().splitlines()
               if ",loss_g," in r] for v in ("averaged", "nonsaturating")]
    assert losses[0] == losses[1]


def test_a_tracked_loop_that_keeps_its_own_ema_is_evaluated_on_it(tmp_path):
    import ganbench
    from ganbench import arithmetic
    from ganbench.results import load_results

    g, ema, d = nn.Linear(4, 2), nn.Linear(4, 2), nn.Linear(2, 1)
    with torch.no_grad():
        ema.weight.zero_()
        ema.bias.zero_()  # draws the origin only: no spread at all
    with ganbench.track(tmp_path, g=g, g_ema=ema, d=d, data="ring", z_dim=4, eval_samples=100) as tracker:
        tracker.log(10, loss_d=0.7, loss_g=0.7, real_out=torch.zeros(8, 1), fake_out=torch.zeros(8, 1))
    results = load_results(tmp_path / "tracked")
    spread = results.metrics[results.metrics.name == "sample_spread"].value
    assert list(spread) == [0.0]
    config = results.configs[results.runs.run_id[0]]
    assert config["evaluated_g"] == "the loop's EMA of G"
    assert config["arithmetic"]["label"] == arithmetic.label()  # the loop's own arithmetic, recorded


def test_r2_on_a_linear_d_is_its_closed_form():
    d = nn.Linear(3, 1)
    with torch.no_grad():
        d.weight.copy_(torch.tensor([[1.0, -2.0, 2.0]]))
    real, fake = torch.randn(8, 3), torch.randn(8, 3)
    r2 = make_regularizer(["r2"], [4.0])
    # grad_x D = w everywhere: gamma / 2 * ||w||^2 = 2 * 9, on the generated samples
    assert float(r2.penalty(d, real, fake, None).detach()) == pytest.approx(18.0)
    both = make_regularizer(["r1", "r2"], [2.0, 4.0])
    assert float(both.penalty(d, real, fake, None).detach()) == pytest.approx(9.0 + 18.0)
    # a seed ensemble's batch dims: one value per member
    assert both.penalty(d, real.expand(2, 8, 3), fake.expand(2, 8, 3), None, batch_dims=2).shape == (2,)


def test_several_regularizers_compose_in_a_suite_and_one_keeps_todays_run_ids():
    one = parse_suite(tiny_suite(variants=[{"name": "r1", "base": "nonsaturating", "regularizer": "r1",
                                            "regularizer_weight": 1.0}]))
    as_list = parse_suite(tiny_suite(variants=[{"name": "r1", "base": "nonsaturating", "regularizer": ["r1"],
                                                "regularizer_weight": [1.0]}]))
    assert one.expand()[0].run_id == as_list.expand()[0].run_id
    both = parse_suite(tiny_suite(variants=[{"name": "r12", "base": "nonsaturating", "regularizer": ["r1", "r2"],
                                             "regularizer_weight": [1.0, 2.0]}]))
    assert both.variants[0][1].penalties() == (("r1", 1.0), ("r2", 2.0))
    with pytest.raises(GanbenchError, match="regularizer_weight"):
        parse_suite(tiny_suite(variants=[{"name": "x", "base": "nonsaturating", "regularizer": ["r1", "r2"],
                                          "regularizer_weight": [1.0]}]))
    r3gan = parse_suite(tiny_suite(variants=["r3gan"])).variants[0][1]
    assert r3gan.objective == "relativistic" and [name for name, _ in r3gan.penalties()] == ["r1", "r2"]


def test_a_decayed_penalty_weight_follows_its_schedule_through_a_resume(tmp_path):
    """R3GAN decays gamma along a cosine to a tenth: the logged factor is the formula's at every logged step, and a
    resumed run sets the same."""
    assert weight_factor("cosine", 1, 10, 0.1) == 1.0
    assert weight_factor("cosine", 6, 10, 0.1) == pytest.approx(0.1 + 0.9 * 0.5)
    assert weight_factor("linear", 10, 10, 0.1) == pytest.approx(0.1 + 0.9 * 0.1)
    suite = parse_suite(tiny_suite(variants=["r3gan"], seeds=2, train={**TINY_TRAIN, "ensemble": True}))
    whole = resumed_identically(suite, tmp_path)
    rows = (whole.root / "runs" / whole.runs[0]["id"] / "metrics.csv").read_text().splitlines()
    scale = {int(r.split(",")[0]): float(r.split(",")[2]) for r in rows if ",penalty_scale," in r}
    assert scale and all(value == pytest.approx(weight_factor("cosine", t, 40, 0.1)) for t, value in scale.items())
    with pytest.raises(GanbenchError, match="regularizer_schedule decays penalty weights"):
        parse_suite(tiny_suite(variants=[{"name": "w", "base": "wgan", "regularizer_schedule": "linear"}]))


def test_lecam_anchors_and_penalty_match_a_hand_computation():
    lecam = make_regularizer("lecam", 0.5)
    real, fake = torch.tensor([[1.0], [3.0]]), torch.tensor([[0.0], [-2.0]])
    # first step: the anchors start at the means (real 2, fake -1); D(x) is pulled to -1, D(G(z)) to 2
    assert float(lecam.output_penalty(real, fake)) == pytest.approx(0.5 * ((4 + 16) / 2 + (4 + 16) / 2))
    real, fake = torch.tensor([[2.0], [2.0]]), torch.tensor([[1.0], [1.0]])
    # then moving averages with decay 0.99: real 2, fake 0.99 * -1 + 0.01 * 1 = -0.98
    assert float(lecam.output_penalty(real, fake)) == pytest.approx(0.5 * ((2 + 0.98) ** 2 + (1 - 2) ** 2))
    assert {k: round(float(t), 6) for k, t in lecam.state().items()} == {"real": 2.0, "fake": -0.98}
    # an ensemble keeps one pair of anchors per member
    members = make_regularizer(["lecam"], [1.0])
    out = members.output_penalty(torch.randn(3, 8, 1), torch.randn(3, 8, 1), batch_dims=2)
    assert out.shape == (3,) and members.state()["0.real"].shape == (3,)


@pytest.mark.parametrize("ensemble", [False, True])
def test_a_resumed_lecam_run_restores_its_anchors(tmp_path, ensemble):
    variant = {"name": "lecam", "base": "nonsaturating", "regularizer": "lecam", "regularizer_weight": 0.3}
    suite = parse_suite(tiny_suite(variants=[variant], seeds=2 if ensemble else 1,
                                   train={**TINY_TRAIN, "ensemble": ensemble}))
    whole = resumed_identically(suite, tmp_path)
    for a in whole.runs:
        state = torch.load(whole.root / "runs" / a["id"] / "checkpoint.pt", weights_only=True)
        assert state["regularizer"]["real"].shape == ()


def _scripted(*values: float):
    """A uniform(*shape) that returns the given numbers, one per call, for every sample."""
    it = iter(values)

    def uniform(*shape):
        return torch.full((2, *shape), next(it))
    return uniform


def test_diffaugment_ops_do_what_the_policy_says():
    from ganbench.recipes.augment import augment

    x = torch.arange(2 * 1 * 8 * 8, dtype=torch.float).view(2, 1, 8, 8) / 128
    # brightness 0, saturation x1, contrast x1: colour with every draw at its midpoint is the identity
    assert torch.allclose(augment(x, ("color",), 1.0, _scripted(0.5, 0.5, 0.5)), x)
    # translation by +1 row (span 1 of 8: offsets in {-1, 0, 1}, u = 0.9 -> +1) and -1 column (u = 0 -> -1)
    moved = augment(x, ("translation",), 1.0, _scripted(0.9, 0.0))
    assert torch.equal(moved[:, :, 1:, :-1], x[:, :, :-1, 1:]) and moved[:, :, 0].abs().sum() == 0
    # cutout: a 4 x 4 square of zeros, centred where the draws put it (here the corner)
    cut = augment(x + 1, ("cutout",), 1.0, _scripted(0.0, 0.0))
    assert int((cut == 0).sum()) == 2 * 2 * 2 and torch.equal(cut[:, :, 2:, 2:], x[:, :, 2:, 2:] + 1)
    # differentiable: G's gradient flows through every op
    y = x.clone().requires_grad_(True)
    augment(y, ("color", "translation", "cutout"), 1.0, lambda *s: torch.rand(2, *s)).sum().backward()
    assert y.grad is not None and y.grad.abs().sum() > 0
    # an empty policy or p = 0 is x itself, and draws nothing
    assert augment(x, (), 1.0, None) is x and augment(x, ("color",), 0.0, None) is x


def test_ada_p_follows_its_update_rule_on_a_scripted_stream():
    from ganbench.recipes.augment import AdaptiveP

    ada = AdaptiveP(target=0.6, batch_size=100, interval=2, speed_kimg=1.0)  # step 100 * 2 / 1000 = 0.2
    sure, unsure = torch.ones(100, 1), torch.tensor([[1.0]] * 50 + [[-1.0]] * 50)  # r_t 1 and 0
    history = []
    for outputs in [sure, sure, sure, sure, unsure, unsure, sure, unsure]:
        ada.observe(outputs)
        history.append(round(float(ada.p), 6))
    # every second step: r_t = 1 > 0.6: +0.2; r_t = 0: -0.2; r_t = 0.5 < 0.6: -0.2 (never below 0)
    assert history == [0.0, 0.2, 0.2, 0.4, 0.4, 0.2, 0.2, 0.0]


def test_augmentation_with_p_zero_is_bit_identical_to_none(tmp_path):
    train = {**TINY_TRAIN, "steps": 10, "eval_every": 10, "log_every": 5, "checkpoint_every": 10, "batch_size": 8,
             "eval_samples": 64}
    arch = {"name": "dcgan", "width": 8}
    variants = ["nonsaturating", {"name": "p0", "base": "nonsaturating", "augment": ["color", "translation",
                                                                                   "cutout"], "augment_p": 0.0},
                {"name": "diffaug", "base": "nonsaturating", "augment": "color,translation,cutout"}]
    result = run_suite(parse_suite(tiny_suite(datasets=[{"name": "digits", "size": 16}], architecture=arch,
                                              variants=variants, train=train)), out=tmp_path)
    files = {r["variant"]: (result.root / "runs" / r["id"] / "metrics.csv").read_bytes() for r in result.runs}
    assert files["p0"] == files["nonsaturating"] and files["diffaug"] != files["nonsaturating"]
    with pytest.raises(GanbenchError, match="augment .* works on images"):
        parse_suite(tiny_suite(variants=[{"name": "a", "base": "nonsaturating", "augment": ["color"]}]))


def test_ada_in_an_ensemble_logs_p_and_resumes_identically(tmp_path):
    train = {**TINY_TRAIN, "steps": 40, "batch_size": 8, "eval_samples": 64, "ensemble": True}
    variant = {"name": "ada", "base": "nonsaturating", "augment": ["translation"], "ada_target": 0.6}
    suite = parse_suite(tiny_suite(datasets=[{"name": "digits", "size": 16}], architecture={"name": "dcgan",
                                   "width": 8}, variants=[variant], seeds=2, train=train))
    whole = resumed_identically(suite, tmp_path)
    for a in whole.runs:
        assert ",augment_p," in (whole.root / "runs" / a["id"] / "metrics.csv").read_text()


class _MeanD(nn.Module):
    def forward(self, x):
        return x.flatten(1).mean(dim=1, keepdim=True)


def test_balanced_consistency_matches_a_hand_computation():
    bcr = make_regularizer("bcr", 10.0)
    ones = torch.ones(2, 1, 8, 8)
    draws = iter([0.7, 0.9, 0.5] * 2)  # no flip; translation +1 row, 0 columns; for real, then for fake

    def uniform(*shape):
        return torch.full((2, *shape), next(draws))
    # one of 8 rows shifted out and zero-filled: D(T(x)) = 56 / 64, so each gap is (1 - 0.875)^2
    assert float(bcr.penalty(_MeanD(), ones, ones, uniform).detach()) == pytest.approx(10 * 2 * 0.125 ** 2)
    with pytest.raises(GanbenchError, match="bcr regularizer works on images"):
        parse_suite(tiny_suite(variants=[{"name": "c", "base": "nonsaturating", "regularizer": "bcr"}]))


def test_consistency_regularization_trains_on_images_in_an_ensemble(tmp_path):
    train = {**TINY_TRAIN, "steps": 10, "eval_every": 10, "checkpoint_every": 10, "batch_size": 8,
             "eval_samples": 64, "ensemble": True}
    variant = {"name": "bcr", "base": "nonsaturating", "regularizer": ["bcr", "lecam"],
               "regularizer_weight": [10.0, 0.1]}
    result = run_suite(parse_suite(tiny_suite(datasets=[{"name": "digits", "size": 16}], seeds=2, train=train,
                                              architecture={"name": "dcgan", "width": 8}, variants=[variant])),
                       out=tmp_path)
    assert {r["status"] for r in result.runs} == {"completed"}


@pytest.mark.parametrize("variant, images", [
    ("r3gan", False),  # R1 + R2: stateless, but two double backwards per D step
    ({"name": "da", "base": "nonsaturating", "augment": ["color", "translation", "cutout"]}, True),
    ({"name": "bcr", "base": "nonsaturating", "regularizer": "bcr"}, True),  # draws its own flips and shifts
])
def test_the_other_axes_resume_identically_in_an_ensemble(tmp_path, variant, images):
    train = {**TINY_TRAIN, "steps": 40, "batch_size": 8, "eval_samples": 64, "ensemble": True}
    extra = {"datasets": [{"name": "digits", "size": 16}], "architecture": {"name": "dcgan", "width": 8}} if images \
        else {}
    resumed_identically(parse_suite(tiny_suite(variants=[variant], seeds=2, train=train, **extra)), tmp_path)
