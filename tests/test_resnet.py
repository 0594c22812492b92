"""The SN-GAN-style ResNet models (shapes: test_images.py), and the CIFAR-10 suite on tiny fake CIFAR files."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import yaml

from ganbench.errors import GanbenchError
from ganbench.execution.runner import run_suite
from ganbench.models import build_models
from ganbench.results import load_results
from ganbench.spec.suite import parse_suite

SUITES = Path(__file__).parent.parent / "suites"


def test_resnet_at_cifar_size_has_sngan_s_parameter_count():
    """SN-GAN's CIFAR-10 ResNet: G 4.3 M parameters (256 channels), D 1.05 M (128)."""
    g, d = build_models("resnet", {}, (3, 32, 32), 128, "d")
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(g) == pytest.approx(4.28e6, rel=0.01) and count(d) == pytest.approx(1.05e6, rel=0.01)


@pytest.mark.parametrize("params, message", [({"width": 0}, "width must be a positive integer"),
                                             ({"g_width": "wide"}, "g_width must be a positive integer")])
def test_resnet_rejects_bad_parameters(params, message):
    with pytest.raises(GanbenchError, match=message):
        build_models("resnet", params, (3, 32, 32), 16, "none")
    with pytest.raises(GanbenchError, match="resnet needs square images of 16, 32, 64 px"):
        build_models("resnet", {}, (1, 28, 28), 16, "none")


@pytest.fixture(scope="module")
def unlabelled_folder(tmp_path_factory):
    """32 px colour images in one folder: no classes, so no classifier."""
    from PIL import Image

    root = tmp_path_factory.mktemp("unlabelled")
    rng = np.random.default_rng(0)
    for i in range(24):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(root / f"{i}.png")
    return root


@pytest.mark.parametrize("ensemble", [False, True])
def test_resnet_trains_with_spectral_norm_and_batch_norm(unlabelled_folder, tmp_path, ensemble):
    doc = {"name": "resnet", "datasets": [{"name": "image_folder", "root": str(unlabelled_folder), "size": 32}],
           "architecture": {"name": "resnet", "width": 8}, "variants": ["sngan", "wgan-gp"], "seeds": 2,
           "device": "cpu", "train": {"steps": 3, "batch_size": 8, "eval_every": 3, "log_every": 1, "z_dim": 16,
                                      "eval_samples": 24, "checkpoint_every": 3, "ensemble": ensemble}}
    result = run_suite(parse_suite(doc), out=tmp_path)
    assert [r["status"] for r in result.runs] == ["completed"] * 4
    final = load_results(result.root).final()
    # no classes: the k-NN manifold metrics are the diversity measure, and they were computed
    assert final[["precision", "recall", "density", "coverage"]].notna().all().all()
    assert "mode_coverage" not in final and "inception_score" not in final


def write_fake_cifar(root: Path, n_train: int = 50, n_test: int = 20) -> None:
    """CIFAR-10 in torchvision's python-pickle layout (cifar-10-batches-py/), random pixels, 10 classes."""
    base = root / "cifar-10-batches-py"
    base.mkdir(parents=True)
    rng = np.random.default_rng(0)

    def batch(n: int) -> dict:
        return {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), "labels": list(rng.integers(0, 10, n))}

    for i in range(1, 6):
        (base / f"data_batch_{i}").write_bytes(pickle.dumps(batch(n_train // 5)))
    (base / "test_batch").write_bytes(pickle.dumps(batch(n_test)))
    (base / "batches.meta").write_bytes(pickle.dumps({"label_names": [f"c{i}" for i in range(10)]}))


@pytest.fixture
def fake_cifar(tmp_path, monkeypatch):
    """Fake files cannot match CIFAR-10's published md5 sums: torchvision's reading code runs unchanged, its
    checksum test is switched off."""
    from torchvision.datasets import CIFAR10

    write_fake_cifar(tmp_path / "data")
    monkeypatch.setattr(CIFAR10, "train_list", [[name, None] for name, _ in CIFAR10.train_list])
    monkeypatch.setattr(CIFAR10, "test_list", [[name, None] for name, _ in CIFAR10.test_list])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": None})
    return tmp_path / "data"


def test_the_cifar10_suite_holds_sngan_s_protocol_and_trains_a_few_steps(fake_cifar, tmp_path):
    doc = yaml.safe_load((SUITES / "cifar10.yaml").read_text())
    shipped = parse_suite({**doc, "datasets": [{"name": "cifar10", "root": str(fake_cifar)}]})
    (name, recipe), = shipped.variants
    assert (recipe.objective, recipe.spectral_norm, recipe.n_critic, recipe.betas, recipe.d_lr, recipe.g_lr) == (
        "hinge", "d", 5, (0.0, 0.9), 2e-4, 2e-4)
    assert (shipped.train.steps, shipped.train.batch_size, shipped.train.z_dim) == (50000, 64, 128)
    assert shipped.architecture.params == {"width": 128}
    assert {(r.metric, r.value) for r in shipped.reference} == {("inception_score", 8.22), ("fid", 21.7)}
    # a few steps of it, small, on the fake files (no Inception weights here: classifier features)
    doc.update(datasets=[{"name": "cifar10", "root": str(fake_cifar)}], architecture={"name": "resnet", "width": 8},
               seeds=2, device="cpu", train={**doc["train"], "steps": 2, "eval_every": 2, "eval_samples": 20,
                                             "log_every": 1, "checkpoint_every": 2})
    result = run_suite(parse_suite(doc), out=tmp_path / "results")
    assert [r["status"] for r in result.runs] == ["completed"] * 2
    final = load_results(result.root).final()
    assert final[["fid", "inception_score", "recall", "coverage", "mode_coverage"]].notna().all().all()


def test_the_cifar10_suite_names_the_missing_inception_weights(fake_cifar, tmp_path, write_suite, invoke):
    doc = yaml.safe_load((SUITES / "cifar10.yaml").read_text())
    doc["datasets"][0].update(root=str(fake_cifar), inception_weights=str(tmp_path / "nowhere.pth"))
    result = invoke("run", write_suite(doc))
    assert result.exit_code == 2 and "inception_weights: no file at" in result.output
