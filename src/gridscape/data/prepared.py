"""Turn verified archives into one ``.npz`` per dataset, and read such a file back with checks.

The ``.npz`` holds only plain arrays (class names as a fixed-width unicode array, not objects),
so it always loads with ``allow_pickle=False``. Reading it back checks every array, because a
later step that silently trains on mislabeled or misshapen data gives wrong results, not errors.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from gridscape.data.cifar import read_cifar10, read_cifar100
from gridscape.data.digits import read_digits
from gridscape.data.integrity import DataIntegrityError, expected_md5, verify_md5
from gridscape.data.mnist import FASHION_MNIST_CLASSES, MNIST_CLASSES, read_mnist_like
from gridscape.data.registry import DatasetSpec, get_spec
from gridscape.data.raw import RawData
from gridscape.io import read_npz, write_npz

_READERS: dict[str, Callable[[Mapping[str, Path]], RawData]] = {
    "cifar10": read_cifar10,
    "cifar100": read_cifar100,
    "mnist": partial(read_mnist_like, classes=MNIST_CLASSES),
    "fashion_mnist": partial(read_mnist_like, classes=FASHION_MNIST_CLASSES),
    "digits": read_digits,
}

IMAGE_KEYS = ("train_images", "test_images")
LABEL_KEYS = ("train_labels", "test_labels")
REQUIRED_KEYS = (*IMAGE_KEYS, *LABEL_KEYS, "classes", "mean", "std")


@dataclass
class PreparedData:
    """A prepared dataset in memory: uint8 (N, C, H, W) images, int64 labels, names and statistics."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    classes: list[str]
    mean: np.ndarray
    std: np.ndarray


def prepare(
    name: str,
    files: Sequence[str | os.PathLike[str]],
    out_npz: str | os.PathLike[str],
    *,
    checksums: Mapping[str, str] | None = None,
) -> None:
    """Verify the downloaded archives of ``name`` again, read them and write ``out_npz`` atomically.

    ``files`` must be exactly the dataset's archives (none for digits), matched by file name;
    ``checksums`` overrides official md5 sums by file name, as in ``download``.
    """
    spec = get_spec(name)
    by_name = _match_files(spec, files)
    for archive in spec.archives:
        verify_md5(by_name[archive.filename], expected_md5(archive, checksums))
    raw = _READERS[spec.name](by_name)
    for key in IMAGE_KEYS:
        shape = getattr(raw, key).shape[1:]
        if shape != spec.in_shape:
            raise DataIntegrityError(f"{name}: {key} are {shape}, expected {spec.in_shape}")
    mean, std = channel_stats(raw.train_images)
    write_npz(
        out_npz,
        train_images=raw.train_images,
        train_labels=raw.train_labels,
        test_images=raw.test_images,
        test_labels=raw.test_labels,
        classes=np.array(raw.classes, dtype=str),
        mean=mean,
        std=std,
    )


def _match_files(spec: DatasetSpec, files: Sequence[str | os.PathLike[str]]) -> dict[str, Path]:
    """Map each expected archive name to its path, refusing missing, unknown or repeated names."""
    paths = [Path(f) for f in files]
    by_name = {path.name: path for path in paths}
    expected = {archive.filename for archive in spec.archives}
    if len(by_name) != len(paths) or set(by_name) != expected:
        raise ValueError(
            f"{spec.name}: got files {sorted(p.name for p in paths)}, expected exactly {sorted(expected)}"
        )
    return by_name


def channel_stats(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and (population) std of uint8 images scaled to [0, 1].

    Computed from a 256-bin histogram per channel: exact, and without a float copy of the
    whole training set (which for CIFAR would take over a gigabyte).
    """
    values = np.arange(256, dtype=np.float64) / 255.0
    means, stds = [], []
    for channel in range(images.shape[1]):
        counts = np.bincount(images[:, channel].ravel(), minlength=256).astype(np.float64)
        weights = counts / counts.sum()
        mean = float(weights @ values)
        means.append(mean)
        stds.append(float(np.sqrt(weights @ (values - mean) ** 2)))
    return np.array(means), np.array(stds)


def load_prepared(
    path: str | os.PathLike[str],
    expected_shape: tuple[int, int, int] | None = None,
    num_classes: int | None = None,
) -> PreparedData:
    """Read a prepared ``.npz`` and check it thoroughly.

    Any problem with the content (keys, dtypes, shapes, label range, the optional expected image
    shape and class count) raises DataIntegrityError naming the file and the array; a missing file
    raises FileNotFoundError.
    """
    path = Path(path)
    try:
        arrays = read_npz(path)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DataIntegrityError(f"{path}: not a readable .npz without pickled objects ({error})") from error

    def fail(key: str, problem: str) -> DataIntegrityError:
        return DataIntegrityError(f"{path}: array {key!r} {problem}")

    for key in REQUIRED_KEYS:
        if key not in arrays:
            raise fail(key, f"is missing; expected keys {list(REQUIRED_KEYS)}")

    for key in IMAGE_KEYS:
        images = arrays[key]
        if images.dtype != np.uint8:
            raise fail(key, f"has dtype {images.dtype}, expected uint8")
        if images.ndim != 4:
            raise fail(key, f"has shape {images.shape}, expected 4 dimensions (N, C, H, W)")
        if expected_shape is not None and images.shape[1:] != tuple(expected_shape):
            raise fail(key, f"holds images of shape {images.shape[1:]}, expected {tuple(expected_shape)}")
    if arrays["train_images"].shape[1:] != arrays["test_images"].shape[1:]:
        raise fail("test_images", f"holds images of shape {arrays['test_images'].shape[1:]}, "
                   f"expected the training shape {arrays['train_images'].shape[1:]}")  # fmt: skip

    classes = arrays["classes"]
    if classes.dtype.kind != "U" or classes.ndim != 1 or len(classes) == 0:
        raise fail("classes", f"has dtype {classes.dtype} and shape {classes.shape}, expected a non-empty 1-D unicode array")
    if num_classes is not None and len(classes) != num_classes:
        raise fail("classes", f"lists {len(classes)} classes, expected {num_classes}")

    for key, image_key in zip(LABEL_KEYS, IMAGE_KEYS):
        labels = arrays[key]
        if not np.issubdtype(labels.dtype, np.integer):
            raise fail(key, f"has dtype {labels.dtype}, expected an integer dtype")
        if labels.shape != arrays[image_key].shape[:1]:
            raise fail(key, f"has shape {labels.shape}, expected ({len(arrays[image_key])},) like {image_key!r}")
        if len(labels) and (labels.min() < 0 or labels.max() >= len(classes)):
            raise fail(key, f"has labels in [{labels.min()}, {labels.max()}], expected [0, {len(classes)})")

    channels = arrays["train_images"].shape[1]
    for key in ("mean", "std"):
        stat = arrays[key]
        if stat.dtype.kind != "f" or stat.shape != (channels,) or not np.all(np.isfinite(stat)):
            raise fail(key, f"has dtype {stat.dtype} and shape {stat.shape}, expected {channels} finite floats")
    if np.any(arrays["std"] <= 0):
        raise fail("std", f"is {arrays['std']}, expected positive values (images are divided by it)")

    return PreparedData(
        train_images=arrays["train_images"],
        train_labels=arrays["train_labels"].astype(np.int64, copy=False),
        test_images=arrays["test_images"],
        test_labels=arrays["test_labels"].astype(np.int64, copy=False),
        classes=[str(name) for name in classes],
        mean=arrays["mean"].astype(np.float64, copy=False),
        std=arrays["std"].astype(np.float64, copy=False),
    )
