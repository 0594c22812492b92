"""The classic mode-collapse remedies, each against its definition: PacGAN's packed D (Lin et al. 2018), the
minibatch standard deviation feature (Karras et al. 2018), feature matching (Salimans et al. 2016), unrolled D
(Metz et al. 2017)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganbench.models import MinibatchStd, Packed, build_models
from ganbench.spec.suite import parse_suite
from ganbench.training.loop import SingleTrainer, build_run
from tests.conftest import TINY_TRAIN, resumed_identically, tiny_suite

PAC3 = {"name": "pac3", "base": "nonsaturating", "pack": 3}
MBSTD = {"name": "mbstd", "base": "nonsaturating", "minibatch_std": 4}
FM = {"name": "fm", "base": "nonsaturating", "feature_matching": True}
UNROLL = {"name": "unrolled", "base": "nonsaturating", "unroll": 3}


class Spy(nn.Module):
    """A D that records every input it judges and scores each by its mean."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.detach().clone())
        return self.scale * x.flatten(1).mean(dim=1, keepdim=True)


@pytest.mark.parametrize("axis", [{"pack": 1}, {"unroll": 0}, {"minibatch_std": False},
                                  {"feature_matching": False}])
def test_each_remedy_off_is_todays_run(axis):
    """Off, each remedy leaves the run id, the networks and a training step exactly as they were."""
    plain, off = (parse_suite(tiny_suite(variants=[v])).expand()[0] for v in
                  ("nonsaturating", {"name": "nonsaturating", "base": "nonsaturating", **axis}))
    assert plain.run_id == off.run_id  # left out of the id at its default: the same run, the same bytes
    runs = [build_run(spec, torch.device("cpu")) for spec in (plain, off)]
    assert not isinstance(runs[1].d, Packed) and runs[1].draws == TINY_TRAIN["batch_size"]
    states = [{**r.g.state_dict(), **{f"d.{k}": t for k, t in r.d.state_dict().items()}} for r in runs]
    assert states[0].keys() == states[1].keys() and all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    steps = [SingleTrainer([r]).step(log=True, input_grad=True) for r in runs]
    assert torch.equal(steps[0].loss_d, steps[1].loss_d) and torch.equal(steps[0].loss_g, steps[1].loss_g)


def test_a_packed_d_judges_consecutive_samples_side_by_side():
    spy = Spy()
    x = torch.arange(6 * 2 * 4 * 4, dtype=torch.float32).reshape(6, 2, 4, 4)  # six 2-channel images
    out = Packed(spy, 3)(x)
    (seen,) = spy.seen
    assert out.shape == (2, 1) and seen.shape == (2, 6, 4, 4)  # two packs of three, channels side by side
    assert torch.equal(seen[1, 2:4], x[4]) and torch.equal(seen[0, :2], x[0])
    with pytest.raises(Exception, match="packs of 3 samples; got a batch of 4"):
        Packed(spy, 3)(x[:4])


def test_a_packed_d_never_mixes_real_and_generated_samples_in_one_pack():
    """G emits 100 everywhere, the ring's reals lie within 2.1 of the origin: every pack D is shown in a step is
    all one or all the other, B packs of m samples each."""
    spec = parse_suite(tiny_suite(variants=[PAC3])).expand()[0]
    run = build_run(spec, torch.device("cpu"))
    assert isinstance(run.d, Packed) and run.d.d.net[0].in_features == 6 and run.draws == 3 * 32
    spy = Spy()
    run.d = Packed(spy, 3)
    with torch.no_grad():
        for p in run.g.parameters():
            p.zero_()
        run.g.net[-1].bias.fill_(100.0)
    SingleTrainer([run]).step(log=True, input_grad=True)
    assert len(spy.seen) >= 3  # D on reals, on fakes, and in G's step
    kinds = set()
    for packs in spy.seen:
        assert packs.shape == (32, 6)
        generated = packs == 100.0
        assert (generated.all(dim=1) | (packs.abs() < 50).all(dim=1)).all()
        kinds.add(bool(generated.any()))
    assert kinds == {True, False}


@pytest.mark.parametrize("ensemble", [False, True])
def test_packed_runs_resume_identically(tmp_path, ensemble):
    suite = parse_suite(tiny_suite(variants=[PAC3, {**PAC3, "name": "pac3-gp", "base": "wgan-gp"}, MBSTD, FM, UNROLL],
                                   seeds=2,
                                   train={**TINY_TRAIN, "ensemble": ensemble}))
    resumed_identically(suite, tmp_path)


def test_a_gradient_penalty_on_a_packed_d_takes_the_norm_over_each_pack():
    """D(pack) = w . pack: its input gradient is w for every pack, so WGAN-GP's (||grad|| - 1)^2 is (||w|| - 1)^2,
    with ||w|| over all m x 2 coordinates -- not the per-sample norms of w's halves."""
    from ganbench.recipes.regularizers import make_regularizer

    linear = nn.Linear(6, 1, bias=False)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[1.0, 2.0, 0.0, 2.0, 0.0, 0.0]]))  # ||w|| = 3
    real, fake = torch.randn(12, 2), torch.randn(12, 2)
    gp = make_regularizer("gradient_penalty", 1.0).penalty(Packed(linear, 3), real, fake, lambda: torch.rand(12))
    assert float(gp.detach()) == pytest.approx((3.0 - 1.0) ** 2)


def test_the_minibatch_std_feature_is_its_formula():
    """Groups of 4 over a batch of 8: samples i and i + 2, i + 4, i + 6 form group i mod 2; each feature's
    population std over its group, averaged over the features, is appended to every sample of the group."""
    x = torch.randn(8, 5)
    out = MinibatchStd(4)(x)
    assert out.shape == (8, 6) and torch.equal(out[:, :5], x)
    for i in range(8):
        group = x[i % 2::2]
        expected = ((group - group.mean(0)).pow(2).mean(0) + 1e-8).sqrt().mean()
        assert float(out[i, 5]) == pytest.approx(float(expected), rel=1e-6)
    same = MinibatchStd(4)(torch.ones(8, 5))
    assert torch.allclose(same[:, 5], torch.full((8,), 1e-4))  # no variety: sqrt(eps)


@pytest.mark.parametrize("arch, shape", [({"name": "mlp", "width": 16, "depth": 2}, (2,)),
                                         ({"name": "dcgan", "width": 8}, (1, 16, 16)),
                                         ({"name": "resnet", "width": 8}, (1, 16, 16)),
                                         ({"name": "maxout", "d_width": 8, "g_width": 8}, (2,))])
def test_minibatch_std_widens_the_head_of_each_discriminator_by_one_input(arch, shape):
    name, params = arch["name"], {k: v for k, v in arch.items() if k != "name"}
    torch.manual_seed(0)
    g, plain = build_models(name, params, shape, 4, "d")
    torch.manual_seed(0)
    same_g, d = build_models(name, params, shape, 4, "d", minibatch_std=4)
    assert all(torch.equal(a, b) for a, b in zip(g.state_dict().values(), same_g.state_dict().values()))
    (feature,) = [m for m in d.modules() if isinstance(m, MinibatchStd)]
    seen = []
    feature.register_forward_hook(lambda m, i, o: seen.append((i[0], o)))
    assert d(torch.randn(8, *shape)).shape == (8, 1)
    features, widened = seen[0]
    assert widened.shape == (8, features.shape[1] + 1) and torch.equal(widened, MinibatchStd(4)(features))
    heads = [m for m in plain.modules() if isinstance(m, nn.Linear)]
    assert features.shape[1] == heads[-1].in_features  # the head's own input: D's final features


@pytest.mark.parametrize("extra", [{}, {"minibatch_std": 4}])
def test_feature_matching_is_its_formula_on_a_fixed_batch(extra):
    """G's loss is ||mean f(real) - mean f(G(z))||^2 with f everything of the MLP D but its head: the features the
    head takes (with the minibatch std feature, f still stops before it)."""
    spec = parse_suite(tiny_suite(variants=[{**FM, **extra}])).expand()[0]
    run = build_run(spec, torch.device("cpu"))
    z = torch.randn(32, 4, generator=torch.Generator().manual_seed(5))
    before = run.streams.state()
    loss = SingleTrainer([run]).feature_matching(z)
    run.streams.load_state(before)
    features = run.d.net[:-1]
    expected = (features(run.real_batch()).mean(0) - features(run.g(z)).mean(0)).pow(2).sum()
    assert float(loss.detach()) == pytest.approx(float(expected.detach()), rel=1e-6)
    assert run.d(torch.zeros(8, 2)).shape == (8, 1)  # untapped, D is D


def _adam(p, g, m, v, step, lr, b1, b2, eps=1e-8):
    m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
    return p - lr * (m / (1 - b1**step)) / (torch.sqrt(v / (1 - b2**step)) + eps), m, v


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_the_unrolled_g_gradient_is_a_hand_written_unroll(optimizer):
    """D(x) = w.x + b, the non-saturating loss, k = 3 updates by D's optimizer (from its state after one real D
    step) on one batch, written out by hand; G's gradient through them matches ganbench's to 1e-6."""
    import torch.nn.functional as F

    variant = {**UNROLL, "optimizer": optimizer}
    spec = parse_suite(tiny_suite(variants=[variant], architecture={"name": "mlp", "width": 4, "depth": 0})
                       ).expand()[0]
    run = build_run(spec, torch.device("cpu"))
    trainer = SingleTrainer([run])
    trainer.d_step(False)  # D's optimizer now has a state to start the unroll from
    z, before = run.latents(), run.streams.state()
    run.d.requires_grad_(False)
    trainer.unrolled_g_loss(z, 3).backward()
    got = [p.grad.clone() for p in run.g.parameters()]

    run.streams.load_state(before)
    real = run.real_batch()
    for p in run.g.parameters():
        p.grad = None
    fake = run.g(z)
    linear = run.d.net[0]
    w, b = linear.weight.detach().requires_grad_(True), linear.bias.detach().requires_grad_(True)
    group = trainer.opt_d.param_groups[0]
    state = [trainer.opt_d.state[linear.weight], trainer.opt_d.state[linear.bias]]
    moments = [(s.get("exp_avg"), s.get("exp_avg_sq")) for s in state]
    step = float(state[0]["step"]) if optimizer == "adam" else 0
    for _ in range(3):
        loss = F.softplus(-(real @ w.T + b)).mean() + F.softplus(fake @ w.T + b).mean()
        gw, gb = torch.autograd.grad(loss, (w, b), create_graph=True)
        if optimizer == "sgd":
            w, b = w - group["lr"] * gw, b - group["lr"] * gb
            continue
        step += 1
        (w, mw, vw), (b, mb, vb) = (_adam(p, g, m, v, step, group["lr"], *group["betas"])
                                    for p, g, (m, v) in zip((w, b), (gw, gb), moments))
        moments = [(mw, vw), (mb, vb)]
    F.softplus(-(fake @ w.T + b)).mean().backward()
    want = [p.grad for p in run.g.parameters()]
    assert all(torch.allclose(a, e, rtol=1e-6, atol=1e-7) for a, e in zip(got, want))
    plain = torch.autograd.grad(F.softplus(-run.d(run.g(z))).mean(), next(run.g.parameters()))[0]
    assert not torch.allclose(got[0], plain)  # the unroll changed G's gradient


def test_unroll_0_is_the_plain_run_and_it_does_not_move_d():
    plain, zero = (parse_suite(tiny_suite(variants=[v])).expand()[0].run_id
                   for v in ("nonsaturating", {**UNROLL, "name": "nonsaturating", "unroll": 0}))
    assert plain == zero
    run = build_run(parse_suite(tiny_suite(variants=[UNROLL])).expand()[0], torch.device("cpu"))
    trainer = SingleTrainer([run])
    trainer.d_step(False)
    d = {k: t.clone() for k, t in run.d.state_dict().items()}
    trainer.g_step()
    assert all(torch.equal(d[k], t) for k, t in run.d.state_dict().items())
