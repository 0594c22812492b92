"""The reproduction table's rule, and its suite block's validation."""

from __future__ import annotations

import math

import pytest

from ganbench.errors import GanbenchError
from ganbench.evidence.reproduction import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    Reference,
    outcome,
    parse_references,
)
from ganbench.metrics import metric_catalog
from tests.conftest import tiny_suite

MODES = Reference("paper", "gan", "ring", "modes_hit", value=6.3, pm=0.5, steps=1000)


@pytest.mark.parametrize("n, ci, expected", [
    (5, (6.0, 6.6), REPRODUCED),  # meets 5.8-6.8 and no wider than it
    (10, (6.7, 7.5), REPRODUCED),  # meets the band at its edge, as narrow as it
    (5, (7.0, 7.4), NOT_REPRODUCED),  # wholly above the band
    (5, (2.0, 5.7), NOT_REPRODUCED),  # wholly below, however wide
    (5, (4.0, 8.0), INCONCLUSIVE),  # meets the band but is wider than it: too few seeds to tell
    (4, (6.1, 6.5), INCONCLUSIVE),  # fewer than five seeds
    (1, (math.nan, math.nan), INCONCLUSIVE),
])
def test_a_published_value_and_its_spread(n, ci, expected):
    assert outcome(MODES, n, ci, steps=1000) == expected


@pytest.mark.parametrize("ref, ci, expected", [
    (Reference("p", "a", "d", "m", max=1e-3), (1e-7, 5e-4), REPRODUCED),
    (Reference("p", "a", "d", "m", max=1e-3), (1e-4, 2e-3), INCONCLUSIVE),  # straddles the bound
    (Reference("p", "a", "d", "m", max=1e-3), (2e-3, 4e-3), NOT_REPRODUCED),
    (Reference("p", "a", "d", "m", min=0.5), (1.0, 1.4), REPRODUCED),
    (Reference("p", "a", "d", "m", min=0.5), (0.1, 0.4), NOT_REPRODUCED),
])
def test_a_published_bound(ref, ci, expected):
    assert outcome(ref, 5, ci, steps=10) == expected


def test_a_shorter_run_is_compared_but_never_called_a_reproduction():
    assert outcome(MODES, 5, (6.0, 6.6), steps=999) == "reduced budget (999 of 1,000 steps): agrees"
    assert outcome(MODES, 5, (7.0, 7.4), steps=50) == "reduced budget (50 of 1,000 steps): differs"


def _parse(rows, **block):
    return parse_references([{"source": "paper", "rows": rows, **block}], {"gan"}, {"ring"}, metric_catalog())


def test_rows_are_parsed_with_their_block():
    (ref,) = _parse([{"variant": "gan", "dataset": "ring", "metric": "modes_hit", "value": 6.3, "pm": 0.5}],
                    steps=400000)
    assert ref == Reference("paper", "gan", "ring", "modes_hit", value=6.3, pm=0.5, steps=400000)
    assert ref.published() == "6.3 ± 0.5"


@pytest.mark.parametrize("row, message", [
    ({"variant": "gann", "dataset": "ring", "metric": "fid", "value": 1}, r"rows\[0\]\.variant: 'gann' is not one"),
    ({"variant": "gan", "dataset": "grid", "metric": "fid", "value": 1}, r"rows\[0\]\.dataset: 'grid'"),
    ({"variant": "gan", "dataset": "ring", "metric": "modes", "value": 1}, "no collector logs 'modes'"),
    ({"variant": "gan", "dataset": "ring", "metric": "fid", "value": 1, "max": 2}, "exactly one of value, max"),
    ({"variant": "gan", "dataset": "ring", "metric": "fid", "max": 2, "pm": 1}, "a spread goes with a value"),
    ({"variant": "gan", "dataset": "ring", "metric": "fid", "value": 1, "pm": -1}, r"rows\[0\]\.pm"),
    ({"variant": "gan", "dataset": "ring", "metric": "fid", "valeu": 1}, "unknown key 'valeu'"),
])
def test_bad_rows_name_their_field(row, message):
    with pytest.raises(GanbenchError, match=message):
        _parse([row])


def test_a_bad_reference_block_is_a_usage_error(write_suite, invoke):
    doc = tiny_suite(reference=[{"source": "paper", "rows": [
        {"variant": "nonsaturating", "dataset": "ring", "metric": "fid", "value": "high"}]}])
    result = invoke("run", write_suite(doc))
    assert result.exit_code == 2 and "reference[0].rows[0].value" in result.output


def test_other_data_is_compared_but_never_called_a_reproduction():
    ref = Reference("paper", "gan", "ring", "modes_hit", value=6.3, pm=0.5, steps=1000, other_data=True)
    assert outcome(ref, 5, (6.0, 6.6), steps=1000) == "other data: agrees"
    assert outcome(ref, 5, (6.0, 6.6), steps=10) == "other data, reduced budget (10 of 1,000 steps): agrees"


def test_claims_name_their_field():
    (claim,) = parse_references([{"source": "p", "rows": [{"variant": "gan", "dataset": "ring", "metric": "fid",
                                                           "better_than": "wgan"}]}],
                                {"gan", "wgan"}, {"ring"}, metric_catalog())
    assert claim.better_than == "wgan" and claim.published() == "better than wgan"
    with pytest.raises(GanbenchError, match=r"better_than: 'gan' is not another of the suite's variants"):
        _parse([{"variant": "gan", "dataset": "ring", "metric": "fid", "better_than": "gan"}])
    with pytest.raises(GanbenchError, match="exactly one of value, max, min, better_than"):
        _parse([{"variant": "gan", "dataset": "ring", "metric": "fid", "better_than": "gan", "max": 1}])


def test_a_published_ordering_is_the_gates_comparison_of_two_sets_of_seeds(tmp_path):
    """A claim is held by the same one-sided Mann-Whitney comparison the gate uses: a variant whose G barely
    learns ends worse than the plain one in every seed (4 vs 4: p = 1/70 < 0.05)."""
    from ganbench.execution.runner import run_suite
    from ganbench.report.render import build_report
    from ganbench.report.tables import reproduction
    from ganbench.results import load_results
    from ganbench.spec.suite import parse_suite
    from tests.conftest import TINY_TRAIN

    rows = [{"variant": "plain", "dataset": "ring", "metric": "sliced_wasserstein", "better_than": "stalled"},
            {"variant": "stalled", "dataset": "ring", "metric": "sliced_wasserstein", "better_than": "plain"}]
    doc = tiny_suite(variants=[{"name": "plain", "base": "nonsaturating", "g_lr": 5e-3, "d_lr": 5e-3},
                               {"name": "stalled", "base": "nonsaturating", "g_lr": 1e-7, "d_lr": 5e-3}],
                     seeds=4, train={**TINY_TRAIN, "steps": 400, "eval_every": 400, "checkpoint_every": 400,
                                     "ensemble": True},
                     reference=[{"source": "a paper", "rows": rows}])
    results = load_results(run_suite(parse_suite(doc), out=tmp_path).root)
    table = reproduction(results).set_index("variant")
    assert table.outcome["plain"] == REPRODUCED and table.outcome["stalled"] == NOT_REPRODUCED
    assert table.measured["plain"] == 1.0 and table.seeds["plain"] == "4 vs 4"
    assert "P(better) 1" in build_report(results).markdown()
