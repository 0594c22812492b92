"""The suite file contract, and every kind of bad input through the CLI: exit 2, the field named, no traceback."""

from pathlib import Path

import pytest

from ganbench.spec.suite import load_suite, parse_suite
from tests.conftest import tiny_suite


def test_expand_is_variant_dataset_seed_product():
    suite = parse_suite(tiny_suite(datasets=["ring", {"name": "grid", "std": 0.1}],
                                   variants=["vanilla", {"name": "strong-d", "base": "nonsaturating", "n_critic": 3}],
                                   seeds=[3, 7]))
    specs = suite.expand()
    assert len(specs) == 8
    assert {(s.variant, s.dataset.name, s.seed) for s in specs} == {
        (v, d, s) for v in ("vanilla", "strong-d") for d in ("ring", "grid") for s in (3, 7)}
    strong = next(s for s in specs if s.variant == "strong-d")
    assert strong.recipe.n_critic == 3 and strong.recipe.objective == "nonsaturating"
    assert len({s.run_id for s in specs}) == 8


def test_run_ids_are_stable_and_depend_on_the_resolved_config():
    a = parse_suite(tiny_suite()).expand()[0]
    b = parse_suite(tiny_suite()).expand()[0]
    c = parse_suite(tiny_suite(train={**tiny_suite()["train"], "steps": 41})).expand()[0]
    assert a.run_id == b.run_id != c.run_id
    assert a.run_id.startswith("nonsaturating_ring_s0_")


def test_defaults():
    suite = parse_suite({"name": "d", "datasets": ["ring"], "variants": ["lsgan"]})
    assert suite.seeds == (0,) and suite.train.steps == 2000 and suite.device == "auto" and suite.deterministic
    spec = suite.expand()[0]
    assert spec.architecture.name == "mlp" and spec.architecture.params == {"width": 128, "depth": 3}


def test_builtin_name_with_overrides_keeps_its_name():
    suite = parse_suite(tiny_suite(variants=[{"name": "wgan", "d_lr": 1e-4}]))
    assert suite.variants[0][0] == "wgan" and suite.variants[0][1].d_lr == 1e-4
    assert suite.variants[0][1].regularizer == "weight_clip"


BAD = [
    ({"nme": "x"}, "unknown key 'nme'; did you mean 'name'"),
    ({"train": {"steps": 0}}, "train.steps must be >= 1"),
    ({"train": {"batch_size": 0}}, "train.batch_size must be >= 1"),
    ({"train": {"steps": "many"}}, "train.steps must be an integer"),
    ({"train": {"step": 10}}, "unknown key 'step' at train; did you mean 'steps'"),
    ({"seeds": [-1]}, r"seeds\[0\] must be >= 0"),
    ({"seeds": 0}, "seeds must be >= 1"),
    ({"variants": ["lsgn"]}, r"unknown variant 'lsgn' at variants\[0\]; did you mean 'lsgan'"),
    ({"variants": [{"name": "x", "base": "nonsaturating", "d_lr": -1}]}, r"variants\[0\].d_lr must be > 0"),
    ({"variants": [{"name": "x", "base": "nonsaturating", "g_lr": 0}]}, r"variants\[0\].g_lr must be > 0"),
    ({"variants": [{"name": "x"}]}, r"variants\[0\] defines new variant 'x': give it a 'base'"),
    ({"variants": [{"name": "../evil", "base": "vanilla"}]}, "is not a safe name"),
    ({"variants": []}, "variants must be a non-empty list"),
    ({"datasets": ["rnig"]}, r"unknown dataset 'rnig' at datasets\[0\]; did you mean 'ring'\?"),
    ({"datasets": [{"name": "ring", "radius": 2, "colour": 1}]}, r"bad parameters for dataset 'ring' at datasets\[0\]"),
    ({"architecture": "mpl"}, "unknown architecture 'mpl' at architecture; did you mean 'mlp'"),
    ({"architecture": {"name": "mlp", "width": 0}}, "mlp width must be >= 1"),
    ({"device": "gpu"}, "device must be auto, cpu, cuda"),
    ({"deterministic": "yes"}, "deterministic must be true or false"),
    ({"name": "../up"}, "name '../up' is not a safe name"),
    ({"name": "/abs"}, "is not a safe name"),
    ({"detectors": {"mode_collapse": {"coverag": 0.4}}}, "unknown key 'coverag' at detectors.mode_collapse"),
    ({"detectors": {"mode_colapse": {}}}, "unknown detector 'mode_colapse'"),
    ({"collectors": ["fdi"]}, r"unknown collector 'fdi' at collectors\[0\]; did you mean 'fid'"),
    ({"check": {"fail_on": ["collapse"]}}, r"check.fail_on\[0\] must be one of .*mode_collapse"),
    ({"check": {"thresholds": {"fid": {"maximum": 1}}}}, "unknown key 'maximum' at check.thresholds.fid"),
]


@pytest.mark.parametrize("override, message", BAD, ids=[m[:40] for _, m in BAD])
def test_bad_suites_exit_2_naming_the_field(override, message, write_suite, invoke, tmp_path):
    doc = tiny_suite()
    for key, value in override.items():
        if key == "train":
            doc["train"] = {**doc["train"], **value}
        else:
            doc[key] = value
    result = invoke("run", write_suite(doc), "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    import re

    assert re.search(message, result.output), result.output
    assert not (tmp_path / "out").exists()  # nothing written for a suite that does not validate


@pytest.mark.parametrize("text, message", [
    ("", "the suite file is empty"),
    ("name: [unclosed", "invalid YAML at line 1"),
    ("- a\n- b\n", "the suite file must be a mapping"),
    ("name: x\n", "missing required key 'datasets'"),
    ("!!python/object/apply:os.system ['echo pwned']", "invalid YAML"),
])
def test_malformed_files(text, message, write_suite, invoke):
    result = invoke("run", write_suite(text))
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_missing_file(invoke, tmp_path):
    result = invoke("run", tmp_path / "nope.yaml")
    assert result.exit_code == 2 and "suite file not found" in result.output


def test_debug_shows_the_traceback(write_suite):
    from click.testing import CliRunner

    from ganbench.cli import cli

    result = CliRunner().invoke(cli, ["--debug", "run", str(write_suite(tiny_suite(variants=["lsgn"])))])
    assert result.exit_code != 0 and "lsgn" in str(result.exception)


def test_quick_suite_runs_each_mission_variant_at_a_sweep_ring_trial_on_seeds_that_did_not_choose_it():
    import dataclasses

    from ganbench.spec.suite import load_suite

    def settings(recipe):
        return dataclasses.replace(recipe, description="")

    quick, sweep = load_suite(Path("suites/quick.yaml")), load_suite(Path("suites/sweep-ring.yaml"))
    wgan_sweep = load_suite(Path("suites/sweep-ring-wgan.yaml"))  # its second 16 trials, stated in quick.yaml
    recipes = dict(quick.variants)
    assert set(recipes) == {"vanilla", "nonsaturating", "lsgan", "wgan", "wgan-gp", "sngan", "label-smoothing"}
    assert quick.datasets == sweep.datasets and quick.architecture == sweep.architecture
    assert quick.train.steps == sweep.train.steps and len(quick.seeds) >= 4
    assert not set(quick.seeds) & set(sweep.sweep.selection_seeds)  # no winner's luck in the quick table
    assert wgan_sweep.sweep.selection_seeds == sweep.sweep.selection_seeds
    for name, recipe in recipes.items():  # each recipe is one of the sweeps' trials, not a hand-set one
        assert any(t.variant == name and settings(s.trial_recipe(t, s.datasets[0])) == settings(recipe)
                   for s in (sweep, wgan_sweep) for t in s.trials()), name


SUITES = Path(__file__).parent.parent / "suites"
NEEDS_DATA = {"mnist", "stacked-mnist", "cifar10"}  # tested on tiny fake files in test_images.py, test_resnet.py


def _shipped() -> list[Path]:
    """The suites the repository ships (tracked by git): a user's own suite saved beside them is not pinned."""
    import subprocess

    try:
        listed = subprocess.run(["git", "ls-files", "*.yaml"], cwd=SUITES, capture_output=True, text=True,
                                check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an sdist): every file there
        return sorted(SUITES.rglob("*.yaml"))
    return sorted(SUITES / name for name in listed)


def test_the_shipped_list_is_the_tracked_suites_and_a_users_suite_is_not_listed(tmp_path, monkeypatch):
    import shutil

    from ganbench.spec import suite as spec

    assert spec.shipped_suites() == sorted(p.relative_to(SUITES).with_suffix("").as_posix() for p in _shipped())
    shutil.copytree(spec.SHIPPED, tmp_path / "suites")
    (tmp_path / "suites" / "my-own.yaml").write_text("name: my-own\n")
    monkeypatch.setattr(spec, "SHIPPED", tmp_path / "suites")
    assert "my-own" not in spec.shipped_suites() and "quick" in spec.shipped_suites()


@pytest.mark.parametrize("path", [p for p in _shipped() if p.stem not in NEEDS_DATA], ids=lambda p: p.stem)
def test_shipped_suites_are_valid(path):
    from ganbench.spec.suite import load_suite

    suite = load_suite(path)
    assert suite.name == path.stem and suite.expand()


def test_seeds16_trains_as_ensembles_of_16():
    from pathlib import Path

    from ganbench.execution.jobs import jobs_of
    from ganbench.spec.suite import load_suite

    jobs = jobs_of(load_suite(Path(__file__).parent.parent / "suites" / "seeds16.yaml").expand())
    assert len(jobs) == 5 and {len(job) for job in jobs} == {16}


def test_a_dataset_is_built_once_per_process_for_the_same_parameters():
    from ganbench.data import make_dataset

    assert make_dataset("ring", {"std": 0.07}) is make_dataset("ring", {"std": 0.07})
    assert make_dataset("ring", {"std": 0.07}) is not make_dataset("ring", {"std": 0.08})


def test_run_ids_change_only_with_what_changes_results():
    import dataclasses

    from ganbench.spec.suite import result_fields

    spec = parse_suite(tiny_suite()).expand()[0]
    same = [dataclasses.replace(spec, recipe=dataclasses.replace(spec.recipe, description="reworded")),
            dataclasses.replace(spec, suite="renamed-suite")]
    other = [dataclasses.replace(spec, recipe=dataclasses.replace(spec.recipe, d_lr=spec.recipe.d_lr * 2)),
             dataclasses.replace(spec, seed=spec.seed + 1),
             dataclasses.replace(spec, train=dataclasses.replace(spec.train, ensemble=True)),
             dataclasses.replace(spec, detectors={"divergence": {"bound": 10.0}})]
    assert {s.run_id for s in same} == {spec.run_id}
    assert len({spec.run_id, *(s.run_id for s in other)}) == 1 + len(other)
    assert "description" not in result_fields(spec)["recipe"] and "suite" not in result_fields(spec)


def test_shipped_suites_load_by_name_from_any_directory(tmp_path, monkeypatch, invoke):
    from ganbench.spec.suite import shipped_suites

    monkeypatch.chdir(tmp_path)  # no suites/ here: the names resolve to the suites packaged with ganbench
    assert {"quick", "ci", "papers/dirac"} <= set(shipped_suites())
    assert load_suite("quick").name == "quick" and load_suite("papers/dirac.yaml").name == "dirac"
    result = invoke("run", "quik")
    assert result.exit_code == 2 and "suite file not found: quik (or give a shipped suite by name: ci," in result.output
