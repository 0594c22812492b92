"""Datasets: each samples seeded batches and tells evaluation what it needs (true modes, feature space)."""

from ganbench.data import toy  # noqa: F401  (registers ring and grid)
from ganbench.data.base import DATASETS, Dataset, make_dataset

__all__ = ["DATASETS", "Dataset", "make_dataset"]
