"""The dataset interface and registry."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections import OrderedDict
from typing import Any

import torch
from torch import Tensor

from ganbench import validate as v
from ganbench.catalog import DATASETS
from ganbench.errors import GanbenchError


class Dataset(ABC):
    """A source of real samples. ``sample_shape`` is one sample's shape, e.g. (2,) for 2D toy data."""

    sample_shape: tuple[int, ...]
    default_architecture: dict[str, Any]
    num_modes: int | None = None  # K, where the modes are known (mixture components, classes)
    modes: Tensor | None = None  # (K, 2) centres, for 2D mixtures (drawn under the sample scatter)
    mode_std: float | None = None

    @abstractmethod
    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """n real training samples, (n, *sample_shape), drawn with ``generator`` (CPU) so runs are reproducible."""

    def reference(self, n: int, generator: torch.Generator) -> Tensor:
        """n real samples that evaluation compares generated ones with: the training samples' distribution,
        except where training sees only a fraction of the data (``limited``), whose evaluation reads all of it."""
        return self.sample(n, generator)

    has_held_out = False  # whether held_out and training_set exist: a finite training set and reals kept out of it

    def held_out(self, n: int, generator: torch.Generator) -> Tensor:
        """n real samples that no training batch ever draws from (a test split), drawn with ``generator``."""
        raise GanbenchError(f"{type(self).__name__} has no held-out reals: its training samples are drawn afresh "
                            "each batch, so there is nothing for D to overfit or G to copy")

    def training_set(self) -> Tensor:
        """Every sample a training batch can draw, (M, *sample_shape)."""
        raise GanbenchError(f"{type(self).__name__} has no finite training set")

    def limited(self, fraction: float) -> Dataset:
        """This dataset training on a fixed ``fraction`` of its samples (the ``train_fraction`` parameter)."""
        raise GanbenchError(f"train_fraction applies to image datasets (a finite set of images), not "
                            f"{type(self).__name__}")

    def assign_modes(self, samples: Tensor) -> tuple[Tensor, Tensor]:
        """For each sample (N, *sample_shape): the mode it belongs to (N,) and whether it is a high-quality
        member of it (N,) bool. Only datasets with ``num_modes`` implement it."""
        raise GanbenchError(f"{type(self).__name__} has no known modes")

    num_classes: int | None = None  # K, where each sample has a class label a conditional GAN can take

    def sample_labeled(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """n real training samples and their class labels (n,) int64: the samples ``sample`` draws with the same
        generator state (one draw, read with its labels)."""
        raise GanbenchError(f"{type(self).__name__} has no class labels for a conditional GAN to take")

    def reference_labeled(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """``reference``'s n samples with their class labels (n,)."""
        raise GanbenchError(f"{type(self).__name__} has no class labels for a conditional GAN to take")

    def evaluation_reals(self, n: int, generator: torch.Generator, labeled: bool,
                         device: torch.device | str = "cpu") -> tuple[Tensor, Tensor | None]:
        """The fixed real samples evaluation compares with (``reference``'s), and their labels where ``labeled``
        (a conditional run's), else None; on ``device``."""
        real, labels = self.reference_labeled(n, generator) if labeled else (self.reference(n, generator), None)
        return real.to(device), None if labels is None else labels.to(device)

    def even_labels(self, n: int) -> Tensor:
        """n evaluation labels, every class in turn (0, 1, ..., K - 1, 0, ...): each class evenly."""
        return torch.arange(n) % self.num_classes

    def label_prior(self) -> Tensor:
        """(K,) the share of each class among the training samples: what a generator's labels are drawn from."""
        raise GanbenchError(f"{type(self).__name__} has no class labels for a conditional GAN to take")

    has_class_logits = False  # whether class_logits exists (classes, or Inception weights)

    def class_logits(self, device: torch.device) -> tuple[torch.nn.Module, str]:
        """A module from samples to class logits and its name, for the Inception Score."""
        raise GanbenchError(f"{type(self).__name__} has no classes")

    def describe(self) -> dict[str, Any]:
        """What the run's config should record about the data (e.g. the evaluation classifier's accuracy)."""
        return {}


_BUILT: OrderedDict[str, Dataset] = OrderedDict()  # the last few datasets built in this process
_KEEP = 4


def make_dataset(name: str, params: dict[str, Any], where: str = "") -> Dataset:
    """The dataset ``name`` with ``params``. Datasets are read-only once built (sampling takes the caller's
    generator), so one process reuses them: validating a suite and then training its runs loads MNIST once."""
    cls = DATASETS.get(name, where)
    if "train_fraction" in params:  # the whole set, built (and cached) once, with a training subset drawn from it
        rest = {k: value for k, value in params.items() if k != "train_fraction"}
        fraction = v.number(params["train_fraction"], f"{where or 'datasets'}.train_fraction", positive=True,
                            maximum=1.0)
        return make_dataset(name, rest, where).limited(fraction)
    try:
        key = json.dumps([name, f"{cls.__module__}.{cls.__qualname__}", params], sort_keys=True, default=str)
    except TypeError:  # keys of mixed types cannot be sorted: no valid parameters look like that
        raise GanbenchError(f"bad parameters for dataset {name!r} at {where or 'datasets'}: "
                            "mapping keys must be strings") from None
    if key in _BUILT:
        _BUILT.move_to_end(key)
        return _BUILT[key]
    try:
        dataset = cls(**params)
    except TypeError as exc:
        raise GanbenchError(f"bad parameters for dataset {name!r} at {where or 'datasets'}: {exc}") from None
    _BUILT[key] = dataset
    while len(_BUILT) > _KEEP:
        _BUILT.popitem(last=False)
    return dataset
