import pytest

from ganbench.errors import GanbenchError
from ganbench.execution.runner import run_suite
from ganbench.recipes.variants import VARIANTS, Recipe, compose
from ganbench.results.store import read_metrics
from ganbench.spec.suite import parse_suite
from tests.conftest import tiny_suite


def test_mission_recipes():
    assert VARIANTS.get("vanilla").objective == "minimax"
    assert VARIANTS.get("vanilla").betas == (0.5, 0.999) and VARIANTS.get("vanilla").d_lr == 2e-4
    wgan = VARIANTS.get("wgan")
    assert (wgan.regularizer, wgan.regularizer_weight, wgan.n_critic, wgan.optimizer, wgan.d_lr) == (
        "weight_clip", 0.01, 5, "rmsprop", 5e-5)
    gp = VARIANTS.get("wgan-gp")
    assert (gp.regularizer, gp.regularizer_weight, gp.n_critic, gp.d_lr, gp.betas) == (
        "gradient_penalty", 10.0, 5, 1e-4, (0.0, 0.9))
    assert VARIANTS.get("sngan").spectral_norm == "d"
    assert VARIANTS.get("label-smoothing").label_smoothing == (0.9, 0.0)
    assert VARIANTS.get("lsgan").objective_params == {"a": 0.0, "b": 1.0, "c": 1.0}


def test_compose_overrides_one_axis():
    strong = compose(VARIANTS.get("nonsaturating"), {"d_lr": 2e-3, "n_critic": 5}, "variants[0]")
    assert (strong.d_lr, strong.n_critic, strong.objective) == (2e-3, 5, "nonsaturating")
    assert compose(Recipe(), {"label_smoothing": True}, "v").label_smoothing == (0.9, 0.0)
    assert compose(Recipe(), {"label_smoothing": {"real": 0.8, "fake": 0.1}}, "v").label_smoothing == (0.8, 0.1)
    assert compose(Recipe(), {"spectral_norm": "both"}, "v").spectral_norm == "both"


def test_changing_objective_drops_old_parameters():
    recipe = compose(VARIANTS.get("lsgan"), {"objective": "hinge"}, "v")
    assert recipe.objective_params == {}


@pytest.mark.parametrize("override, message", [
    ({"label_smoothing": 0.9, "objective": "wasserstein"}, "v.label_smoothing applies to minimax"),
    ({"objective_params": {"q": 1}}, "unknown key 'q' at v.objective_params"),
    ({"n_critic": 0}, "v.n_critic must be >= 1"),
    ({"d_lr": 0}, "v.d_lr must be > 0"),
    ({"optimizer": "adagrad"}, "v.optimizer must be one of adam, rmsprop, sgd"),
    ({"betas": [0.5]}, "v.betas must be a list of two numbers"),
    ({"objective": "hinj"}, "did you mean 'hinge'"),
    ({"regularizer": "r3"}, "unknown regularizer 'r3' at v.regularizer; choose from: bcr, dragan, gradient_penalty, "
                            "lecam, r1, r2, weight_clip"),
    ({"regularizer": ["r1", "r1"]}, "v.regularizer names a regularizer twice"),
    ({"regularizer": "r1", "regularizer_weight": [1.0, 2.0]}, "v.regularizer_weight: 2 weights for 1 regularizer"),
    ({"lr_schedule": "step"}, "v.lr_schedule"),
    ({"g_ema": 1.5}, "v.g_ema"),
    ({"regularizer": "weight_clipping"}, "did you mean 'weight_clip'"),
    ({"lr": 1e-3}, "unknown key 'lr' at v; did you mean 'g_lr' or 'd_lr'"),
])
def test_bad_overrides(override, message):
    with pytest.raises(GanbenchError, match=message.replace("(", r"\(").replace("[", r"\[")):
        compose(VARIANTS.get("nonsaturating"), override, "v")


@pytest.mark.parametrize("variant", VARIANTS.list())
def test_every_registered_variant_trains(variant, tmp_path):
    train = {"steps": 6, "batch_size": 16, "eval_every": 3, "log_every": 3, "checkpoint_every": 100,
             "z_dim": 4, "eval_samples": 64}
    suite = parse_suite(tiny_suite(name=f"v-{variant}", variants=[variant], train=train))
    result = run_suite(suite, out=tmp_path)
    assert [r["status"] for r in result.runs] == ["completed"]
    metrics = read_metrics(result.root / "runs" / result.runs[0]["id"] / "metrics.csv")
    assert {"loss_d", "loss_g", "d_real", "d_fake", "d_accuracy", "grad_norm_d", "grad_norm_g",
            "mode_coverage", "fid"} <= set(metrics.name)
