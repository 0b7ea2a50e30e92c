"""Downloading, verifying, preparing and reloading datasets, on tiny archives in the official formats."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fakedata import (  # noqa: E402
    cifar10_members,
    idx_bytes,
    make_cifar10_archive,
    make_cifar100_archive,
    make_mnist_files,
    md5_of,
    write_gz,
    write_tar_gz,
)

from gridscape.data import (  # noqa: E402
    DATASETS,
    DataIntegrityError,
    download,
    load_prepared,
    prepare,
)
from gridscape.io import write_npz  # noqa: E402

CIFAR10 = "cifar-10-binary.tar.gz"


@pytest.fixture()
def cifar10_mirror(tmp_path: Path):
    """A file:// mirror holding a tiny CIFAR-10 archive; yields (mirror URL, md5, expected)."""
    path, md5, expected = make_cifar10_archive(tmp_path / "mirror", images_per_class_per_batch=2, seed=1)
    return path.parent.as_uri() + "/", md5, expected


@pytest.fixture(scope="module")
def digits_npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("digits") / "digits.npz"
    prepare("digits", [], out)
    return out


def test_registry_matches_the_official_sources() -> None:
    from torchvision.datasets import MNIST, FashionMNIST

    assert DATASETS["cifar10"].archives[0].md5 == "c32a1d4ab5d03f1284b67883e8d87530"
    assert DATASETS["cifar100"].archives[0].md5 == "03b5dce01913d631647c71ecec9e9cb8"
    for name, source in (("mnist", MNIST), ("fashion_mnist", FashionMNIST)):
        spec = DATASETS[name]
        assert [(a.filename, a.md5) for a in spec.archives] == list(source.resources)
        assert all(a.url == source.mirrors[0] + a.filename for a in spec.archives)
    assert DATASETS["digits"].archives == ()
    assert {name: spec.in_shape for name, spec in DATASETS.items()} == {
        "cifar10": (3, 32, 32), "cifar100": (3, 32, 32), "mnist": (1, 28, 28),
        "fashion_mnist": (1, 28, 28), "digits": (1, 32, 32),
    }  # fmt: skip


def test_download_from_file_mirror_and_skip_when_present(tmp_path: Path, cifar10_mirror) -> None:
    mirror, md5, _ = cifar10_mirror
    root = tmp_path / "raw" / "cifar10"
    paths = download("cifar10", root, mirror=mirror, checksums={CIFAR10: md5})
    assert paths == [root / CIFAR10]
    assert md5_of(paths[0]) == md5
    assert sorted(p.name for p in root.iterdir()) == [CIFAR10]  # no temporary left behind

    mtime = paths[0].stat().st_mtime_ns
    (tmp_path / "mirror" / CIFAR10).unlink()  # a second fetch would now fail
    assert download("cifar10", root, mirror=mirror, checksums={CIFAR10: md5}) == paths
    assert paths[0].stat().st_mtime_ns == mtime


def test_download_with_wrong_md5_raises_and_sets_file_aside(tmp_path: Path, cifar10_mirror) -> None:
    mirror, md5, _ = cifar10_mirror
    root = tmp_path / "raw"
    with pytest.raises(DataIntegrityError) as caught:
        download("cifar10", root, mirror=mirror, checksums={CIFAR10: "0" * 32})
    message = str(caught.value)
    assert CIFAR10 in message and "0" * 32 in message and md5 in message
    assert not (root / CIFAR10).exists()
    assert (root / f"{CIFAR10}.corrupt").exists()
    # A rerun with the right checksum fetches again.
    assert download("cifar10", root, mirror=mirror, checksums={CIFAR10: md5}) == [root / CIFAR10]


def test_download_of_truncated_archive_raises(tmp_path: Path, cifar10_mirror) -> None:
    mirror, md5, _ = cifar10_mirror
    served = tmp_path / "mirror" / CIFAR10
    served.write_bytes(served.read_bytes()[:-100])
    with pytest.raises(DataIntegrityError, match=CIFAR10):
        download("cifar10", tmp_path / "raw", mirror=mirror, checksums={CIFAR10: md5})
    assert not (tmp_path / "raw" / CIFAR10).exists()


def test_download_replaces_a_corrupt_local_file(tmp_path: Path, cifar10_mirror) -> None:
    mirror, md5, _ = cifar10_mirror
    root = tmp_path / "raw"
    root.mkdir()
    (root / CIFAR10).write_bytes(b"partial")
    [path] = download("cifar10", root, mirror=mirror, checksums={CIFAR10: md5})
    assert md5_of(path) == md5


def test_prepare_cifar10_round_trip(tmp_path: Path) -> None:
    path, md5, expected = make_cifar10_archive(tmp_path, images_per_class_per_batch=2, test_images_per_class=3)
    out = tmp_path / "cifar10.npz"
    prepare("cifar10", [path], out, checksums={CIFAR10: md5})

    with np.load(out, allow_pickle=False) as archive:
        assert archive["classes"].dtype.kind == "U"
    data = load_prepared(out, expected_shape=(3, 32, 32), num_classes=10)
    assert data.train_images.shape == (100, 3, 32, 32) and data.test_images.shape == (30, 3, 32, 32)
    np.testing.assert_array_equal(data.train_images, expected["train_images"])
    np.testing.assert_array_equal(data.train_labels, expected["train_labels"])
    np.testing.assert_array_equal(data.test_images, expected["test_images"])
    np.testing.assert_array_equal(data.test_labels, expected["test_labels"])
    assert data.classes == expected["classes"]
    assert data.train_labels.dtype == np.int64 and np.bincount(data.train_labels).tolist() == [10] * 10

    scaled = expected["train_images"].astype(np.float64) / 255.0
    np.testing.assert_allclose(data.mean, scaled.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(data.std, scaled.std(axis=(0, 2, 3)), rtol=1e-12)


def test_prepare_cifar10_byte_layout_is_rgb_planes_row_major(tmp_path: Path) -> None:
    members, _ = cifar10_members()
    record = bytearray(3073)
    record[0] = 7  # label
    record[1 + 0 * 1024 + 0 * 32 + 1] = 200  # red, row 0, column 1
    record[1 + 1 * 1024 + 1 * 32 + 0] = 100  # green, row 1, column 0
    record[1 + 2 * 1024 + 31 * 32 + 30] = 50  # blue, row 31, column 30
    members["cifar-10-batches-bin/data_batch_1.bin"] = bytes(record)
    path = tmp_path / CIFAR10
    md5 = write_tar_gz(path, members)
    prepare("cifar10", [path], tmp_path / "out.npz", checksums={CIFAR10: md5})

    data = load_prepared(tmp_path / "out.npz")
    image = data.train_images[0]
    assert data.train_labels[0] == 7
    assert (image[0, 0, 1], image[1, 1, 0], image[2, 31, 30]) == (200, 100, 50)
    assert np.count_nonzero(image) == 3


def test_prepare_reverifies_md5(tmp_path: Path) -> None:
    path, md5, _ = make_cifar10_archive(tmp_path)
    with pytest.raises(DataIntegrityError, match=CIFAR10):
        prepare("cifar10", [path], tmp_path / "out.npz", checksums={CIFAR10: "f" * 32})
    with pytest.raises(DataIntegrityError, match="c32a1d4ab5d03f1284b67883e8d87530"):
        prepare("cifar10", [path], tmp_path / "out.npz")  # the official md5
    assert not (tmp_path / "out.npz").exists()


def test_prepare_rejects_archive_with_partial_record(tmp_path: Path) -> None:
    members, _ = cifar10_members()
    members["cifar-10-batches-bin/test_batch.bin"] += b"\x00" * 10
    path = tmp_path / CIFAR10
    md5 = write_tar_gz(path, members)
    with pytest.raises(DataIntegrityError, match="test_batch.bin"):
        prepare("cifar10", [path], tmp_path / "out.npz", checksums={CIFAR10: md5})


def test_prepare_cifar100_uses_fine_labels(tmp_path: Path) -> None:
    path, md5, expected = make_cifar100_archive(tmp_path, train_images_per_class=2)
    out = tmp_path / "cifar100.npz"
    prepare("cifar100", [path], out, checksums={path.name: md5})
    data = load_prepared(out, expected_shape=(3, 32, 32), num_classes=100)
    np.testing.assert_array_equal(data.train_labels, expected["train_labels"])
    np.testing.assert_array_equal(data.test_labels, expected["test_labels"])
    assert not np.array_equal(data.train_labels, expected["train_coarse_labels"])
    np.testing.assert_array_equal(data.train_images, expected["train_images"])
    assert data.classes == expected["classes"]


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_prepare_mnist_round_trip(tmp_path: Path, name: str) -> None:
    paths, checksums, expected = make_mnist_files(tmp_path / "raw")
    root = tmp_path / "downloaded"
    downloaded = download(name, root, mirror=(tmp_path / "raw").as_uri(), checksums=checksums)
    assert downloaded == [root / p.name for p in paths]

    out = tmp_path / f"{name}.npz"
    prepare(name, downloaded, out, checksums=checksums)
    data = load_prepared(out, expected_shape=(1, 28, 28), num_classes=10)
    np.testing.assert_array_equal(data.train_images[:, 0], expected["train_images"])
    np.testing.assert_array_equal(data.test_images[:, 0], expected["test_images"])
    np.testing.assert_array_equal(data.train_labels, expected["train_labels"])
    np.testing.assert_array_equal(data.test_labels, expected["test_labels"])
    if name == "mnist":
        assert data.classes == [str(d) for d in range(10)]
    else:
        from torchvision.datasets import FashionMNIST

        assert data.classes == FashionMNIST.classes


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("t10k-labels-idx1-ubyte.gz", idx_bytes(np.zeros((3, 1), np.uint8)), "magic number"),
        ("t10k-images-idx3-ubyte.gz", idx_bytes(np.zeros((10, 28, 28), np.uint8))[:-5], "payload"),
        ("train-labels-idx1-ubyte.gz", idx_bytes(np.zeros(7, np.uint8)), "labels, expected 20"),
        ("train-images-idx3-ubyte.gz", idx_bytes(np.zeros((20, 27, 28), np.uint8)), "expected (28, 28)"),
    ],
)
def test_prepare_mnist_rejects_bad_idx(tmp_path: Path, name: str, content: bytes, problem: str) -> None:
    paths, checksums, _ = make_mnist_files(tmp_path, train_images_per_class=2)
    checksums[name] = write_gz(tmp_path / name, content)
    with pytest.raises(DataIntegrityError) as caught:
        prepare("mnist", paths, tmp_path / "out.npz", checksums=checksums)
    assert problem in str(caught.value) and str(tmp_path / name) in str(caught.value)


def test_prepare_refuses_wrong_file_list(tmp_path: Path) -> None:
    paths, checksums, _ = make_mnist_files(tmp_path)
    with pytest.raises(ValueError, match="t10k-labels"):
        prepare("mnist", paths[:3], tmp_path / "out.npz", checksums=checksums)
    with pytest.raises(ValueError, match="expected exactly"):
        prepare("digits", paths, tmp_path / "out.npz")


def test_digits(digits_npz: Path, tmp_path: Path) -> None:
    data = load_prepared(digits_npz, expected_shape=(1, 32, 32), num_classes=10)
    assert len(data.train_images) + len(data.test_images) == 1797
    assert data.train_images.dtype == np.uint8 and data.train_images.shape[1:] == (1, 32, 32)
    assert data.classes == [str(d) for d in range(10)]
    assert data.train_images.max() == 255 and data.train_images.min() == 0

    total = np.bincount(np.concatenate([data.train_labels, data.test_labels]), minlength=10)
    test = np.bincount(data.test_labels, minlength=10)
    assert len(data.test_labels) == math.ceil(0.2 * 1797)
    assert np.all(np.abs(test - 0.2 * total) <= 1)

    again = tmp_path / "again.npz"
    prepare("digits", [], again)
    with np.load(digits_npz, allow_pickle=False) as first, np.load(again, allow_pickle=False) as second:
        assert first.files == second.files
        for key in first.files:
            np.testing.assert_array_equal(first[key], second[key])


def _bilinear_matrix(size_in: int, size_out: int) -> np.ndarray:
    """1-D linear interpolation weights with half-pixel centres (align_corners=False), edges clamped."""
    source = np.maximum((np.arange(size_out) + 0.5) * size_in / size_out - 0.5, 0.0)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, size_in - 1)
    weights = np.zeros((size_out, size_in))
    np.add.at(weights, (np.arange(size_out), low), 1 - (source - low))
    np.add.at(weights, (np.arange(size_out), high), source - low)
    return weights


def test_digits_are_the_fixed_split_of_bilinearly_upsampled_sklearn_digits(digits_npz: Path) -> None:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import StratifiedShuffleSplit

    bunch = load_digits()
    matrix = _bilinear_matrix(8, 32)
    reference = matrix @ (bunch.images * (255.0 / 16.0)) @ matrix.T
    split = StratifiedShuffleSplit(n_splits=1, test_size=0.2, random_state=0)
    train, test = (np.sort(indices) for indices in next(split.split(bunch.images, bunch.target)))

    data = load_prepared(digits_npz)
    for images, labels, indices in ((data.train_images, data.train_labels, train), (data.test_images, data.test_labels, test)):
        np.testing.assert_array_equal(labels, bunch.target[indices])
        assert np.abs(images[:, 0].astype(np.float64) - reference[indices]).max() <= 0.5 + 1e-9


def _valid_arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "train_images": rng.integers(0, 256, (6, 1, 4, 4), dtype=np.uint8),
        "train_labels": np.array([0, 1, 2, 0, 1, 2]),
        "test_images": rng.integers(0, 256, (3, 1, 4, 4), dtype=np.uint8),
        "test_labels": np.array([2, 1, 0]),
        "classes": np.array(["a", "b", "c"]),
        "mean": np.array([0.5]),
        "std": np.array([0.25]),
    }


@pytest.mark.parametrize(
    ("change", "kwargs", "array", "problem"),
    [
        ({"train_images": np.zeros((6, 1, 4, 4), np.float32)}, {}, "train_images", "float32, expected uint8"),
        ({"test_images": np.zeros((3, 4, 4), np.uint8)}, {}, "test_images", "4 dimensions"),
        ({}, {"expected_shape": (1, 8, 8)}, "train_images", "expected (1, 8, 8)"),
        ({"test_labels": np.array([0, 3, 1])}, {}, "test_labels", "expected [0, 3)"),
        ({"train_labels": np.array([0, -1, 2, 0, 1, 2])}, {}, "train_labels", "expected [0, 3)"),
        ({"train_labels": np.zeros(6, np.float64)}, {}, "train_labels", "integer dtype"),
        ({"train_labels": np.zeros(5, np.int64)}, {}, "train_labels", "expected (6,)"),
        ({"train_images": None}, {}, "train_images", "missing"),
        ({"std": None}, {}, "std", "missing"),
        ({}, {"num_classes": 10}, "classes", "expected 10"),
        ({"std": np.array([0.0])}, {}, "std", "positive"),
    ],
)
def test_load_prepared_rejects(tmp_path: Path, change: dict, kwargs: dict, array: str, problem: str) -> None:
    arrays = {key: value for key, value in {**_valid_arrays(), **change}.items() if value is not None}
    path = tmp_path / "bad.npz"
    write_npz(path, **arrays)
    with pytest.raises(DataIntegrityError) as caught:
        load_prepared(path, **kwargs)
    message = str(caught.value)
    assert str(path) in message and repr(array) in message and problem in message


def test_load_prepared_accepts_valid_and_rejects_non_npz(tmp_path: Path) -> None:
    path = tmp_path / "ok.npz"
    write_npz(path, **_valid_arrays())
    data = load_prepared(path, expected_shape=(1, 4, 4), num_classes=3)
    assert data.classes == ["a", "b", "c"] and data.train_labels.dtype == np.int64

    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, **{**_valid_arrays(), "classes": np.array(["a", "b", "c"], dtype=object)})
    with pytest.raises(DataIntegrityError, match="pickled.npz"):
        load_prepared(pickled)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(os.urandom(64))
    with pytest.raises(DataIntegrityError, match="garbage.npz"):
        load_prepared(garbage)


def test_prepare_rejects_archive_without_meta(tmp_path: Path) -> None:
    members, _ = cifar10_members()
    del members["cifar-10-batches-bin/batches.meta.txt"]
    path = tmp_path / CIFAR10
    md5 = write_tar_gz(path, members)
    with pytest.raises(DataIntegrityError, match="batches.meta.txt"):
        prepare("cifar10", [path], tmp_path / "out.npz", checksums={CIFAR10: md5})


def test_download_over_http_uses_torchvision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The http(s) branch goes through torchvision's download_url; served here from localhost."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    for variable in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)  # localhost must be reached directly
    path, md5, _ = make_cifar10_archive(tmp_path / "served")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(path.parent))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            mirror = f"http://127.0.0.1:{server.server_address[1]}/"
            [fetched] = download("cifar10", tmp_path / "raw", mirror=mirror, checksums={CIFAR10: md5})
        finally:
            server.shutdown()
    assert md5_of(fetched) == md5
