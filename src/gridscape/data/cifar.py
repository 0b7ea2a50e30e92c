"""Read the binary (not pickled) CIFAR-10 and CIFAR-100 archives straight from the tarball.

Each record is label byte(s) followed by 3072 image bytes: the 1024 red, then green, then blue
values of a 32x32 image in row-major order, which is exactly a C-order (3, 32, 32) array.
Nothing is extracted to disk, so member names cannot escape the archive.
"""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from gridscape.data.integrity import DataIntegrityError
from gridscape.data.raw import RawData

IMAGE_SHAPE = (3, 32, 32)
IMAGE_BYTES = 3 * 32 * 32

CIFAR10_ARCHIVE = "cifar-10-binary.tar.gz"
CIFAR10_DIR = "cifar-10-batches-bin"
CIFAR10_TRAIN = tuple(f"{CIFAR10_DIR}/data_batch_{i}.bin" for i in range(1, 6))
CIFAR10_TEST = f"{CIFAR10_DIR}/test_batch.bin"
CIFAR10_META = f"{CIFAR10_DIR}/batches.meta.txt"

CIFAR100_ARCHIVE = "cifar-100-binary.tar.gz"
CIFAR100_DIR = "cifar-100-binary"
CIFAR100_TRAIN = f"{CIFAR100_DIR}/train.bin"
CIFAR100_TEST = f"{CIFAR100_DIR}/test.bin"
CIFAR100_META = f"{CIFAR100_DIR}/fine_label_names.txt"


def read_cifar10(files: Mapping[str, Path]) -> RawData:
    """Five training batches (concatenated in order), the test batch and the class names."""
    path = files[CIFAR10_ARCHIVE]
    members = _read_members(path, (*CIFAR10_TRAIN, CIFAR10_TEST, CIFAR10_META))
    classes = _class_names(path, CIFAR10_META, members[CIFAR10_META], expected=10)
    train = [_records(path, name, members[name], label_bytes=1, num_classes=10) for name in CIFAR10_TRAIN]
    test_images, test_labels = _records(path, CIFAR10_TEST, members[CIFAR10_TEST], label_bytes=1, num_classes=10)
    return RawData(
        train_images=np.concatenate([images for images, _ in train]),
        train_labels=np.concatenate([labels for _, labels in train]),
        test_images=test_images,
        test_labels=test_labels,
        classes=classes,
    )


def read_cifar100(files: Mapping[str, Path]) -> RawData:
    """Train and test sets with the 100 fine labels; the coarse (superclass) byte is skipped."""
    path = files[CIFAR100_ARCHIVE]
    members = _read_members(path, (CIFAR100_TRAIN, CIFAR100_TEST, CIFAR100_META))
    classes = _class_names(path, CIFAR100_META, members[CIFAR100_META], expected=100)
    train_images, train_labels = _records(path, CIFAR100_TRAIN, members[CIFAR100_TRAIN], label_bytes=2, num_classes=100)
    test_images, test_labels = _records(path, CIFAR100_TEST, members[CIFAR100_TEST], label_bytes=2, num_classes=100)
    return RawData(train_images, train_labels, test_images, test_labels, classes)


def _read_members(path: Path, names: tuple[str, ...]) -> dict[str, bytes]:
    """Read the named regular-file members in one sequential pass (a .gz stream cannot seek back cheaply)."""
    wanted = set(names)
    contents: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                if member.name not in wanted:
                    continue
                handle = tar.extractfile(member) if member.isfile() else None
                if handle is None:
                    raise DataIntegrityError(f"{path}: member {member.name!r} is not a regular file")
                contents[member.name] = handle.read()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise DataIntegrityError(f"{path}: not a readable .tar.gz archive ({error})") from error
    missing = [name for name in names if name not in contents]
    if missing:
        raise DataIntegrityError(f"{path}: archive lacks member(s) {missing}")
    return contents


def _class_names(path: Path, member: str, data: bytes, expected: int) -> list[str]:
    """One name per line; the official files end with blank lines, which are dropped."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataIntegrityError(f"{path}: {member} is not UTF-8 text ({error})") from error
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if len(names) != expected:
        raise DataIntegrityError(f"{path}: {member} lists {len(names)} class names, expected {expected}")
    return names


def _records(path: Path, member: str, data: bytes, label_bytes: int, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Split fixed-size records into (N, 3, 32, 32) uint8 images and int64 labels (the last label byte)."""
    record = label_bytes + IMAGE_BYTES
    if len(data) == 0 or len(data) % record:
        raise DataIntegrityError(
            f"{path}: {member} has {len(data)} bytes, expected a positive multiple of the {record}-byte record"
        )
    rows = np.frombuffer(data, dtype=np.uint8).reshape(-1, record)
    labels = rows[:, label_bytes - 1].astype(np.int64)
    if labels.max() >= num_classes:
        raise DataIntegrityError(f"{path}: {member} has label {labels.max()}, expected labels below {num_classes}")
    images = rows[:, label_bytes:].reshape(-1, *IMAGE_SHAPE).copy()
    return images, labels
