"""Tiny archives in the official CIFAR and MNIST formats, for tests that cannot download.

They are written independently of gridscape's readers, straight from the format descriptions,
so a round trip through ``gridscape.data.prepare`` checks the reader against the format. The
bytes are deterministic (fixed seed, gzip and tar timestamps at zero), hence so are the md5 sums.
Images are a per-class template plus noise, so a model can actually learn them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import tarfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
CIFAR100_CLASSES = [f"fine_{i:02d}" for i in range(100)]
CIFAR100_COARSE = [f"coarse_{i:02d}" for i in range(20)]


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_tar_gz(path: Path, members: Mapping[str, bytes]) -> str:
    """Write a deterministic .tar.gz with a directory entry per top folder; return its md5."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for directory in sorted({name.split("/")[0] for name in members if "/" in name}):
            info = tarfile.TarInfo(directory)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
            tar.addfile(info)
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(buffer.getvalue(), mtime=0))
    return md5_of(path)


def balanced_labels(rng: np.random.Generator, num_classes: int, per_class: int) -> np.ndarray:
    """Every class exactly ``per_class`` times, in shuffled order."""
    return rng.permutation(np.repeat(np.arange(num_classes), per_class)).astype(np.int64)


def class_images(rng: np.random.Generator, templates: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """uint8 images: half the class template plus uniform noise (stays within 0..254)."""
    noise = rng.integers(0, 128, size=(len(labels), *templates.shape[1:]))
    return (templates[labels] // 2 + noise).astype(np.uint8)


def cifar10_members(
    images_per_class_per_batch: int = 1, test_images_per_class: int = 1, seed: int = 0
) -> tuple[dict[str, bytes], dict[str, object]]:
    """Members of cifar-10-binary.tar.gz (5 data batches, test batch, meta) and the arrays they hold."""
    rng = np.random.default_rng(seed)
    templates = rng.integers(0, 256, size=(10, 3, 32, 32))
    members: dict[str, bytes] = {}
    train_images, train_labels = [], []
    for batch in range(1, 6):
        labels = balanced_labels(rng, 10, images_per_class_per_batch)
        images = class_images(rng, templates, labels)
        members[f"cifar-10-batches-bin/data_batch_{batch}.bin"] = cifar_records([labels], images)
        train_images.append(images)
        train_labels.append(labels)
    test_labels = balanced_labels(rng, 10, test_images_per_class)
    test_images = class_images(rng, templates, test_labels)
    members["cifar-10-batches-bin/test_batch.bin"] = cifar_records([test_labels], test_images)
    members["cifar-10-batches-bin/batches.meta.txt"] = ("\n".join(CIFAR10_CLASSES) + "\n\n").encode()
    expected = {
        "train_images": np.concatenate(train_images),
        "train_labels": np.concatenate(train_labels),
        "test_images": test_images,
        "test_labels": test_labels,
        "classes": list(CIFAR10_CLASSES),
    }
    return members, expected


def cifar_records(label_columns: list[np.ndarray], images: np.ndarray) -> bytes:
    """Records of label byte(s) then the (3, 32, 32) image in C order: R plane, G plane, B plane."""
    columns = [labels.astype(np.uint8)[:, None] for labels in label_columns]
    return np.concatenate([*columns, images.reshape(len(images), -1)], axis=1).tobytes()


def make_cifar10_archive(
    directory: Path,
    images_per_class_per_batch: int = 1,
    test_images_per_class: int = 1,
    seed: int = 0,
) -> tuple[Path, str, dict[str, object]]:
    """Write ``directory/cifar-10-binary.tar.gz``; return its path, md5 and expected contents.

    Train has 50 * images_per_class_per_batch images (each of the 5 batches balanced over the
    10 classes), test has 10 * test_images_per_class.
    """
    members, expected = cifar10_members(images_per_class_per_batch, test_images_per_class, seed)
    path = Path(directory) / "cifar-10-binary.tar.gz"
    return path, write_tar_gz(path, members), expected


def make_cifar100_archive(
    directory: Path, train_images_per_class: int = 1, test_images_per_class: int = 1, seed: int = 0
) -> tuple[Path, str, dict[str, object]]:
    """Write ``directory/cifar-100-binary.tar.gz`` (coarse label = fine // 5); expected includes coarse labels."""
    rng = np.random.default_rng(seed)
    templates = rng.integers(0, 256, size=(100, 3, 32, 32))
    members: dict[str, bytes] = {}
    expected: dict[str, object] = {"classes": list(CIFAR100_CLASSES)}
    for split, per_class in (("train", train_images_per_class), ("test", test_images_per_class)):
        fine = balanced_labels(rng, 100, per_class)
        coarse = fine // 5
        images = class_images(rng, templates, fine)
        members[f"cifar-100-binary/{split}.bin"] = cifar_records([coarse, fine], images)
        expected.update({f"{split}_images": images, f"{split}_labels": fine, f"{split}_coarse_labels": coarse})
    members["cifar-100-binary/fine_label_names.txt"] = ("\n".join(CIFAR100_CLASSES) + "\n").encode()
    members["cifar-100-binary/coarse_label_names.txt"] = ("\n".join(CIFAR100_COARSE) + "\n").encode()
    path = Path(directory) / "cifar-100-binary.tar.gz"
    return path, write_tar_gz(path, members), expected


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array: 0x0000, type 0x08, ndim, big-endian uint32 dims, data."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_gz(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, mtime=0))
    return md5_of(path)


def make_mnist_files(
    directory: Path, train_images_per_class: int = 2, test_images_per_class: int = 1, seed: int = 0
) -> tuple[list[Path], dict[str, str], dict[str, np.ndarray]]:
    """Write the four MNIST IDX .gz files; return their paths, {filename: md5} and expected arrays.

    Expected images have shape (N, 28, 28), as stored; prepared ones add a channel axis.
    """
    rng = np.random.default_rng(seed)
    templates = rng.integers(0, 256, size=(10, 28, 28))
    expected: dict[str, np.ndarray] = {}
    for split, per_class in (("train", train_images_per_class), ("test", test_images_per_class)):
        labels = balanced_labels(rng, 10, per_class)
        expected[f"{split}_labels"] = labels
        expected[f"{split}_images"] = class_images(rng, templates, labels)
    contents = {
        "train-images-idx3-ubyte.gz": expected["train_images"],
        "train-labels-idx1-ubyte.gz": expected["train_labels"],
        "t10k-images-idx3-ubyte.gz": expected["test_images"],
        "t10k-labels-idx1-ubyte.gz": expected["test_labels"],
    }
    paths, checksums = [], {}
    for name, array in contents.items():
        path = Path(directory) / name
        checksums[name] = write_gz(path, idx_bytes(array))
        paths.append(path)
    return paths, checksums, expected
