"""Datasets: official archives, checksummed downloads, and prepared ``.npz`` files.

Nothing here unpickles: CIFAR is read from its binary release, MNIST-style data from IDX files,
and prepared data is stored as plain arrays read back with ``allow_pickle=False``.
"""

from gridscape.data.download import download
from gridscape.data.integrity import DataIntegrityError
from gridscape.data.prepared import PreparedData, load_prepared, prepare
from gridscape.data.registry import DATASETS, Archive, DatasetSpec

__all__ = [
    "DATASETS",
    "Archive",
    "DataIntegrityError",
    "DatasetSpec",
    "PreparedData",
    "download",
    "load_prepared",
    "prepare",
]
