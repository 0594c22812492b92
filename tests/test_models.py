"""The PacGAN / ALI toy networks: maxout discriminator, BatchNorm generator without hidden biases."""

from __future__ import annotations

import torch
from torch import nn

from ganbench.execution.runner import run_suite
from ganbench.models import build_models
from ganbench.models.mlp import Maxout
from ganbench.spec.suite import parse_suite
from tests.conftest import tiny_suite


def test_maxout_is_the_max_over_each_units_pieces():
    layer = Maxout(2, 3, 4)
    x = torch.randn(5, 2)
    pieces = layer.linear(x).view(5, 3, 4)  # unit u owns outputs 4u .. 4u + 3
    assert torch.equal(layer(x), pieces.max(dim=-1).values)


def test_the_published_shapes_and_init():
    g, d = build_models("maxout", {}, (2,), 2, "none")
    hidden = [m for m in g.modules() if isinstance(m, nn.Linear)][:-1]
    assert len(hidden) == 4 and all(m.bias is None and m.out_features == 400 for m in hidden)
    assert sum(isinstance(m, nn.BatchNorm1d) for m in g.modules()) == 4
    assert [m.linear.out_features for m in d.modules() if isinstance(m, Maxout)] == [1000, 1000, 1000]
    weights = torch.cat([m.weight.flatten() for m in d.modules() if isinstance(m, nn.Linear)])
    assert abs(weights.std().item() - 0.02) < 1e-3
    assert g(torch.randn(7, 2)).shape == (7, 2) and d(torch.randn(7, 2)).shape == (7, 1)


def test_maxout_trains_alone_and_in_a_seed_ensemble(tmp_path):
    arch = {"name": "maxout", "g_width": 16, "g_depth": 2, "d_width": 8, "d_depth": 2, "pieces": 3}
    for ensemble in (False, True):
        doc = tiny_suite(architecture=arch, seeds=2)
        doc["train"] = {**doc["train"], "ensemble": ensemble}
        result = run_suite(parse_suite(doc), out=tmp_path / str(ensemble))
        assert {r["status"] for r in result.runs} == {"completed"}
