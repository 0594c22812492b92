"""Datasets: each samples seeded batches and tells evaluation what it needs (true modes, feature space)."""

from ganbench.data import dirac, images, toy  # noqa: F401  (register the built-in datasets)
from ganbench.data.base import DATASETS, Dataset, make_dataset

__all__ = ["DATASETS", "Dataset", "make_dataset"]
