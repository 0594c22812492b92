"""Every objective against values computed by hand on known logits."""

import math

import pytest
import torch

from ganbench.errors import GanbenchError
from ganbench.objectives import OBJECTIVES, make_objective

REAL = torch.tensor([[2.0], [0.0]])
FAKE = torch.tensor([[-1.0], [1.0]])


def sp(x: float) -> float:  # softplus
    return math.log1p(math.exp(x))


def close(t: torch.Tensor, value: float) -> bool:
    return math.isclose(float(t), value, rel_tol=1e-6, abs_tol=1e-7)


def test_bce_discriminator_loss():
    # -log sigmoid(r) = softplus(-r); -log(1 - sigmoid(f)) = softplus(f)
    expected = (sp(-2.0) + sp(0.0)) / 2 + (sp(-1.0) + sp(1.0)) / 2
    for name in ("minimax", "nonsaturating"):
        assert close(make_objective(name, {}).d_loss(REAL, FAKE), expected)


def test_saturating_vs_nonsaturating_generator_loss():
    # minimax: G minimizes E[log(1 - D(G(z)))] = -E[softplus(f)]; non-saturating: E[-log D(G(z))] = E[softplus(-f)]
    assert close(make_objective("minimax", {}).g_loss(FAKE), -(sp(-1.0) + sp(1.0)) / 2)
    assert close(make_objective("nonsaturating", {}).g_loss(FAKE), (sp(1.0) + sp(-1.0)) / 2)
    # the point of the non-saturating loss: where D confidently rejects fakes, its gradient does not vanish
    f = torch.tensor([[-8.0]], requires_grad=True)
    (g_sat,) = torch.autograd.grad(make_objective("minimax", {}).g_loss(f), f)
    (g_ns,) = torch.autograd.grad(make_objective("nonsaturating", {}).g_loss(f), f)
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
    assert close(obj.g_loss(FAKE), 0.5 * ((-1 - 1) ** 2 + (1 - 1) ** 2) / 2)
    assert obj.threshold == 0.5


def test_least_squares_minus_one_one_zero_coding():
    obj = make_objective("least_squares", {"a": -1, "b": 1, "c": 0})
    expected_d = 0.5 * ((2 - 1) ** 2 + (0 - 1) ** 2) / 2 + 0.5 * ((-1 + 1) ** 2 + (1 + 1) ** 2) / 2
    assert close(obj.d_loss(REAL, FAKE), expected_d)
    assert close(obj.g_loss(FAKE), 0.5 * ((-1) ** 2 + 1**2) / 2)
    assert obj.threshold == 0.0


def test_least_squares_rejects_equal_labels():
    with pytest.raises(GanbenchError, match="a != b"):
        make_objective("least_squares", {"a": 1, "b": 1})


def test_wasserstein():
    obj = make_objective("wasserstein", {})
    assert close(obj.d_loss(REAL, FAKE), 0.0 - 1.0)  # E[D(fake)] - E[D(real)] = 0 - 1
    assert close(obj.g_loss(FAKE), -0.0)


def test_hinge():
    obj = make_objective("hinge", {})
    # relu(1 - [2, 0]) = [0, 1]; relu(1 + [-1, 1]) = [0, 2]
    assert close(obj.d_loss(REAL, FAKE), 0.5 + 1.0)
    assert close(obj.g_loss(FAKE), -0.0)


@pytest.mark.parametrize("name", OBJECTIVES.list())
def test_scores_and_thresholds(name):
    obj = make_objective(name, {})
    score = obj.score(REAL)
    if obj.probabilities:
        assert torch.allclose(score, torch.sigmoid(REAL)) and obj.threshold == 0.5
    else:
        assert torch.equal(score, REAL)
