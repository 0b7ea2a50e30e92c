"""What each supported dataset is and where its official archives live.

The URLs and md5 sums are the publishers' own (for MNIST and Fashion-MNIST, the ones
torchvision uses), so a prepared dataset can always be traced back to checksummed bytes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Archive:
    """One file to download: where it lives officially and the md5 it must have."""

    filename: str
    url: str
    md5: str


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset as the workflow sees it: prepared image shape, class count and sources."""

    name: str
    in_shape: tuple[int, int, int]
    num_classes: int
    archives: tuple[Archive, ...]
    description: str
    # images of the official training set's smallest class: what train.per_class is checked
    # against before any job (the split's training part holds about 1 - val_fraction of them)
    smallest_class: int = 0


_MNIST_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_FASHION_MIRROR = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

# Shared by MNIST and Fashion-MNIST, which publish identically named files.
IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def _idx_archives(mirror: str, md5s: tuple[str, str, str, str]) -> tuple[Archive, ...]:
    return tuple(Archive(name, mirror + name, md5) for name, md5 in zip(IDX_FILES, md5s, strict=True))


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            name="cifar10",
            in_shape=(3, 32, 32),
            num_classes=10,
            archives=(
                Archive(
                    "cifar-10-binary.tar.gz",
                    "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
                    "c32a1d4ab5d03f1284b67883e8d87530",
                ),
            ),
            description="CIFAR-10: 60000 32x32 colour images in 10 classes (binary version).",
            smallest_class=5000,
        ),
        DatasetSpec(
            name="cifar100",
            in_shape=(3, 32, 32),
            num_classes=100,
            archives=(
                Archive(
                    "cifar-100-binary.tar.gz",
                    "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
                    "03b5dce01913d631647c71ecec9e9cb8",
                ),
            ),
            description="CIFAR-100: 60000 32x32 colour images in 100 fine classes (binary version).",
            smallest_class=500,
        ),
        DatasetSpec(
            name="mnist",
            in_shape=(1, 28, 28),
            num_classes=10,
            archives=_idx_archives(
                _MNIST_MIRROR,
                (
                    "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                    "d53e105ee54ea40749a09fcbcd1e9432",
                    "9fb629c4189551a2d022fa330f9573f3",
                    "ec29112dd5afa0611ce80d1b7f02629c",
                ),
            ),
            description="MNIST: 70000 28x28 greyscale handwritten digits.",
            smallest_class=5421,
        ),
        DatasetSpec(
            name="fashion_mnist",
            in_shape=(1, 28, 28),
            num_classes=10,
            archives=_idx_archives(
                _FASHION_MIRROR,
                (
                    "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                    "25c81989df183df01b3e8a0aad5dffbe",
                    "bef4ecab320f06d8554ea6380940ec79",
                    "bb300cfdad3c16e7a12a480ee83cd310",
                ),
            ),
            description="Fashion-MNIST: 70000 28x28 greyscale images of clothing in 10 classes.",
            smallest_class=6000,
        ),
        DatasetSpec(
            name="digits",
            in_shape=(1, 32, 32),
            num_classes=10,
            archives=(),
            description=(
                "scikit-learn's 1797 8x8 handwritten digits, upsampled to 32x32; "
                "no download, fixed stratified 80/20 split."
            ),
            smallest_class=139,  # of its 1,437 training images (the 80 % part)
        ),
    )
}


def get_spec(name: str) -> DatasetSpec:
    """Look a dataset up, listing the known names when it is not one of them."""
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(DATASETS))}") from None
