"""Image datasets (real loading code on tiny files it writes itself), DCGAN, classifier features and modes."""

import math
import os
import struct
from pathlib import Path

import pytest
import torch
import yaml

from ganbench.data import make_dataset
from ganbench.data.images import ImageDataset
from ganbench.errors import GanbenchError
from ganbench.execution.runner import run_suite
from ganbench.metrics.modes import mode_statistics
from ganbench.models import build_models
from ganbench.spec.suite import parse_suite


def write_idx_images(path: Path, images: torch.Tensor) -> None:
    n, h, w = images.shape
    path.write_bytes(struct.pack(">IIII", 2051, n, h, w) + images.to(torch.uint8).numpy().tobytes())


def write_idx_labels(path: Path, labels: torch.Tensor) -> None:
    path.write_bytes(struct.pack(">II", 2049, len(labels)) + labels.to(torch.uint8).numpy().tobytes())


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory):
    """MNIST and Fashion-MNIST in torchvision's own on-disk format (uncompressed idx files under
    <Class>/raw/), 100 + 30 images each."""
    root = tmp_path_factory.mktemp("data")
    for name in ("MNIST", "FashionMNIST"):
        _write_idx_set(root / name / "raw")
    return root


def _write_idx_set(raw: Path) -> None:
    raw.mkdir(parents=True)
    g = torch.Generator().manual_seed(0)
    for prefix, n in (("train", 100), ("t10k", 30)):
        labels = torch.arange(n) % 10
        images = torch.zeros(n, 28, 28)
        for i, label in enumerate(labels):  # a bright bar whose position encodes the class
            images[i, 2 + 2 * label: 4 + 2 * label, 4:24] = 255
        images += torch.rand(n, 28, 28, generator=g) * 30
        write_idx_images(raw / f"{prefix}-images-idx3-ubyte", images.clamp(0, 255))
        write_idx_labels(raw / f"{prefix}-labels-idx1-ubyte", labels)


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_mnist_loads_from_torchvision_files(tiny_mnist, name):
    data = make_dataset(name, {"root": str(tiny_mnist), "size": 16})
    assert data.sample_shape == (1, 16, 16) and data.images.shape == (100, 1, 16, 16) and data.num_modes == 10
    assert data.images.min() >= -1 and data.images.max() <= 1
    assert data.labels.tolist() == (torch.arange(100) % 10).tolist()
    batch = data.sample(8, torch.Generator().manual_seed(0))
    assert batch.shape == (8, 1, 16, 16)


def test_mnist_trains_end_to_end(tiny_mnist, tmp_path):
    doc = {"name": "m", "datasets": [{"name": "mnist", "root": str(tiny_mnist)}], "variants": ["lsgan"],
           "architecture": {"name": "dcgan", "width": 8},
           "train": {"steps": 4, "batch_size": 8, "eval_every": 2, "log_every": 2, "z_dim": 8, "eval_samples": 40}}
    result = run_suite(parse_suite(doc), out=tmp_path)
    assert result.runs[0]["status"] == "completed"
    run = result.root / "runs" / result.runs[0]["id"]
    config = yaml.safe_load((run / "config.json").read_text())
    assert config["collectors"]["fid"]["feature_space"].startswith("classifier:MNIST")
    assert 0 <= config["dataset"]["classifier_test_accuracy"] <= 1
    metrics = (run / "metrics.csv").read_text()
    assert ",kid," in metrics and ",mode_coverage," in metrics and (run / "samples" / "step_4.png").exists()


@pytest.mark.parametrize("name", ["mnist", "papers/stacked-mnist"])
def test_the_shipped_mnist_suites_run_a_few_steps_on_fake_files(tiny_mnist, tmp_path, name):
    doc = yaml.safe_load((Path(__file__).parent.parent / "suites" / f"{name}.yaml").read_text())
    doc["datasets"] = [{**d, "root": str(tiny_mnist)} for d in doc["datasets"]]
    doc["seeds"] = 1
    doc["train"] = {**doc["train"], "steps": 2, "batch_size": 8, "eval_every": 2, "log_every": 1,
                    "checkpoint_every": 2, "eval_samples": 40}
    result = run_suite(parse_suite(doc), out=tmp_path)
    assert {r["status"] for r in result.runs} == {"completed"}
    if name.endswith("stacked-mnist"):
        metrics = (result.root / "runs" / result.runs[0]["id"] / "metrics.csv").read_text()
        assert ",modes_hit," in metrics and ",mode_kl," in metrics


def test_missing_mnist_names_the_root_and_how_to_get_it(tmp_path, write_suite, invoke):
    doc = {"name": "m", "datasets": [{"name": "mnist", "root": str(tmp_path / "nowhere")}], "variants": ["lsgan"]}
    result = invoke("run", write_suite(doc))
    assert result.exit_code == 2 and "nowhere" in result.output and "download: true" in result.output


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    from PIL import Image

    root = tmp_path_factory.mktemp("images")
    for cls, colour in (("red", (255, 0, 0)), ("blue", (0, 0, 255))):
        (root / cls).mkdir()
        for i in range(6):
            Image.new("RGB", (20 + i, 24), colour).save(root / cls / f"{i}.png")
    return root


def test_image_folder_loads_resizes_and_labels_by_subfolder(tiny_folder):
    data = make_dataset("image_folder", {"root": str(tiny_folder), "size": 16})
    assert data.sample_shape == (3, 16, 16) and data.num_modes == 2
    assert len(data.images) + len(data.test[0]) == 12
    red = data.images[data.labels == data.classes - 1]  # 'red' sorts after 'blue'
    assert torch.allclose(red[:, 0], torch.ones_like(red[:, 0]), atol=1e-2)


def test_image_folder_errors(tmp_path, write_suite, invoke):
    doc = {"name": "f", "datasets": [{"name": "image_folder", "root": str(tmp_path)}], "variants": ["lsgan"]}
    result = invoke("run", write_suite(doc))
    assert result.exit_code == 2 and "image_folder: no images" in result.output
    doc["datasets"] = [{"name": "digits", "size": 20}]
    result = invoke("run", write_suite(doc))
    assert result.exit_code == 2 and "image size must be one of 16, 28, 32, 64" in result.output


@pytest.mark.parametrize("arch, size", [("dcgan", 16), ("dcgan", 28), ("dcgan", 32), ("dcgan", 64),
                                        ("resnet", 16), ("resnet", 32), ("resnet", 64)])
@pytest.mark.parametrize("spectral", ["none", "d", "both"])
def test_image_architecture_shapes_and_gradients(arch, size, spectral):
    g, d = build_models(arch, {"width": 8}, (3, size, size), 16, spectral)
    fake = g(torch.randn(4, 16))
    assert fake.shape == (4, 3, size, size) and fake.abs().max() <= 1
    out = d(fake)
    assert out.shape == (4, 1)
    out.sum().backward()
    assert all(p.grad is not None for p in g.parameters())


def test_dcgan_rejects_other_shapes():
    with pytest.raises(GanbenchError, match="dcgan needs square images"):
        build_models("dcgan", {}, (2,), 8, "none")


def test_digits_classifier_and_known_answers():
    data = make_dataset("digits", {"size": 16})
    assert data.describe()["classifier_test_accuracy"] > 0.9
    real = data.test[0]  # held-out digits: every class present, mostly confident
    stats = mode_statistics(*data.assign_modes(real), 10)
    assert stats["modes_covered"] == 10 and stats["high_quality"] > 0.8 and stats["mode_kl"] < 0.05
    sevens = data.images[data.labels == 7][:50]  # a generator that only draws sevens
    stats = mode_statistics(*data.assign_modes(sevens), 10)
    assert stats["mode_coverage"] == pytest.approx(0.1) and stats["mode_kl"] == pytest.approx(math.log(10))
    assert stats["dominant_mode"] == 7


def test_processes_that_want_the_same_classifier_at_once_train_it_once(tmp_path):
    """The first workers of a parallel run ask for the classifier together: one trains it, the others load it."""
    import subprocess
    import sys

    script = ("import torch; from ganbench.data.classifier import cached_classifier; g = torch.Generator()."
              "manual_seed(0); x = torch.rand(64, 1, 8, 8, generator=g) * 2 - 1; y = torch.arange(64) % 2; "
              "print(cached_classifier({'dataset': 'race'}, (x, y), (x, y), 2, epochs=1)[1])")
    env = {**os.environ, "GANBENCH_CACHE": str(tmp_path)}
    racers = [subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [racer.communicate(timeout=120) for racer in racers]
    assert all(racer.returncode == 0 for racer in racers), outputs
    assert sum("training the evaluation classifier" in err for _, err in outputs) == 1, outputs
    assert len({out for out, _ in outputs}) == 1  # every process got the same classifier
    assert len(list((tmp_path / "classifiers").glob("*.pt"))) == 1


def test_stacked_digits_has_1000_modes():
    data = make_dataset("stacked_digits", {"size": 16})
    batch = data.sample(2000, torch.Generator().manual_seed(0))
    assert batch.shape == (2000, 3, 16, 16) and data.num_modes == 1000
    mode, good = data.assign_modes(batch)
    assert good.float().mean() > 0.8 and mode.max() < 1000
    assert mode[good].unique().numel() > 700  # 2000 uniform draws over 1000 modes cover about 86 % of them


def test_stacked_mnist_loads_from_torchvision_files_with_1000_modes(tiny_mnist):
    data = make_dataset("stacked_mnist", {"root": str(tiny_mnist), "size": 16})
    assert data.sample_shape == (3, 16, 16) and data.num_modes == 1000
    batch = data.sample(8, torch.Generator().manual_seed(0))
    assert batch.shape == (8, 3, 16, 16)
    # three images as the channels: the mode is the classifier's three readings as a three-digit number
    picks = data.images[[data.labels.tolist().index(c) for c in (7, 0, 4)]]  # (3, 1, 16, 16)
    read, _ = ImageDataset.assign_modes(data, picks)  # each image alone
    mode, _ = data.assign_modes(picks.squeeze(1).unsqueeze(0))
    assert mode.tolist() == [100 * read[0] + 10 * read[1] + read[2]]


def test_classifier_fid_separates_real_from_noise():
    from ganbench.metrics import EvalContext
    from ganbench.metrics.fid import FID, KID
    from ganbench.recipes.objectives import make_objective

    data = make_dataset("digits", {"size": 16})
    cpu = torch.device("cpu")
    real, other_real = data.test[0][:150], data.test[0][150:300]
    noise = torch.rand(150, 1, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    fid = lambda fake: FID(data, make_objective("least_squares", {}), cpu).evaluate(  # noqa: E731
        EvalContext(1, fake, real, data))["fid"]
    assert fid(other_real) * 5 < fid(noise)
    kid = KID(data, make_objective("least_squares", {}), cpu)
    assert kid.evaluate(EvalContext(1, other_real, real, data))["kid"] < kid.evaluate(
        EvalContext(1, noise, real, data))["kid"]


def test_inception_weights_missing_is_a_clear_error(tmp_path, write_suite, invoke):
    doc = {"name": "i", "datasets": [{"name": "digits", "inception_weights": str(tmp_path / "w.pth")}],
           "variants": ["lsgan"], "train": {"steps": 2, "eval_every": 1, "batch_size": 4, "eval_samples": 10}}
    result = invoke("run", write_suite(doc), "--out", tmp_path)
    assert result.exit_code == 2 and "inception_weights: no file at" in result.output


def test_digits_suite_in_short_form(tmp_path):
    doc = yaml.safe_load((Path(__file__).parent.parent / "suites" / "digits.yaml").read_text())
    doc["seeds"] = 1
    doc["train"] = {**doc["train"], "steps": 6, "eval_every": 3, "log_every": 3, "eval_samples": 100}
    result = run_suite(parse_suite(doc), out=tmp_path)
    assert [r["status"] for r in result.runs] == ["completed"] * 7
    from ganbench.report.render import write_report

    text = (write_report(result.root) / "report.md").read_text()
    assert "kid ↓ IQM [95% CI]" in text and "kid: kernel inception distance" in text  # ranked and tabulated


def test_classic_mlp_gan_on_images(tmp_path):
    """The original MNIST recipe's MLP generator (tanh output) and discriminator work on image data too."""
    doc = {"name": "mlp-img", "datasets": [{"name": "digits", "size": 16}], "variants": ["vanilla"],
           "architecture": {"name": "mlp", "width": 32, "depth": 2, "output": "tanh"},
           "train": {"steps": 4, "batch_size": 8, "eval_every": 2, "log_every": 2, "z_dim": 8, "eval_samples": 50}}
    result = run_suite(parse_suite(doc), out=tmp_path)
    assert result.runs[0]["status"] == "completed"


def test_evaluators_place_the_classifier_on_the_samples_device():
    """Mode assignment and FID features each get the classifier on their own device, whatever collectors a run
    lists (``meta`` stands in for a GPU: a CPU module fed meta tensors raises)."""
    from ganbench.metrics.fid import feature_extractor

    data = make_dataset("digits", {"size": 16})
    meta = torch.device("meta")
    label, good = data.assign_modes(data.sample(8, torch.Generator().manual_seed(0)).to(meta))
    assert label.device == meta and good.device == meta and label.shape == (8,)
    features, _ = feature_extractor(data, meta)
    assert {p.device for p in features.parameters()} == {meta}
    cpu_model, _ = data.classifier()
    assert {p.device.type for p in cpu_model.parameters()} == {"cpu"}  # the shared CPU copy never moves


def test_noise_the_classifier_is_sure_of_is_no_member_of_a_mode():
    """Binary noise draws confident labels from the digits classifier, but lies far from every digit in its
    feature space: mode coverage counts only samples inside a real class's k-NN manifold."""
    data = make_dataset("digits", {"size": 16})
    noise = torch.randint(0, 2, (500, 1, 16, 16), generator=torch.Generator().manual_seed(0)).float() * 2 - 1
    model = data.classifier_on(torch.device("cpu"))
    with torch.no_grad():
        sure = (model(noise).softmax(1).max(1).values >= data.confidence).float().mean()
    _, good = data.assign_modes(noise)
    assert sure > 0.3 and good.float().mean() < 0.02  # measured: 53 % sure of it, 0.8 % counted
    held_out, labels = data.test
    mode, good = data.assign_modes(held_out)
    assert good.float().mean() > 0.7 and (mode[good] == labels[good]).float().mean() > 0.95



def test_a_training_fraction_limits_the_batches_not_the_evaluation():

    full = make_dataset("digits", {"size": 16})
    tenth = make_dataset("digits", {"size": 16, "train_fraction": 0.1}, "datasets[0]")
    pool = tenth.pool
    assert len(pool) == pytest.approx(0.1 * len(full.images), abs=10)
    assert set(full.labels[pool].tolist()) == set(range(10))  # stratified: every class keeps images
    assert tenth.images is full.images  # the whole set, shared; only the pool is new
    batch = tenth.sample(500, torch.Generator().manual_seed(1))
    allowed = {tuple(x.flatten().tolist()) for x in full.images[pool]}
    assert all(tuple(x.flatten().tolist()) in allowed for x in batch)
    # evaluation draws from every image, and exactly as the unlimited set's training draws would
    assert torch.equal(tenth.reference(64, torch.Generator().manual_seed(2)),
                       full.sample(64, torch.Generator().manual_seed(2)))
    assert tenth.describe()["trained_on_images"] == len(pool)
    with pytest.raises(GanbenchError, match=r"datasets\[0\]\.train_fraction"):
        make_dataset("digits", {"size": 16, "train_fraction": 1.5}, "datasets[0]")
    with pytest.raises(GanbenchError, match="train_fraction applies to image datasets"):
        make_dataset("ring", {"train_fraction": 0.5})
