"""The PacGAN / ALI toy networks (maxout discriminator, BatchNorm generator without hidden biases), and the
DCGAN's D sized apart from G."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganbench.errors import GanbenchError
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


def test_dcgan_d_width_sizes_d_alone_and_the_default_builds_todays_networks():
    torch.manual_seed(0)
    g, d = build_models("dcgan", {"width": 8}, (1, 16, 16), 4, "none")
    torch.manual_seed(0)
    same_g, same_d = build_models("dcgan", {"width": 8, "d_width": 8}, (1, 16, 16), 4, "none")
    assert all(torch.equal(a, b) for a, b in zip([*g.state_dict().values(), *d.state_dict().values()],
                                                 [*same_g.state_dict().values(), *same_d.state_dict().values()]))
    small_g, small_d = build_models("dcgan", {"width": 8, "d_width": 2}, (1, 16, 16), 4, "none")
    assert small_d.net[0].out_channels == 2 and small_g.state_dict().keys() == g.state_dict().keys()
    assert small_d(torch.zeros(3, 1, 16, 16)).shape == (3, 1)
    with pytest.raises(GanbenchError, match="dcgan d_width must be a positive integer, got 0"):
        build_models("dcgan", {"d_width": 0}, (1, 16, 16), 4, "none")
