"""The evaluation classifier of an image domain: a small CNN trained deterministically on the dataset's
training split at first use and cached on disk (``$GANBENCH_CACHE``, default ``~/.cache/ganbench``), keyed
by the dataset and its settings. Its penultimate layer gives FID/KID features ("classifier FID"); its
predictions give class-mode coverage. Its test accuracy goes into every run's config."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

try:
    import fcntl  # POSIX: the lock that lets one of several processes train the classifier
except ImportError:  # Windows
    fcntl = None

VERSION = 2  # bump when the architecture or the training recipe changes: old caches are then ignored
FEATURES = 128


class Classifier(nn.Module):
    """Conv-conv-linear; ``features`` remembers its last two inputs, because one evaluation asks for the same
    batch's features three times (FID, KID, class coverage) and the real batch's every time. An input counts
    as seen when it is the same memory, seen the same way and unmodified -- so the per-channel reshapes of
    stacked digits hit the memo too."""

    def __init__(self, channels: int, size: int, classes: int) -> None:
        super().__init__()
        self._memo: list[tuple[Tensor, int, Tensor]] = []
        self.conv = nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(32 * (size // 4) ** 2, FEATURES), nn.ReLU())
        self.head = nn.Linear(FEATURES, classes)

    def features(self, x: Tensor) -> Tensor:  # (N, C, H, W) in [-1, 1] -> (N, FEATURES)
        if self.training or torch.is_grad_enabled():
            return self.conv(x)
        for seen, version, out in self._memo:
            if _same_view(seen, x) and version == x._version:
                return out
        out = torch.cat([self.conv(x[i:i + 1024]) for i in range(0, len(x), 1024)]) if len(x) else self.conv(x)
        self._memo = [(x, x._version, out)] + self._memo[:1]
        return out

    def forward(self, x: Tensor) -> Tensor:  # -> (N, classes) logits
        return self.head(self.features(x))


class ClassifierFeatures(nn.Module):
    """The classifier's penultimate layer as a torchmetrics feature extractor (float64 output)."""

    def __init__(self, classifier: Classifier) -> None:
        super().__init__()
        self.classifier = classifier
        self.num_features = FEATURES

    @torch.no_grad()
    def forward(self, x: Tensor) -> Tensor:
        return self.classifier.features(x).double()


def _same_view(a: Tensor, b: Tensor) -> bool:
    """The same elements of the same storage (``a`` is held in the memo, so its memory cannot be reused)."""
    return (a.data_ptr() == b.data_ptr() and a.shape == b.shape and a.stride() == b.stride()
            and a.dtype == b.dtype and a.device == b.device)


def cache_dir() -> Path:
    return Path(os.environ.get("GANBENCH_CACHE", Path.home() / ".cache" / "ganbench")) / "classifiers"


def _accuracy(model: Classifier, images: Tensor, labels: Tensor) -> float:
    model.eval()
    with torch.no_grad():
        correct = sum(int((model(images[i:i + 512]).argmax(1) == labels[i:i + 512]).sum())
                      for i in range(0, len(images), 512))
    return correct / max(len(images), 1)


def train_classifier(train: tuple[Tensor, Tensor], test: tuple[Tensor, Tensor], classes: int,
                     epochs: int) -> tuple[Classifier, float]:
    """Deterministic: a fixed seed for init and batch order, on the CPU."""
    images, labels = train
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = Classifier(images.shape[1], images.shape[2], classes)
    order = torch.Generator().manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    with torch.enable_grad():  # first use may come from an evaluation, under no_grad
        _fit(model, optimizer, images, labels, order, epochs)
    return model.eval(), _accuracy(model, *test)


def _fit(model: Classifier, optimizer, images: Tensor, labels: Tensor, order: torch.Generator, epochs: int) -> None:
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(images), generator=order)
        for i in range(0, len(images), 128):
            idx = perm[i:i + 128]
            loss = F.cross_entropy(model(images[idx]), labels[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()


def cached_classifier(key: dict[str, Any], train: tuple[Tensor, Tensor], test: tuple[Tensor, Tensor],
                      classes: int, epochs: int) -> tuple[Classifier, float]:
    """The classifier for ``key`` (a JSON-able description of the data), trained once and cached."""
    digest = hashlib.sha256(json.dumps({**key, "version": VERSION, "epochs": epochs}, sort_keys=True)
                            .encode()).hexdigest()[:16]
    path = cache_dir() / f"{digest}.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    # One process trains, the others wait for its file: the first workers of a parallel run all reach this at once
    with open(path.with_suffix(".lock"), "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if path.exists():
            state = torch.load(path, map_location="cpu", weights_only=True)
            model = Classifier(train[0].shape[1], train[0].shape[2], classes)
            model.load_state_dict(state["model"])
            return model.eval(), float(state["accuracy"])
        print(f"ganbench: training the evaluation classifier for {json.dumps(key, sort_keys=True)} once; it is "
              f"cached in {path.parent}", file=sys.stderr, flush=True)
        began = time.perf_counter()
        model, accuracy = train_classifier(train, test, classes, epochs)
        print(f"ganbench: classifier trained in {time.perf_counter() - began:.0f} s (test accuracy {accuracy:.3f})",
              file=sys.stderr, flush=True)
        buffer = io.BytesIO()
        torch.save({"model": model.state_dict(), "accuracy": accuracy, "key": json.dumps(key)}, buffer)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(buffer.getvalue())
        os.replace(tmp, path)  # atomic: a reader never sees half a file (and without fcntl, racers overwrite alike)
        return model, accuracy
