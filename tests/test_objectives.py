"""Every objective against values computed by hand on known logits."""

import math

import pytest
import torch

from ganbench.errors import GanbenchError
from ganbench.recipes.objectives import OBJECTIVES, make_objective

REAL = torch.tensor([[2.0], [0.0]])
FAKE = torch.tensor([[-1.0], [1.0]])


def sp(x: float) -> float:  # softplus
    return math.log1p(math.exp(x))


def close(t: torch.Tensor, value: float) -> bool:
    return math.isclose(float(t.detach()), value, rel_tol=1e-6, abs_tol=1e-7)


def test_bce_discriminator_loss():
    # -log sigmoid(r) = softplus(-r); -log(1 - sigmoid(f)) = softplus(f)
    expected = (sp(-2.0) + sp(0.0)) / 2 + (sp(-1.0) + sp(1.0)) / 2
    for name in ("minimax", "nonsaturating"):
        assert close(make_objective(name, {}).d_loss(REAL, FAKE), expected)


def test_saturating_vs_nonsaturating_generator_loss():
    # minimax: G minimizes E[log(1 - D(G(z)))] = -E[softplus(f)]; non-saturating: E[-log D(G(z))] = E[softplus(-f)]
    assert close(make_objective("minimax", {}).g_loss(None, FAKE), -(sp(-1.0) + sp(1.0)) / 2)
    assert close(make_objective("nonsaturating", {}).g_loss(None, FAKE), (sp(1.0) + sp(-1.0)) / 2)
    # the point of the non-saturating loss: where D confidently rejects fakes, its gradient does not vanish
    f = torch.tensor([[-8.0]], requires_grad=True)
    (g_sat,) = torch.autograd.grad(make_objective("minimax", {}).g_loss(None, f), f)
    (g_ns,) = torch.autograd.grad(make_objective("nonsaturating", {}).g_loss(None, f), f)
    assert abs(float(g_sat)) < 1e-3 < 0.99 < abs(float(g_ns))


def test_label_smoothing_targets():
    obj = make_objective("nonsaturating", {"real_target": 0.9})
    # BCE with target t on logit x: softplus(x) - t x
    expected = ((sp(2.0) - 0.9 * 2.0) + (sp(0.0) - 0.0)) / 2 + (sp(-1.0) + sp(1.0)) / 2
    assert close(obj.d_loss(REAL, FAKE), expected)
    both = make_objective("minimax", {"real_target": 0.9, "fake_target": 0.1})
    fake_part = ((sp(-1.0) - 0.1 * -1.0) + (sp(1.0) - 0.1 * 1.0)) / 2
    assert close(both.d_loss(REAL, FAKE), expected - (sp(-1.0) + sp(1.0)) / 2 + fake_part)


def test_least_squares_default_coding():
    obj = make_objective("least_squares", {})  # a=0, b=1, c=1
    expected_d = 0.5 * ((2 - 1) ** 2 + (0 - 1) ** 2) / 2 + 0.5 * ((-1 - 0) ** 2 + (1 - 0) ** 2) / 2
    assert close(obj.d_loss(REAL, FAKE), expected_d)
    assert close(obj.g_loss(None, FAKE), 0.5 * ((-1 - 1) ** 2 + (1 - 1) ** 2) / 2)
    assert obj.threshold == 0.5


def test_least_squares_minus_one_one_zero_coding():
    obj = make_objective("least_squares", {"a": -1, "b": 1, "c": 0})
    expected_d = 0.5 * ((2 - 1) ** 2 + (0 - 1) ** 2) / 2 + 0.5 * ((-1 + 1) ** 2 + (1 + 1) ** 2) / 2
    assert close(obj.d_loss(REAL, FAKE), expected_d)
    assert close(obj.g_loss(None, FAKE), 0.5 * ((-1) ** 2 + 1**2) / 2)
    assert obj.threshold == 0.0


def test_least_squares_rejects_equal_labels():
    with pytest.raises(GanbenchError, match="a != b"):
        make_objective("least_squares", {"a": 1, "b": 1})


def test_wasserstein():
    obj = make_objective("wasserstein", {})
    assert close(obj.d_loss(REAL, FAKE), 0.0 - 1.0)  # E[D(fake)] - E[D(real)] = 0 - 1
    assert close(obj.g_loss(None, FAKE), -0.0)


def test_hinge():
    obj = make_objective("hinge", {})
    # relu(1 - [2, 0]) = [0, 1]; relu(1 + [-1, 1]) = [0, 2]
    assert close(obj.d_loss(REAL, FAKE), 0.5 + 1.0)
    assert close(obj.g_loss(None, FAKE), -0.0)


@pytest.mark.parametrize("name", OBJECTIVES.list())
def test_scores_and_thresholds(name):
    obj = make_objective(name, {})
    score = obj.score(REAL)
    if obj.probabilities:
        assert torch.allclose(score, torch.sigmoid(REAL)) and obj.threshold == 0.5
    else:
        assert torch.equal(score, REAL)


def test_relativistic_losses_by_hand():
    # RSGAN pairs the batches: D softplus(-(r - f)) over (2, -1), (0, 1); G softplus(-(f - r))
    rs = make_objective("relativistic", {})
    assert close(rs.d_loss(REAL, FAKE), (sp(-3.0) + sp(1.0)) / 2)
    assert close(rs.g_loss(REAL, FAKE), (sp(3.0) + sp(-1.0)) / 2)
    # RaSGAN against the other side's mean: mean(REAL) = 1, mean(FAKE) = 0
    ra = make_objective("relativistic_average", {})
    d_by_hand = (sp(-2.0) + sp(0.0)) / 2 + (sp(-1.0 - 1.0) + sp(1.0 - 1.0)) / 2
    g_by_hand = (sp(-(-1.0 - 1.0)) + sp(-(1.0 - 1.0))) / 2 + (sp(2.0 - 0.0) + sp(0.0 - 0.0)) / 2
    assert close(ra.d_loss(REAL, FAKE), d_by_hand) and close(ra.g_loss(REAL, FAKE), g_by_hand)
    assert rs.g_needs_real and ra.g_needs_real and not make_objective("hinge", {}).g_needs_real


@pytest.mark.parametrize("name", ["relativistic", "relativistic_average"])
def test_relativistic_losses_per_ensemble_member(name):
    """What the ensemble trainer computes (vmap over members) equals each member's own loss: the batch mean of
    RaSGAN stays within a member."""
    from ganbench.training.ensemble import EnsembleTrainer

    obj = make_objective(name, {})
    real, fake = torch.randn(3, 5, 1), torch.randn(3, 5, 1)
    trainer = EnsembleTrainer.__new__(EnsembleTrainer)  # only its loss methods, no members
    trainer.objective, trainer._d_loss = obj, torch.vmap(obj.d_loss)
    for k in range(3):
        assert torch.allclose(trainer.d_loss(real, fake)[k], obj.d_loss(real[k], fake[k]))
        assert torch.allclose(trainer.g_loss(real, fake)[k], obj.g_loss(real[k], fake[k]))
    hinge = make_objective("hinge", {})  # an objective that needs no D(x) in G's loss: vmap takes None along
    trainer.objective = hinge
    assert torch.allclose(trainer.g_loss(None, fake), torch.stack([hinge.g_loss(None, f) for f in fake]))


def test_dragan_penalty_by_hand():
    from ganbench.recipes.regularizers import make_regularizer

    dragan = make_regularizer("dragan", 10.0)
    real = torch.tensor([[1.0, 0.0], [0.0, 3.0]])  # std over the batch's 4 values
    std = float(real.flatten().std())
    half = lambda *shape: torch.full((2, *shape), 0.5)  # noqa: E731  (alpha = 0.5, U = 0.5)
    # D(x) = ||x||^2 / 2: grad = x_hat = x + 0.5 * (0.5 * std * 0.5) per coordinate
    quadratic = lambda x: (x**2).sum(-1, keepdim=True) / 2  # noqa: E731
    shift = 0.5 * 0.5 * std * 0.5
    by_hand = sum((math.hypot(a + shift, b + shift) - 1) ** 2 for a, b in real.tolist()) / 2 * 10
    assert close(dragan.penalty(quadratic, real, real, half), by_hand)
    # an ensemble of two members gets each member's own penalty (its own std)
    stacked = torch.stack([real, 2 * real])  # (K, B, 2)
    half_k = lambda *shape: torch.full((2, 2, *shape), 0.5)  # noqa: E731
    each = dragan.penalty(quadratic, stacked, stacked, half_k, batch_dims=2)
    assert each.shape == (2,) and close(each[0], by_hand)
    assert close(each[1], dragan.penalty(quadratic, 2 * real, 2 * real, half))
