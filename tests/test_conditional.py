"""Class-conditional GANs: labeled data, each conditioning method against its formula, ensembles and resumes,
the per-class metrics' known answers, and the detectors of a G that ignores its labels or drops a class."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganbench.data import make_dataset
from ganbench.diagnostics import run_detectors
from ganbench.diagnostics.base import Event
from ganbench.errors import GanbenchError
from ganbench.execution.runner import run_suite
from ganbench.metrics.base import EvalContext
from ganbench.metrics.conditional import Conditional, intra_fid, label_dependence
from ganbench.metrics.fid import frechet_distance, gaussian
from ganbench.models import build_models
from ganbench.models.conditional import Auxiliary, ConditionalBatchNorm, Projection
from ganbench.recipes.objectives import make_objective
from ganbench.results.store import read_metrics
from ganbench.spec.suite import parse_suite
from ganbench.training.loop import SingleTrainer, build_run
from tests.conftest import TINY_ARCH, TINY_TRAIN, resumed_identically, tiny_suite

CONCAT = {"name": "cgan", "base": "nonsaturating", "conditioning": "concat"}
PROJECTION = {"name": "cgan-pd", "base": "hinge", "conditioning": "projection", "spectral_norm": "d"}
ACGAN = {"name": "acgan", "base": "nonsaturating", "conditioning": "acgan", "ac_weight": 0.5}
CONCAT_GP = {"name": "cgan-gp", "base": "wgan-gp", "conditioning": "concat"}
TACGAN = {"name": "tacgan", "base": "nonsaturating", "conditioning": "tacgan"}
CBN = {"name": "cbn", "base": "nonsaturating", "conditioning": "projection", "conditional_bn": True}
DIGITS = {"datasets": [{"name": "digits", "size": 16}], "architecture": {"name": "dcgan", "width": 8},
          "train": {**TINY_TRAIN, "steps": 20, "eval_every": 10, "checkpoint_every": 10, "z_dim": 8}}
METHODS = [(CONCAT, {}), (PROJECTION, {}), (ACGAN, {}), (TACGAN, {}), (CONCAT_GP, {}), (CBN, DIGITS),
           (CONCAT, DIGITS), ({**ACGAN, "name": "acgan-da", "augment": ["translation", "cutout"]}, DIGITS)]


# --- data with classes ---------------------------------------------------------------------------------------

def test_the_ring_labels_each_sample_with_its_mode():
    ring = make_dataset("ring", {})
    x, y = ring.sample_labeled(500, torch.Generator().manual_seed(3))
    assert torch.equal(x, ring.sample(500, torch.Generator().manual_seed(3)))  # the same draw, read with labels
    assert torch.equal(ring.assign_modes(x)[0], y) and ring.num_classes == 8
    assert torch.allclose(ring.label_prior(), torch.full((8,), 1 / 8))


def test_a_ring_with_a_class_cut_trains_without_it_and_is_evaluated_on_every_class():
    cut = make_dataset("ring", {"weights": [1, 1, 1, 0, 1, 1, 1, 1]})
    _, y = cut.sample_labeled(4000, torch.Generator().manual_seed(0))
    assert 3 not in y.tolist() and cut.label_prior()[3] == 0
    _, y = cut.reference_labeled(4000, torch.Generator().manual_seed(0))
    assert (torch.bincount(y, minlength=8) > 400).all()  # evaluation reads every mode evenly
    even = make_dataset("ring", {})
    assert torch.equal(even.reference(100, torch.Generator().manual_seed(1)),
                       even.sample(100, torch.Generator().manual_seed(1)))
    with pytest.raises(GanbenchError, match="one per mode"):
        make_dataset("ring", {"weights": [1, 2]})


def test_digits_labels_are_the_drawn_images_classes():
    digits = make_dataset("digits", {"size": 16})
    x, y = digits.sample_labeled(64, torch.Generator().manual_seed(0))
    assert torch.equal(x, digits.sample(64, torch.Generator().manual_seed(0)))
    for image, label in zip(x[:8], y[:8]):
        same = (digits.images == image).flatten(1).all(dim=1)
        assert set(digits.labels[same].tolist()) == {int(label)}
    limited = digits.limited(0.1)
    _, y = limited.sample_labeled(400, torch.Generator().manual_seed(0))
    assert set(y.tolist()) <= set(limited.labels[limited.pool].tolist())
    assert limited.label_prior().sum().item() == pytest.approx(1.0)


def test_stacked_digits_have_no_labels_for_a_conditional_gan():
    stacked = make_dataset("stacked_digits", {"size": 16})
    assert stacked.num_classes is None
    doc = tiny_suite(variants=[CONCAT], datasets=[{"name": "stacked_digits", "size": 16}],
                     architecture={"name": "dcgan", "width": 8})
    with pytest.raises(GanbenchError, match="has none"):
        parse_suite(doc)


# --- each method is its formula ------------------------------------------------------------------------------

def _networks(conditioning: str, shape=(2,), arch=TINY_ARCH, **kwargs):
    torch.manual_seed(0)
    return build_models(arch["name"], {k: v for k, v in arch.items() if k != "name"}, shape, 4, "none",
                        conditioning=conditioning, classes=3, **kwargs)


def test_concatenation_feeds_the_one_hot_code_beside_z_and_beside_x():
    g, d = _networks("concat")
    z, x, y = torch.randn(5, 4), torch.randn(5, 2), torch.tensor([0, 1, 2, 1, 0])
    code = F.one_hot(y, 3).float()
    assert torch.equal(g(z, y), g.inner(torch.cat([z, code], 1)))
    assert torch.equal(d(x, y), d.inner(torch.cat([x, code], 1)))


def test_concatenation_on_images_appends_one_constant_channel_per_class():
    _, d = _networks("concat", (1, 16, 16), {"name": "dcgan", "width": 8})
    x, y = torch.randn(4, 1, 16, 16), torch.tensor([2, 0, 1, 2])
    maps = F.one_hot(y, 3).float()[:, :, None, None].expand(4, 3, 16, 16)
    assert torch.equal(d(x, y), d.inner(torch.cat([x, maps], 1)))


def test_the_projection_discriminator_adds_the_inner_product_of_the_class_embedding():
    _, d = _networks("projection")
    head = d.inner.net[-1]
    assert isinstance(head, Projection)
    x, y = torch.randn(6, 2), torch.tensor([0, 1, 2, 2, 1, 0])
    phi = d.inner.net[:-1](x)  # D's final features
    expected = head.head(phi) + (head.embed.weight.T[y] * phi).sum(1, keepdim=True)  # psi(phi) + <V_y, phi>
    assert torch.allclose(d(x, y), expected, atol=1e-6)


def test_the_auxiliary_classifier_outputs_realness_then_class_logits():
    _, d = _networks("acgan")
    head = d.inner.net[-1]
    assert isinstance(head, Auxiliary)
    x = torch.randn(6, 2)
    phi = d.inner.net[:-1](x)
    out = d(x, torch.zeros(6, dtype=torch.long))
    assert out.shape == (6, 4)
    assert torch.allclose(out, torch.cat([head.head(phi), head.classifier(phi)], 1), atol=1e-6)
    assert torch.equal(out, d(x, torch.ones(6, dtype=torch.long)))  # an AC-GAN D reads no label: it classifies


def test_the_acgan_losses_add_the_weighted_class_cross_entropy():
    spec = parse_suite(tiny_suite(variants=[ACGAN])).expand()[0]
    trainer = SingleTrainer([build_run(spec, torch.device("cpu"))])
    real, fake, y = torch.randn(8, 8), torch.randn(8, 8), torch.randint(8, (8,))
    ce = lambda logits: 0.5 * F.cross_entropy(logits, y).item()  # noqa: E731 -- ac_weight 0.5
    assert [t.item() for t in trainer.d_class_terms(real, fake, y)] == pytest.approx([ce(real), ce(fake)], rel=1e-6)
    assert trainer.g_class_loss(fake, y).item() == pytest.approx(ce(fake), rel=1e-6)
    assert trainer.d_class_terms(None, None, y) == () and trainer.g_class_loss(None, y) == 0.0


def test_the_tacgan_twin_learns_generated_classes_and_g_plays_against_it():
    """Gong et al. (2019): D's classifier learns real samples' classes, its twin generated ones'; G is classified
    as y by the first and defeats the second (minus the twin's cross-entropy)."""
    spec = parse_suite(tiny_suite(variants=[TACGAN])).expand()[0]
    run = build_run(spec, torch.device("cpu"))
    head = run.d.inner.net[-1]
    assert isinstance(head, Auxiliary) and head.twin is not None
    assert run.d(torch.randn(5, 2), torch.zeros(5, dtype=torch.long)).shape == (5, 1 + 2 * 8)
    trainer = SingleTrainer([run])
    real, fake, y = torch.randn(8, 16), torch.randn(8, 16), torch.randint(8, (8,))
    ce = lambda logits: F.cross_entropy(logits, y).item()  # noqa: E731
    terms = [t.item() for t in trainer.d_class_terms(real, fake, y)]
    assert terms == pytest.approx([ce(real[:, :8]), ce(fake[:, 8:])], rel=1e-6)
    assert trainer.g_class_loss(fake, y).item() == pytest.approx(ce(fake[:, :8]) - ce(fake[:, 8:]), abs=1e-5)


def test_conditional_batch_norm_is_a_plain_norm_with_a_gain_and_bias_per_class():
    g, _ = _networks("projection", (1, 16, 16), {"name": "dcgan", "width": 8}, conditional_bn=True)
    norms = [m for m in g.modules() if isinstance(m, ConditionalBatchNorm)]
    assert norms and not any(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.affine for m in g.modules())
    norm = norms[-1]
    with torch.no_grad():
        norm.gain.weight.normal_()
        norm.bias.weight.normal_()
    x, y = torch.randn(6, norm.bn.num_features, 4, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    g.slot.y = y
    try:
        out = norm(x)
    finally:
        g.slot.y = None
    normed = F.batch_norm(x, None, None, training=True, eps=norm.bn.eps)
    expected = normed * (1 + norm.gain.weight.T[y])[:, :, None, None] + norm.bias.weight.T[y][:, :, None, None]
    assert torch.allclose(out, expected, atol=1e-5)


def test_a_conditional_layer_outside_its_networks_forward_says_so():
    g, _ = _networks("projection", (1, 16, 16), {"name": "dcgan", "width": 8}, conditional_bn=True)
    norm = next(m for m in g.modules() if isinstance(m, ConditionalBatchNorm))
    with pytest.raises(GanbenchError, match="give the labels"):
        norm(torch.randn(2, norm.bn.num_features, 4, 4))


# --- training: off is today's run, ensembles, resumes --------------------------------------------------------

@pytest.mark.parametrize("variant", [CONCAT, PROJECTION, ACGAN])
def test_a_stacked_conditional_d_is_each_members_own_d(variant):
    from ganbench.training.ensemble import Stacked

    specs = parse_suite(tiny_suite(variants=[variant], seeds=2)).expand()
    alone = [build_run(spec, torch.device("cpu")).d for spec in specs]
    stacked = Stacked([build_run(spec, torch.device("cpu")).d for spec in specs])
    x, y = torch.randn(2, 16, 2), torch.randint(8, (2, 16))
    out = stacked(x, y)
    for k in range(2):
        assert torch.allclose(out[k], alone[k](x[k], y[k]), atol=1e-6)

@pytest.mark.parametrize("axis", [{"conditioning": "none"}, {"conditioning": False}])
def test_conditioning_off_is_todays_run(axis):
    plain, off = (parse_suite(tiny_suite(variants=[v])).expand()[0] for v in
                  ("nonsaturating", {"name": "nonsaturating", "base": "nonsaturating", **axis}))
    assert plain.run_id == off.run_id
    runs = [build_run(spec, torch.device("cpu")) for spec in (plain, off)]
    assert runs[1].eval_y is None
    steps = [SingleTrainer([r]).step(log=True, input_grad=True) for r in runs]
    assert torch.equal(steps[0].loss_d, steps[1].loss_d) and torch.equal(steps[0].loss_g, steps[1].loss_g)


def _metrics(root, run_id):
    return read_metrics(root / "runs" / run_id / "metrics.csv").pivot(index="step", columns="name", values="value")


@pytest.mark.parametrize("variant, extra", METHODS)
def test_members_of_a_conditional_ensemble_follow_their_separate_runs(tmp_path, variant, extra):
    doc = tiny_suite(variants=[variant], seeds=2, **extra)
    separate = run_suite(parse_suite(doc), out=tmp_path / "separate")
    doc["train"] = {**doc["train"], "ensemble": True}
    together = run_suite(parse_suite(doc), out=tmp_path / "ensemble")
    for a, b in zip(separate.runs, together.runs):
        assert a["status"] == b["status"] == "completed"
        alone, member = _metrics(separate.root, a["id"]), _metrics(together.root, b["id"])
        assert list(alone.columns) == list(member.columns) and "label_fidelity" in alone.columns
        first, last = alone.index[0], alone.index[-1]
        for name in ("loss_d", "loss_g"):  # Adam scales rounding-level gradients of near-idle biases up (about lr)
            assert member.loc[first, name] == pytest.approx(alone.loc[first, name], rel=1e-3, abs=1e-5), name
        for name in ("loss_d", "loss_g", "intra_fid"):
            assert member.loc[last, name] == pytest.approx(alone.loc[last, name], rel=0.05, abs=1e-3), name


@pytest.mark.parametrize("ensemble", [False, True])
def test_conditional_runs_resume_identically(tmp_path, ensemble):
    shuffled = {**CONCAT, "name": "shuffled", "g_labels": "shuffled"}
    ema = {**PROJECTION, "name": "cgan-pd-ema", "g_ema": 0.9}  # evaluation reads the average's own label slot
    suite = parse_suite(tiny_suite(variants=[CONCAT, PROJECTION, ACGAN, TACGAN, shuffled, ema],
                                   seeds=2, train={**TINY_TRAIN, "ensemble": ensemble}))
    resumed_identically(suite, tmp_path)


def test_a_conditional_batch_norm_run_resumes_identically(tmp_path):
    doc = {**tiny_suite(variants=[CBN], seeds=2), **DIGITS}
    doc["train"] = {**doc["train"], "ensemble": True}
    resumed_identically(parse_suite(doc), tmp_path, at=10)


def test_a_generator_trained_on_shuffled_labels_sees_other_labels_than_d():
    spec = parse_suite(tiny_suite(variants=[{**CONCAT, "g_labels": "shuffled"}])).expand()[0]
    run = build_run(spec, torch.device("cpu"))
    trainer = SingleTrainer([run])
    seen = []
    inner = run.g.forward
    run.g.forward = lambda z, y: (seen.append(y.clone()), inner(z, y))[1]
    y = torch.arange(32) % 8
    trainer.generate(torch.randn(32, 4), y)
    assert sorted(seen[0].tolist()) == sorted(y.tolist()) and not torch.equal(seen[0], y)


@pytest.mark.parametrize("variant, message", [
    ({**CONCAT, "pack": 2}, "does not combine with pack"),
    ({"name": "x", "base": "nonsaturating", "conditional_bn": True}, "give conditioning too"),
    ({"name": "x", "base": "nonsaturating", "ac_weight": 2.0}, "conditioning: acgan or tacgan"),
    ({"name": "x", "base": "nonsaturating", "g_labels": "zeroed"}, "give conditioning too"),
    ({**CONCAT, "conditioning": "film"}, "conditioning"),
])
def test_bad_conditional_recipes_name_the_field(variant, message):
    with pytest.raises(GanbenchError, match=message):
        parse_suite(tiny_suite(variants=[variant]))


def test_collectors_that_call_the_networks_without_labels_are_refused():
    with pytest.raises(GanbenchError, match="without class labels"):
        parse_suite(tiny_suite(variants=[CONCAT], datasets=[{"name": "digits", "size": 16}],
                               architecture={"name": "dcgan", "width": 8}, collectors=["losses", "d_heldout"]))


# --- metrics with known answers ------------------------------------------------------------------------------

def test_intra_fid_is_the_mean_of_per_class_fids_computed_apart():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(600, 3, generator=g, dtype=torch.float64)
    real_y = torch.arange(600) % 3
    shift = torch.tensor([[0.0, 0, 0], [1.0, 0, 0], [0, 2.0, 1.0]], dtype=torch.float64)
    fake, fake_y = real + shift[real_y], real_y.clone()  # each class moved by its own vector: FID_c = |shift_c|^2
    mean, per_class = intra_fid(real, real_y, fake, fake_y, 3)
    assert per_class == pytest.approx([0.0, 1.0, 5.0], abs=1e-6)
    assert mean == pytest.approx(2.0, abs=1e-6)
    apart = [frechet_distance(*gaussian(fake[fake_y == c]), *gaussian(real[real_y == c])) for c in range(3)]
    assert per_class == pytest.approx(apart)


def test_cas_of_a_generator_that_is_the_data_is_the_real_classifiers_and_chance_for_one_ignoring_y():
    """Known answers of the Classifier Accuracy Score: G equal to the data (a fresh draw of it) scores what a
    classifier fitted on real samples scores on real samples, both ways; a G that ignores y scores 1/K."""
    from ganbench.metrics.conditional import classifier_accuracy

    data = make_dataset("overlapping_gaussians", {})
    real, real_y = data.reference_labeled(3000, torch.Generator().manual_seed(0))
    fake, fake_y = data.reference_labeled(3000, torch.Generator().manual_seed(1))
    held, held_y = data.reference_labeled(3000, torch.Generator().manual_seed(2))
    collector = Conditional(data, make_objective("nonsaturating", {}), torch.device("cpu"))
    values = collector.evaluate(EvalContext(0, fake, real, data, fake_labels=fake_y, real_labels=real_y))
    real_on_real = classifier_accuracy(held, held_y, real, real_y, collector.cas_k)
    assert values["cas"] == pytest.approx(real_on_real, abs=0.02)
    assert values["cas_reverse"] == pytest.approx(real_on_real, abs=0.02)
    assert real_on_real == pytest.approx(values["label_fidelity_real"], abs=0.03)  # near the Bayes rate
    shuffled = fake_y[torch.randperm(3000, generator=torch.Generator().manual_seed(3))]
    ignoring = collector.evaluate(EvalContext(0, fake, real, data, fake_labels=shuffled, real_labels=real_y))
    assert ignoring["cas"] == pytest.approx(1 / 3, abs=0.04) and ignoring["cas_reverse"] == pytest.approx(1 / 3,
                                                                                                         abs=0.04)


def _evaluate_ring(fake_modes: torch.Tensor, y: torch.Tensor, spread: float = 1.0) -> dict[str, float]:
    ring = make_dataset("ring", {})
    g = torch.Generator().manual_seed(1)
    real, real_y = ring.reference_labeled(len(y), g)
    fake = ring.modes[fake_modes] + spread * ring.mode_std * torch.randn(len(y), 2, generator=g)
    collector = Conditional(ring, make_objective("nonsaturating", {}), torch.device("cpu"))
    return collector.evaluate(EvalContext(0, fake, real, ring, fake_labels=y, real_labels=real_y))


def test_label_fidelity_and_dependence_read_one_for_a_faithful_g_and_zero_for_one_ignoring_y():
    y = torch.arange(2400) % 8
    faithful = _evaluate_ring(y, y)
    assert faithful["label_fidelity"] == 1.0 and faithful["label_dependence"] == 1.0
    assert faithful["sample_quality"] > 0.95 and faithful["intra_fid"] < 1e-3
    assert min(faithful[f"class_recall/{c}"] for c in range(8)) > 0.8
    assert min(faithful[f"class_coverage/{c}"] for c in range(8)) > 0.95
    assert faithful["class_spread_ratio"] == pytest.approx(1.0, abs=0.15)
    assert faithful["cas"] == 1.0 and faithful["cas_reverse"] == 1.0
    ignoring = _evaluate_ring(torch.randint(8, (2400,), generator=torch.Generator().manual_seed(5)), y)
    assert ignoring["label_dependence"] == pytest.approx(0.0, abs=0.05) and ignoring["sample_quality"] > 0.95
    assert ignoring["intra_fid"] > 1.0  # each class's samples spread over the whole ring
    assert all(ignoring[f"class_coverage/{c}"] == pytest.approx(1 / 8, abs=0.06) for c in range(8))
    assert label_dependence(1 / 8, 8) == 0.0 and label_dependence(1.0, 8) == 1.0
    narrow = _evaluate_ring(y, y, spread=0.3)  # every class too narrow: the AC-GAN bias's signature
    assert narrow["class_spread_ratio"] == pytest.approx(0.09, abs=0.02) and narrow["label_fidelity"] == 1.0


# --- detectors -----------------------------------------------------------------------------------------------

def _stream(rows: dict[str, list[float]], steps=(100, 200, 300, 400, 500)) -> pd.DataFrame:
    return pd.DataFrame([(s, name, v) for name, values in rows.items() for s, v in zip(steps, values)],
                        columns=["step", "name", "value"])


def _kinds(rows, **kwargs):
    return [(e.kind, e.step, e.evidence) for e in run_detectors(_stream(rows, **kwargs),
                                                               only={"label_ignored", "class_collapse",
                                                                     "class_diversity"})]


def test_a_generator_that_ignores_y_trips_label_ignored_and_a_healthy_one_does_not():
    ignoring = _kinds({"label_dependence": [0.0, 0.02, 0.01, 0.0, 0.03], "sample_quality": [0.1, 0.5, 0.6, 0.6, 0.7],
                       "label_fidelity": [0.12, 0.14, 0.13, 0.12, 0.15]})
    assert [(k, s) for k, s, _ in ignoring] == [("label_ignored", 200)]  # not before its samples were any good
    healthy = _kinds({"label_dependence": [0.0, 0.6, 0.9, 0.95, 0.97], "sample_quality": [0.1, 0.5, 0.6, 0.6, 0.7]})
    assert healthy == []
    swinging = _kinds({"label_dependence": [0.0] * 5, "sample_quality": [0.0, 0.99, 0.0, 0.17, 0.96]})
    assert [(k, s) for k, s, _ in swinging] == [("label_ignored", 200)]  # pushed from class to class
    blurred = _kinds({"label_dependence": [0.0] * 5, "sample_quality": [0.1, 0.05, 0.08, 0.06, 0.1],
                      "sliced_wasserstein_rel": [1.25, 0.6, 0.48, 0.58, 0.76]})
    assert [(k, s) for k, s, _ in blurred] == [("label_ignored", 200)]  # every class the same blur near the data
    unlearned = _kinds({"label_dependence": [0.0] * 5, "sample_quality": [0.0, 0.01, 0.05, 0.02, 0.1],
                        "sliced_wasserstein_rel": [1.5, 1.2, 1.0, 0.9, 0.8]})
    assert unlearned == []


def test_class_collapse_names_the_class_whose_recall_fell_while_the_others_held():
    rows = {f"class_recall/{c}": [0.9] * 5 for c in range(8)}
    rows["class_recall/5"] = [0.9, 0.1, 0.05, 0.05, 0.05]
    ((kind, step, evidence),) = _kinds(rows)
    assert kind == "class_collapse" and step == 200 and evidence["class"] == 5
    rows["class_recall/5"] = [0.9, 0.1, 0.05, 0.05, 0.8]  # lagged three evaluations and caught up
    assert _kinds(rows) == []
    everything = {f"class_recall/{c}": [0.9, 0.3, 0.1, 0.1, 0.1] for c in range(8)}  # all fell: no one class
    assert _kinds(everything) == []
    elsewhere = {**everything, **{f"class_coverage/{c}": [0.9] * 5 for c in range(8)},
                 "class_coverage/3": [0.9, 0.0, 0.0, 0.0, 0.0]}  # class 3's samples went to other classes
    ((kind, step, evidence),) = _kinds(elsewhere)
    assert (kind, step, evidence["class"], evidence["measure"]) == ("class_collapse", 200, 3, "class_coverage")


def test_class_diversity_fires_when_labels_are_followed_with_too_little_variety():
    narrow = [2.0, 0.4, 0.3, 0.3, 0.3]
    ((kind, step, _),) = _kinds({"class_spread_ratio": narrow, "label_fidelity": [0.5, 0.95, 1, 1, 1]})
    assert (kind, step) == ("class_diversity", 200)
    assert _kinds({"class_spread_ratio": narrow, "label_fidelity": [0.2] * 5}) == []
    overlapping = {"class_spread_ratio": narrow, "label_fidelity": [0.6, 0.8, 0.8, 0.8, 0.8],
                   "label_fidelity_real": [0.73] * 5}  # classes made more separable than the data's own
    assert [(k, s) for k, s, _ in _kinds(overlapping)] == [("class_diversity", 200)]


def test_overlapping_gaussians_label_fidelity_of_real_data_is_the_bayes_accuracy():
    from scipy import integrate, stats

    data = make_dataset("overlapping_gaussians", {})
    x, y = data.reference_labeled(30000, torch.Generator().manual_seed(0))
    assert [round(float(x[y == c].std()), 1) for c in range(3)] == [1.0, 2.0, 3.0]
    densities = [stats.norm(m, s).pdf for m, s in ((0, 1), (3, 2), (6, 3))]
    bayes, _ = integrate.quad(lambda v: max(p(v) for p in densities) / 3, -30, 40, points=[0, 3, 6], limit=200)
    collector = Conditional(data, make_objective("nonsaturating", {}), torch.device("cpu"))
    values = collector.evaluate(EvalContext(0, x, x, data, fake_labels=y, real_labels=y))
    assert values["label_fidelity_real"] == pytest.approx(bayes, abs=0.01)
    assert values["label_fidelity"] == values["label_fidelity_real"] and values["intra_fid"] == pytest.approx(0.0)


# --- tracking a conditional loop -----------------------------------------------------------------------------

class _CondG(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed, self.net = nn.Embedding(8, 4), nn.Linear(4 + 4, 2)

    def forward(self, z, y):
        return self.net(torch.cat([z, self.embed(y)], dim=1))


class _CondD(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed, self.net = nn.Embedding(8, 4), nn.Linear(2 + 4, 1)

    def forward(self, x, y):
        return self.net(torch.cat([x, self.embed(y)], dim=1))


def _tracked_conditional_loop(out, evaluation):
    import ganbench

    torch.manual_seed(0)
    g, d = _CondG(), _CondD()
    tracker = ganbench.track(out, g=g, d=d, data="ring", z_dim=4, classes=8, eval_samples=400, eval_every=10,
                             log_every=5, evaluation=evaluation, suite=evaluation)
    assert torch.equal(tracker.eval_y.cpu(), torch.arange(400) % 8)
    for step in range(1, 21):
        real, y = torch.randn(16, 2), torch.randint(8, (16,))
        fake = g(torch.randn(16, 4), y)
        tracker.log(step, loss_d=0.7, loss_g=0.7, real_out=d(real, y), fake_out=d(fake, y), real=real,
                    fake=fake.detach(), labels=y)
    tracker.close()
    from ganbench.results import load_results

    results = load_results(out / evaluation)
    return results.metrics.pivot_table(index="step", columns="name", values="value")


def test_a_tracked_conditional_loop_is_measured_per_class_in_the_loop_and_deferred_alike(tmp_path):
    in_loop = _tracked_conditional_loop(tmp_path, "in_loop")
    deferred = _tracked_conditional_loop(tmp_path, "deferred")
    for name in ("label_fidelity", "intra_fid", "class_recall/3", "fid"):
        assert name in in_loop.columns
        assert in_loop.loc[[10, 20], name].tolist() == pytest.approx(deferred.loc[[10, 20], name].tolist())
    assert "grad_norm_d_input_real" in in_loop.columns  # D(x, y) read with the logged labels


def test_a_tracked_conditional_loop_needs_labeled_data(tmp_path):
    import ganbench

    with pytest.raises(GanbenchError, match="has no class labels"):
        ganbench.track(tmp_path, g=_CondG(), d=_CondD(), data=torch.randn(100, 2), z_dim=4, classes=8)
    with pytest.raises(GanbenchError, match="the data has 8 classes"):
        ganbench.track(tmp_path, g=_CondG(), d=_CondD(), data="ring", z_dim=4, classes=3)


# --- the report -----------------------------------------------------------------------------------------------

def test_the_report_has_a_row_per_class_and_names_the_collapsed_class_up_front(tmp_path):
    from ganbench.report.render import write_report
    from ganbench.results import load_results

    done = run_suite(parse_suite(tiny_suite(variants=[CONCAT], seeds=2)), out=tmp_path)
    results = load_results(done.root)
    (first, *_) = results.runs.run_id
    # the stored events of one seed say class 5 collapsed, as the detector writes them
    results.store.write_events(first, [Event(
        "class_collapse", 20, {"class": 5, "measure": "class_recall"})])
    report = (write_report(done.root) / "report.md").read_text()
    assert "Per class: cgan on ring lost class 5 in 1 of 2 seeds." in report
    table = report.split("## Per class (conditional runs)")[1].split("\n## ")[0]
    assert [f"| cgan | ring | {c} | 2 |" in table for c in range(8)] == [True] * 8  # a row per class, 2 seeds


def test_image_grids_of_a_conditional_g_hold_one_class_a_row():
    from ganbench.data.pictures import rows_by_class

    images = torch.arange(30, dtype=torch.float32).view(30, 1, 1, 1).expand(30, 1, 2, 2)
    labels = torch.arange(30) % 3
    rows = rows_by_class(images, labels, columns=4)
    assert rows.shape == (12, 1, 2, 2)
    assert rows[:4, 0, 0, 0].tolist() == [0, 3, 6, 9] and rows[4:8, 0, 0, 0].tolist() == [1, 4, 7, 10]
