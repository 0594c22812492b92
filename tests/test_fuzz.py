"""Property-based suite documents: every one either expands into run specs or raises a GanbenchError
whose message names a field -- never another exception. A sample also goes through the CLI: exit 2."""

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ganbench.errors import GanbenchError
from ganbench.spec.suite import SUITE_KEYS, parse_suite

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["ring", "grid", "mlp", "lsgan", "wgan-gp", "../x",
                                                           "cuda:0", "auto", "mode_collapse", "fid"]))
keys = st.one_of(st.text(max_size=8), st.integers(-2, 5))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(keys, inner, max_size=4)), max_leaves=12)


def sometimes(good, bad=values):
    """Mostly well-formed values (so documents get deep into validation), sometimes anything."""
    return st.one_of(good, good, good, bad)


axis_values = {
    "objective": st.sampled_from(["minimax", "nonsaturating", "least_squares", "wasserstein", "hinge", "hing"]),
    "objective_params": st.dictionaries(st.sampled_from(["a", "b", "c", "q"]), st.floats(-2, 2), max_size=3),
    "regularizer": st.sampled_from(["gradient_penalty", "r1", "weight_clip", "none", None]),
    "regularizer_weight": st.floats(-1, 20), "spectral_norm": st.sampled_from([True, False, "d", "both", "g"]),
    "label_smoothing": st.one_of(st.booleans(), st.floats(-0.5, 1.5), st.fixed_dictionaries(
        {}, optional={"real": st.floats(0, 1), "fake": st.floats(0, 1)})),
    "n_critic": st.integers(-1, 6), "d_lr": st.floats(-1e-3, 1e-2), "g_lr": st.floats(-1e-3, 1e-2),
    "optimizer": st.sampled_from(["adam", "rmsprop", "sgd", "adagrad"]),
    "betas": st.lists(st.floats(-0.5, 1.5), max_size=3),
}
variant = st.one_of(
    st.sampled_from(["vanilla", "lsgan", "wgan", "wgan-gp", "sngan", "hinge", "label-smoothing", "lsgn"]),
    st.fixed_dictionaries({"name": sometimes(st.sampled_from(["ok-name", "wgan", "x.y_z"]))},
                          optional={"base": sometimes(st.sampled_from(["nonsaturating", "hinge", "nope"])),
                                    **{axis: sometimes(strategy) for axis, strategy in axis_values.items()}}),
    values,
)
dataset = st.one_of(st.sampled_from(["ring", "grid", "rnig"]), st.fixed_dictionaries(
    {"name": sometimes(st.sampled_from(["ring", "grid"]))},
    optional={k: sometimes(st.one_of(st.integers(-1, 30), st.floats(-1, 5))) for k in
              ("modes", "radius", "std", "side", "extent")}))
train = st.fixed_dictionaries({}, optional={k: sometimes(st.integers(-1, 50)) for k in (
    "steps", "batch_size", "eval_every", "log_every", "checkpoint_every", "z_dim", "eval_samples", "lr")})
check = st.fixed_dictionaries({}, optional={
    "fail_on": sometimes(st.lists(st.sampled_from(["mode_collapse", "divergence", "collapse"]), max_size=3)),
    "allow": sometimes(st.dictionaries(st.text(max_size=5), st.lists(st.sampled_from(["oscillation", "x"])))),
    "thresholds": sometimes(st.dictionaries(st.sampled_from(["fid", "mode_coverage", "fdi"]), st.dictionaries(
        st.sampled_from(["min", "max", "avg"]), st.floats(-1, 2), max_size=2), max_size=2)),
    "regression": sometimes(st.dictionaries(st.sampled_from(["fid", "kid"]), st.floats(-1, 1), max_size=2)),
    "alpha": sometimes(st.floats(-1, 1)), "min_seeds": sometimes(st.integers(0, 8))})
documents = st.fixed_dictionaries(
    {"name": sometimes(st.sampled_from(["fuzz", "a.b-c_d", "..", "x/y", ""])),
     "datasets": sometimes(st.lists(dataset, min_size=1, max_size=3)),
     "variants": sometimes(st.lists(variant, min_size=1, max_size=3))},
    optional={"seeds": sometimes(st.one_of(st.integers(-1, 4), st.lists(st.integers(-2, 6), max_size=4))),
              "train": sometimes(train), "device": sometimes(st.sampled_from(["cpu", "cuda:1", "auto", "gpu"])),
              "deterministic": sometimes(st.booleans()),
              "architecture": sometimes(st.one_of(st.sampled_from(["mlp", "mpl"]), st.fixed_dictionaries(
                  {"name": sometimes(st.just("mlp"))}, optional={"width": sometimes(st.integers(-1, 64)),
                                                                 "depth": sometimes(st.integers(-1, 4)),
                                                                 "output": st.sampled_from(["tanh", "x"])}))),
              "collectors": sometimes(st.lists(st.sampled_from(["fid", "losses", "mode_coverage", "fdi"]))),
              "detectors": sometimes(st.dictionaries(st.sampled_from(["mode_collapse", "oscillation", "x"]),
                                                     st.dictionaries(st.sampled_from(["coverage", "share", "y"]),
                                                                     st.floats(-1, 2), max_size=2), max_size=2)),
              "check": sometimes(check), "extra": values},
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_any_document_expands_or_names_a_field(doc):
    try:
        suite = parse_suite(doc)
    except GanbenchError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    specs = suite.expand()
    assert len(specs) == len(suite.datasets) * len(suite.variants) * len(suite.seeds)
    assert all(spec.run_id for spec in specs)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(doc=documents.filter(lambda d: "extra" in d or d["name"] in ("..", "x/y", "")))
def test_cli_exits_2_without_a_traceback(doc, tmp_path_factory):
    from click.testing import CliRunner

    from ganbench.cli import cli

    path = tmp_path_factory.mktemp("fuzz") / "suite.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = CliRunner().invoke(cli, ["run", str(path), "--out", str(path.parent / "out")])
    assert result.exit_code == 2 and result.output.startswith("error: ") and "Traceback" not in result.output


def test_known_field_names_cover_the_schema():
    assert {"name", "datasets", "variants", "seeds", "train", "check"} <= set(SUITE_KEYS)
