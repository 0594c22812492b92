"""Image datasets. Every set is held in memory as (N, C, H, W) float32 in [-1, 1] with class labels, and
evaluated through its domain classifier (ganbench.data.classifier): classifier FID/KID features and class
modes. ``inception_weights: PATH`` switches FID/KID to Inception features from local weights.

- ``digits``: scikit-learn's 8x8 digits (shipped inside the package: works offline), upsampled to ``size``.
- ``stacked_digits``: three digits stacked as colour channels: 1000 modes (Stacked MNIST, Metz et al. 2017).
- ``mnist``, ``fashion_mnist``, ``cifar10``: torchvision sets from a local ``root``; ``download: true`` fetches.
- ``image_folder``: any directory of images, resized; class subfolders give modes.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganbench.data.base import DATASETS, Dataset
from ganbench.data.classifier import Classifier, ClassifierFeatures, cached_classifier
from ganbench.errors import GanbenchError

SIZES = (16, 28, 32, 64)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"}


def _to_unit(images: Tensor, size: int) -> Tensor:
    """(N, C, H, W) in [0, 1] -> resized to size x size, in [-1, 1], float32."""
    images = images.float()
    if images.shape[-1] != size or images.shape[-2] != size:
        images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return (images.clamp(0, 1) * 2 - 1).contiguous()


def _check_size(size: Any) -> int:
    if size not in SIZES:
        raise GanbenchError(f"image size must be one of {', '.join(map(str, SIZES))}; got {size!r}")
    return size


def _check_inception(weights: str | None) -> None:
    """Fail at suite validation, not mid-run, when Inception features cannot be had."""
    if weights is None:
        return
    path = Path(weights).expanduser()
    if not path.is_file():
        raise GanbenchError(f"inception_weights: no file at {path} (the FID Inception weights, "
                            "pt_inception-2015-12-05-6726825d.pth from the torch-fidelity releases)")
    try:
        import torch_fidelity  # noqa: F401
    except ImportError:
        raise GanbenchError("inception_weights: Inception features need torch-fidelity (pip install "
                            "torch-fidelity); without it, FID uses the domain classifier") from None


class InceptionFeatures(nn.Module):
    """torchmetrics' FID Inception-v3 from local weights: [-1, 1] images -> the 2048 pool features, or with
    ``output="logits_unbiased"`` the 1008 class logits (for the Inception Score), in float64."""

    def __init__(self, weights: str, output: str = "2048") -> None:
        super().__init__()
        from torchmetrics.image.fid import NoTrainInceptionV3

        path = Path(weights).expanduser()
        self.inception = NoTrainInceptionV3(name="inception-v3-compat", features_list=[output],
                                            feature_extractor_weights_path=str(path))
        self.num_features = 2048 if output == "2048" else 1008

    @torch.no_grad()
    def forward(self, x: Tensor) -> Tensor:
        x = ((x.float() + 1) * 127.5).clamp(0, 255).to(torch.uint8)
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        return self.inception(x).reshape(x.shape[0], -1).double()


class ImageDataset(Dataset):
    """Images with class labels, a train/test split for the evaluation classifier, and class modes."""

    default_architecture = {"name": "dcgan"}
    # A sample is a high-quality member of a class when the classifier is ``confidence`` sure of it *and* its
    # features lie inside the k-NN ball of one of that class's real images (the precision test of Kynkaanniemi
    # et al. 2019, per class): a classifier can be sure of noise it never saw, but noise is far from every digit.
    confidence = 0.9
    manifold_k = 3
    manifold_per_class = 300  # real images per class that span its manifold (a seeded choice)
    classifier_epochs = 10

    def __init__(self, train: tuple[Tensor, Tensor], test: tuple[Tensor, Tensor], classes: int,
                 key: dict[str, Any], inception_weights: str | None = None) -> None:
        _check_inception(inception_weights)
        self.images, self.labels = train
        self.test = test
        self.classes = classes
        self.key = key
        self.inception_weights = inception_weights
        self.sample_shape = tuple(self.images.shape[1:])
        self.num_modes = classes if classes >= 2 else None
        self.num_classes = self.num_modes  # a conditional GAN's labels are the classes (stacked sets have none)
        self._classifier = None
        self._placed: dict[torch.device, Classifier] = {}
        self._manifolds: dict[torch.device, tuple[Tensor, Tensor, Tensor]] = {}
        self._inception: dict[tuple[torch.device, str], InceptionFeatures] = {}

    pool: Tensor | None = None  # indices of the training images that batches come from (None: all; see limited)
    per_sample = 1  # images drawn per sample (three for stacked channels)

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        return self._draw(n, generator, self.pool)

    def reference(self, n: int, generator: torch.Generator) -> Tensor:
        return self._draw(n, generator, None)

    def sample_labeled(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        return self._draw(n, generator, self.pool, labeled=True)

    def reference_labeled(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        return self._draw(n, generator, None, labeled=True)

    def label_prior(self) -> Tensor:
        labels = self.labels if self.pool is None else self.labels[self.pool]
        counts = torch.bincount(labels, minlength=self.classes).double()
        return counts / counts.sum()

    def _draw(self, n: int, generator: torch.Generator, pool: Tensor | None, images: Tensor | None = None,
              labeled: bool = False):
        """n images (and with ``labeled``, their labels) drawn uniformly from ``images`` (default: the training
        images), or from the indices ``pool`` of them."""
        if labeled and self.per_sample != 1:
            raise GanbenchError(f"{type(self).__name__} stacks {self.per_sample} images a sample: it has no class "
                                "labels for a conditional GAN (use the one-channel set)")
        images = self.images if images is None else images
        shape = (n,) if self.per_sample == 1 else (n, self.per_sample)
        idx = torch.randint(len(images) if pool is None else len(pool), shape, generator=generator)
        idx = idx if pool is None else pool[idx]
        drawn = images[idx]
        if labeled:
            return drawn, self.labels[idx]
        return drawn if self.per_sample == 1 else drawn.squeeze(2)  # (n, 3, 1, H, W) -> (n, 3, H, W)

    has_held_out = True

    def held_out(self, n: int, generator: torch.Generator) -> Tensor:
        """Drawn from the test split, which the evaluation classifier is tested on and no batch draws from."""
        return self._draw(n, generator, None, self.test[0])

    def training_set(self) -> Tensor:
        """The training images batches draw from: the limited pool, or all of them (one image a sample; a stacked
        set's samples are combinations, so it has none to copy)."""
        if self.per_sample != 1:
            raise GanbenchError(f"{type(self).__name__} stacks {self.per_sample} images a sample: its training set "
                                "is every combination, too many to compare samples with")
        return self.images if self.pool is None else self.images[self.pool]

    def limited(self, fraction: float) -> ImageDataset:
        """A copy whose training batches come from a fixed, class-stratified ``fraction`` of the training images
        (a seeded choice, at least one per class); evaluation -- its real samples, the classifier, the modes --
        still reads them all, as the limited-data experiments of DiffAugment and ADA evaluate on the full set."""
        generator = torch.Generator().manual_seed(0)
        keep = []
        for label in self.labels.unique():
            members = (self.labels == label).nonzero().flatten()
            count = max(1, round(fraction * len(members)))
            keep.append(members[torch.randperm(len(members), generator=generator)[:count]])
        limited = copy.copy(self)
        limited.pool = torch.cat(keep).sort().values
        return limited

    def classifier(self):
        """The trained classifier (on the CPU) and its test accuracy."""
        if self._classifier is None:
            self._classifier = cached_classifier(self.key, (self.images, self.labels), self.test, self.classes,
                                                 self.classifier_epochs)
        return self._classifier

    def classifier_on(self, device: torch.device) -> Classifier:
        """The classifier on ``device``: one copy per device, so an evaluator never depends on another having
        moved a shared module (the dataset is shared by every run in a process)."""
        device = torch.device(device)
        if device not in self._placed:
            model, _ = self.classifier()
            self._placed[device] = model if device == torch.device("cpu") else copy.deepcopy(model).to(device)
        return self._placed[device]

    def _class_manifolds(self, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
        """Features (M, F), labels (M,) and k-NN radii (M,) of up to ``manifold_per_class`` real training images
        of each class, on ``device``."""
        device = torch.device(device)
        if device not in self._manifolds:  # built on the CPU once, then copied to each device
            cpu = torch.device("cpu")
            if cpu not in self._manifolds:
                order = torch.randperm(len(self.labels), generator=torch.Generator().manual_seed(0))
                keep = torch.cat([order[self.labels[order] == c][: self.manifold_per_class]
                                  for c in range(self.classes)])
                with torch.no_grad():
                    features = self.classifier_on(cpu).conv(self.images[keep]).double()
                labels = self.labels[keep]
                radii = torch.zeros(len(keep), dtype=torch.float64)
                for c in range(self.classes):
                    idx = (labels == c).nonzero().squeeze(1)
                    k = min(self.manifold_k, len(idx) - 1)
                    if k >= 1:  # the k-th neighbour other than the image itself
                        radii[idx] = torch.cdist(features[idx], features[idx]).kthvalue(k + 1, dim=1).values
                self._manifolds[cpu] = features, labels, radii
            self._manifolds[device] = tuple(t.to(device) for t in self._manifolds[cpu])
        return self._manifolds[device]

    @torch.no_grad()
    def assign_modes(self, samples: Tensor) -> tuple[Tensor, Tensor]:
        """The class of each sample, and whether it is a high-quality member of it (see ``confidence``)."""
        model = self.classifier_on(samples.device)
        features = model.features(samples)
        confidence, label = model.head(features).softmax(1).max(dim=1)
        good = torch.isfinite(samples.flatten(1)).all(1)
        if self.confidence == 0:  # every sample counts (PacGAN's stacked-MNIST protocol)
            return label, good
        real, real_label, radii = self._class_manifolds(samples.device)
        inside = (torch.cdist(features.double(), real) <= radii) & (label[:, None] == real_label)
        return label, good & (confidence >= self.confidence) & inside.any(1)

    def inception_on(self, device: torch.device, output: str) -> InceptionFeatures:
        """Inception from the local weights on ``device``, loaded once per device and output in a process (FID,
        KID and the manifold metrics read the same one)."""
        key = (torch.device(device), output)
        if key not in self._inception:
            self._inception[key] = InceptionFeatures(self.inception_weights, output).to(key[0])
        return self._inception[key]

    def fid_features(self, device: torch.device) -> tuple[nn.Module, str]:
        if self.inception_weights:
            return self.inception_on(device, "2048"), "inception-v3 pool3 (torchmetrics, local weights)"
        model = self.classifier_on(device)
        return ClassifierFeatures(model), f"classifier:{self.key['dataset']} (penultimate layer, 128-d)"

    @property
    def has_class_logits(self) -> bool:
        return bool(self.inception_weights) or self.num_modes == self.classes  # not without classes, not stacked

    def class_logits(self, device: torch.device) -> tuple[nn.Module, str]:
        """What the Inception Score reads: Inception's logits from local weights, else the domain classifier's."""
        if self.inception_weights:
            return self.inception_on(device, "logits_unbiased"), "inception-v3 logits (local weights)"
        name = f"classifier:{self.key['dataset']} ({self.classes} classes)"
        return ClassifierLogits(self.classifier_on(device)), name

    def describe(self) -> dict[str, Any]:
        _, accuracy = self.classifier()
        return {"classifier_test_accuracy": round(accuracy, 4), "classes": self.classes,
                "train_images": len(self.images), "mode_confidence": self.confidence,
                "mode_manifold": {"k": self.manifold_k, "per_class": self.manifold_per_class},
                "held_out_images": len(self.test[0]),
                **({} if self.pool is None else {"trained_on_images": len(self.pool)})}


class ClassifierLogits(nn.Module):
    def __init__(self, classifier: Classifier) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(x).double()


def _split(images: Tensor, labels: Tensor, test_fraction: float = 0.2) -> tuple[tuple, tuple]:
    """A fixed, seeded split: the same images are held out for the classifier's test on every machine."""
    perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    n_test = int(len(images) * test_fraction)
    test, train = perm[:n_test], perm[n_test:]
    return (images[train], labels[train]), (images[test], labels[test])


def _sklearn_digits(size: int) -> tuple[Tensor, Tensor]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.from_numpy(digits.images).float().unsqueeze(1) / 16.0  # (1797, 1, 8, 8) in [0, 1]
    return _to_unit(images, size), torch.from_numpy(digits.target).long()


@DATASETS.register("digits")
class Digits(ImageDataset):
    """scikit-learn's handwritten digits (1797 images, 10 classes), upsampled from 8x8 to ``size``."""

    classifier_epochs = 30

    def __init__(self, size: int = 16, inception_weights: str | None = None) -> None:
        images, labels = _sklearn_digits(_check_size(size))
        super().__init__(*_split(images, labels), 10, {"dataset": "digits", "size": size}, inception_weights)


class StackedChannels(ImageDataset):
    """Three independent images of a one-channel, ten-class set as the R, G and B channels: 1000 modes (the
    stacked-MNIST protocol of Metz et al. 2017, VEEGAN and PacGAN). The classifier reads each channel
    separately; a sample's mode is 100 a + 10 b + c, and it is high quality when the classifier is at least
    ``confidence`` sure of all three (0 counts every sample, as PacGAN's stacked-MNIST evaluation does)."""

    def _stack(self, confidence: float) -> None:
        if not isinstance(confidence, (int, float)) or not 0 <= confidence < 1:
            raise GanbenchError(f"confidence must be in [0, 1), got {confidence!r}")
        self.sample_shape = (3, *self.sample_shape[1:])
        self.num_modes = self.classes ** 3
        self.num_classes = None
        self.confidence = float(confidence)

    per_sample = 3

    def assign_modes(self, samples: Tensor) -> tuple[Tensor, Tensor]:
        n = samples.shape[0]
        label, good = super().assign_modes(samples.reshape(n * 3, 1, *samples.shape[2:]))  # one image a channel
        label, good = label.view(n, 3), good.view(n, 3)
        mode = (label[:, 0] * self.classes + label[:, 1]) * self.classes + label[:, 2]
        return mode, good.all(dim=1)

    def fid_features(self, device: torch.device) -> tuple[nn.Module, str]:
        if self.inception_weights:
            return super().fid_features(device)
        model = self.classifier_on(device)
        return ChannelFeatures(ClassifierFeatures(model)), f"classifier:{self.key['dataset']} per channel (3 x 128-d)"

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "modes": self.num_modes}


@DATASETS.register("stacked_digits")
class StackedDigits(StackedChannels):
    """scikit-learn's digits, stacked three to an image: 1000 modes, offline."""

    classifier_epochs = 30

    def __init__(self, size: int = 16, inception_weights: str | None = None, confidence: float = 0.9) -> None:
        images, labels = _sklearn_digits(_check_size(size))
        super().__init__(*_split(images, labels), 10, {"dataset": "digits", "size": size}, inception_weights)
        self._stack(confidence)


class ChannelFeatures(nn.Module):
    """Per-channel features, concatenated: (N, 3, H, W) -> (N, 3 * F)."""

    def __init__(self, features: ClassifierFeatures) -> None:
        super().__init__()
        self.features = features
        self.num_features = 3 * features.num_features

    def forward(self, x: Tensor) -> Tensor:
        n = x.shape[0]
        return self.features(x.reshape(n * 3, 1, *x.shape[2:])).reshape(n, -1)


def _torchvision(cls_name: str, root: str, download: bool, train: bool):
    import torchvision.datasets as tvd

    cls = getattr(tvd, cls_name)
    try:
        return cls(root=str(Path(root).expanduser()), train=train, download=download)
    except RuntimeError as exc:
        raise GanbenchError(
            f"{cls_name} not found under root {root!r} ({exc}). Put the files where torchvision expects them "
            f"({root}/{getattr(cls, 'base_folder', cls_name + '/raw')}/), or add download: true to the dataset to "
            "fetch it") from None
    except OSError as exc:
        raise GanbenchError(f"cannot read {cls_name} under root {root!r}: {exc}") from None


class TorchvisionImages(ImageDataset):
    torchvision_class = ""

    def __init__(self, root: str = "data", download: bool = False, size: int | None = None,
                 inception_weights: str | None = None) -> None:
        if not isinstance(download, bool):
            raise GanbenchError(f"download must be true or false, got {download!r}")
        sets = [_torchvision(self.torchvision_class, root, download, train) for train in (True, False)]
        arrays = []
        for ds in sets:
            data = torch.as_tensor(ds.data)
            data = data.unsqueeze(1) if data.dim() == 3 else data.permute(0, 3, 1, 2)  # (N, C, H, W) uint8
            arrays.append((data, torch.as_tensor(ds.targets).long()))
        size = _check_size(size if size is not None else arrays[0][0].shape[-1])
        (train_x, train_y), (test_x, test_y) = ((_to_unit(x / 255.0, size), y) for x, y in arrays)
        key = {"dataset": self.torchvision_class, "root": str(Path(root).expanduser().resolve()), "size": size,
               "n": len(train_x)}
        super().__init__((train_x, train_y), (test_x, test_y), 10, key, inception_weights)


@DATASETS.register("mnist")
class MNIST(TorchvisionImages):
    torchvision_class = "MNIST"
    classifier_epochs = 2


@DATASETS.register("stacked_mnist")
class StackedMNIST(StackedChannels, MNIST):
    """MNIST stacked three to an image: 1000 modes (where MNIST is present, or with download: true)."""

    def __init__(self, root: str = "data", download: bool = False, size: int | None = None,
                 inception_weights: str | None = None, confidence: float = 0.9) -> None:
        super().__init__(root, download, size, inception_weights)
        self._stack(confidence)


@DATASETS.register("fashion_mnist")
class FashionMNIST(TorchvisionImages):
    torchvision_class = "FashionMNIST"
    classifier_epochs = 3


@DATASETS.register("cifar10")
class CIFAR10(TorchvisionImages):
    torchvision_class = "CIFAR10"
    classifier_epochs = 5


@DATASETS.register("image_folder")
class ImageFolder(ImageDataset):
    """Every image under ``root`` (recursively), resized to ``size``; images in class subfolders
    (``root/<class>/*.png``) give those classes as modes."""

    def __init__(self, root: str, size: int = 32, channels: int = 3, inception_weights: str | None = None) -> None:
        from PIL import Image

        base = Path(root).expanduser()
        files = sorted(p for p in base.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES) if base.is_dir() else []
        if not files:
            raise GanbenchError(f"image_folder: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) under root {root!r}")
        if channels not in (1, 3):
            raise GanbenchError(f"image_folder channels must be 1 or 3, got {channels!r}")
        size = _check_size(size)
        classes = sorted({p.parent.relative_to(base).as_posix() for p in files})
        mode = "L" if channels == 1 else "RGB"
        tensors = []
        for p in files:
            with Image.open(p) as image:
                image = image.convert(mode).resize((size, size), Image.BICUBIC)
                tensors.append(torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
                               .view(size, size, channels).permute(2, 0, 1))
        images = _to_unit(torch.stack(tensors) / 255.0, size)
        labels = torch.tensor([classes.index(p.parent.relative_to(base).as_posix()) for p in files])
        key = {"dataset": "image_folder", "root": str(base.resolve()), "size": size, "n": len(files)}
        super().__init__(*_split(images, labels), len(classes), key, inception_weights)

    def fid_features(self, device: torch.device) -> tuple[nn.Module, str]:
        if self.num_modes is None and not self.inception_weights:  # no classes: no classifier to train
            return PixelFeatures(self.sample_shape), "pixels downsampled to 8x8"
        return super().fid_features(device)

    def describe(self) -> dict[str, Any]:
        return super().describe() if self.num_modes is not None else {"train_images": len(self.images)}


class PixelFeatures(nn.Module):
    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.num_features = shape[0] * 64

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(x.float(), 8).flatten(1).double()
