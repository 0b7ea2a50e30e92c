"""Read MNIST-style IDX files (MNIST, Fashion-MNIST) from their gzip archives.

The IDX header is parsed rather than skipped: magic number (two zero bytes, a type code, the
number of dimensions), then each dimension as a big-endian uint32. Checking it, and that the
payload is exactly as long as the dimensions say, catches a wrong or damaged file by name.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from gridscape.data.integrity import DataIntegrityError
from gridscape.data.raw import RawData

UBYTE = 0x08
IMAGE_SIZE = (28, 28)

MNIST_CLASSES = [str(digit) for digit in range(10)]
# The names and order torchvision gives for Fashion-MNIST labels 0..9.
FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """Decompress and parse one unsigned-byte IDX file with ``ndim`` dimensions."""
    try:
        data = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as error:
        raise DataIntegrityError(f"{path}: not a readable gzip file ({error})") from error
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataIntegrityError(f"{path}: {len(data)} bytes is too short for a {ndim}-dimensional IDX header")
    if data[0] != 0 or data[1] != 0 or data[2] != UBYTE or data[3] != ndim:
        raise DataIntegrityError(
            f"{path}: IDX magic number is {data[:4].hex()}, expected 0000{UBYTE:02x}{ndim:02x} "
            f"(unsigned bytes, {ndim} dimensions)"
        )
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape))
    if len(data) - header != expected:
        raise DataIntegrityError(
            f"{path}: IDX payload has {len(data) - header} bytes, expected {expected} for shape {shape}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()


def _read_pair(files: Mapping[str, Path], prefix: str, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 1, 28, 28) and int64 labels from ``<prefix>-images-idx3`` and ``<prefix>-labels-idx1``."""
    images_path = files[f"{prefix}-images-idx3-ubyte.gz"]
    labels_path = files[f"{prefix}-labels-idx1-ubyte.gz"]
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1).astype(np.int64)
    if images.shape[1:] != IMAGE_SIZE:
        raise DataIntegrityError(f"{images_path}: images are {images.shape[1:]}, expected {IMAGE_SIZE}")
    if len(labels) != len(images):
        raise DataIntegrityError(f"{labels_path}: {len(labels)} labels, expected {len(images)} (one per image)")
    if len(labels) and labels.max() >= num_classes:
        raise DataIntegrityError(f"{labels_path}: label {labels.max()}, expected labels below {num_classes}")
    return images[:, None], labels


def read_mnist_like(files: Mapping[str, Path], classes: list[str]) -> RawData:
    """The official 60000/10000 train/test split of an MNIST-format dataset."""
    train_images, train_labels = _read_pair(files, "train", len(classes))
    test_images, test_labels = _read_pair(files, "t10k", len(classes))
    return RawData(train_images, train_labels, test_images, test_labels, list(classes))
