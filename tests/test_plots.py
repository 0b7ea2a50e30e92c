"""Report figures: files are real, atomic and sized as declared; annotations say the right thing."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.artist import Artist

from gridscape.plots import (
    plot_augmentation_pairs,
    plot_class_counts,
    plot_grid_curves,
    plot_grid_heatmap,
    plot_image_grid,
    plot_training_curves,
    save_figure,
)
from gridscape.plots.style import DPI, format_value

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _no_open_figures():
    yield
    assert plt.get_fignums() == [], "a plotting function left a figure open"


def _outputs(tmp_path: Path, stem: str) -> list[Path]:
    return [tmp_path / "out" / f"{stem}.png", tmp_path / "out" / f"{stem}.pdf"]


def _assert_real_files(paths: list[Path], min_png_kb: float = 5.0) -> np.ndarray:
    png, pdf = paths
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    assert png.stat().st_size > min_png_kb * 1024
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf.stat().st_size > 2 * 1024
    return mpimg.imread(png)


def _assert_png_size(image: np.ndarray, size_px: tuple[int, int]) -> None:
    height, width = image.shape[:2]
    assert (width, height) == size_px


def _images(n: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, channels, 32, 32), dtype=np.uint8)


def _history(epochs: int = 10, split: str = "val") -> pd.DataFrame:
    e = np.arange(1, epochs + 1)
    loss = 2.3 * np.exp(-e / 5) + 0.4
    return pd.DataFrame({"epoch": e, "train_loss": loss, "train_acc": 1 - loss / 2.7,
                         f"{split}_loss": loss + 0.1, f"{split}_acc": 1 - loss / 2.6})


# --- save_figure -------------------------------------------------------------------------


class _Exploding(Artist):
    def draw(self, renderer):
        raise RuntimeError("boom")


def test_save_figure_writes_every_format_and_closes(tmp_path: Path) -> None:
    fig = plt.figure(figsize=(4, 3))
    fig.add_subplot().plot([0, 1, 2], [2, 0, 1])
    paths = _outputs(tmp_path, "nested/deeper/line")
    info = save_figure(fig, paths)
    image = _assert_real_files(paths, min_png_kb=2)
    assert info.size_px == (4 * DPI, 3 * DPI)
    _assert_png_size(image, info.size_px)
    assert plt.get_fignums() == []


def test_save_figure_leaves_nothing_when_drawing_fails(tmp_path: Path) -> None:
    png, pdf = _outputs(tmp_path, "broken")
    png.parent.mkdir(parents=True)
    png.write_bytes(b"previous result")
    fig = plt.figure()
    fig.add_subplot().add_artist(_Exploding())
    with pytest.raises(RuntimeError, match="boom"):
        save_figure(fig, [png, pdf])
    assert png.read_bytes() == b"previous result"  # the old file was not clobbered
    assert sorted(p.name for p in png.parent.iterdir()) == ["broken.png"]  # no temp files, no pdf
    assert plt.get_fignums() == []


def test_save_figure_rejects_unknown_format_before_writing_anything(tmp_path: Path) -> None:
    fig = plt.figure()
    with pytest.raises(ValueError, match="unknown figure format"):
        save_figure(fig, [tmp_path / "a.png", tmp_path / "a.docx"])
    assert list(tmp_path.iterdir()) == []


def test_saved_files_get_ordinary_permissions(tmp_path: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    info = save_figure(plt.figure(), [tmp_path / "perm.png"])
    assert info.paths[0].stat().st_mode & 0o777 == 0o666 & ~umask


def test_plotting_leaves_global_style_alone(tmp_path: Path) -> None:
    before = dict(matplotlib.rcParams)
    plot_training_curves(_history(), [tmp_path / "c.png"])
    assert dict(matplotlib.rcParams) == before
    assert matplotlib.get_backend().lower() == "agg"


def test_format_value_is_compact() -> None:
    values = (0.1, 0.01, 0.001, 1e-05, 0.0, 64, np.int64(3), np.float64(1 / 30), np.bool_(True), "sgd")
    assert [format_value(v) for v in values] == [
        "0.1", "0.01", "0.001", "1e-05", "0.0", "64", "3", "0.03333333333333333", "true", "sgd"]


# --- images ------------------------------------------------------------------------------


def test_image_grid_draws_the_images_at_the_declared_size(tmp_path: Path) -> None:
    images = np.zeros((25, 3, 32, 32), dtype=np.uint8)
    images[:, 0] = 255  # pure red: easy to find in the rendering
    paths = _outputs(tmp_path, "grid")
    info = plot_image_grid(images, list(range(10)) * 2 + [0] * 5, CLASSES, paths, title="25 images")
    image = _assert_real_files(paths)
    assert info.size_px == (int(1.6 * 5 * DPI), int((1.72 * 5 + 0.4) * DPI))
    _assert_png_size(image, info.size_px)
    red = (image[..., 0] > 0.95) & (image[..., 1] < 0.05) & (image[..., 2] < 0.05)
    assert red.mean() > 0.4  # the 25 tiles cover much of the figure


def test_image_grid_greyscale_and_partial_last_row(tmp_path: Path) -> None:
    info = plot_image_grid(_images(7, channels=1), [0, 1, 2, 3, 4, 5, 6], CLASSES,
                           [tmp_path / "grey.png"], ncols=3)
    _assert_png_size(mpimg.imread(info.paths[0]), info.size_px)
    assert info.size_px[0] == int(1.6 * 3 * DPI)


@pytest.mark.parametrize("images, labels, error", [
    (np.zeros((2, 32, 32, 3), np.uint8), [0, 1], ValueError),  # channels last
    (np.zeros((2, 3, 32, 32), np.float32), [0, 1], TypeError),
    (np.zeros((2, 3, 32, 32), np.uint8), [0], ValueError),
    (np.zeros((2, 3, 32, 32), np.uint8), [0, 10], IndexError),
])
def test_image_grid_rejects_bad_input_without_writing(tmp_path: Path, images, labels, error) -> None:
    with pytest.raises(error):
        plot_image_grid(images, labels, CLASSES, [tmp_path / "bad.png"])
    assert not (tmp_path / "bad.png").exists()


def test_augmentation_pairs(tmp_path: Path) -> None:
    originals = _images(9)
    paths = _outputs(tmp_path, "aug")
    info = plot_augmentation_pairs(originals, originals[..., ::-1].copy(), list(range(9)), CLASSES,
                                   "horizontal flip", paths)
    _assert_png_size(_assert_real_files(paths), info.size_px)
    with pytest.raises(ValueError):
        plot_augmentation_pairs(originals, originals[:8], list(range(9)), CLASSES, "flip",
                                [tmp_path / "bad.png"])


def test_class_counts_ten_and_hundred_classes(tmp_path: Path) -> None:
    ten = pd.DataFrame({"class": CLASSES, "train": [4500] * 10, "val": [500] * 10, "test": [1000] * 10})
    paths = _outputs(tmp_path, "counts10")
    info = plot_class_counts(ten, paths, title="CIFAR-10")
    _assert_png_size(_assert_real_files(paths), info.size_px)
    assert info.notes["compact"] is False

    hundred = pd.DataFrame({"class": [f"class_{i}" for i in range(100)],
                            "train": [450] * 100, "test": [100] * 100})
    info = plot_class_counts(hundred, [tmp_path / "counts100.png"])
    assert info.notes["compact"] is True
    assert info.size_px[0] > info.size_px[1] * 2  # wide rather than tall
    _assert_png_size(mpimg.imread(info.paths[0]), info.size_px)

    with pytest.raises(ValueError):
        plot_class_counts(ten.drop(columns="class"), [tmp_path / "bad.png"])


# --- grid search -------------------------------------------------------------------------


def _grid() -> pd.DataFrame:
    rows = []
    for lr in (0.01, 0.1, 1e-05):  # deliberately not sorted
        for momentum in (0.9, 0.0):
            rows.append({"optimizer.lr": lr, "optimizer.momentum": momentum,
                         "val_acc": 0.5, "val_loss": 1.0, "status": "ok"})
    grid = pd.DataFrame(rows)
    grid.loc[0, ["val_acc", "val_loss"]] = [0.6234, 1.23456]
    grid.loc[3, ["val_acc", "val_loss", "status"]] = [np.nan, np.nan, "diverged"]
    return grid


def test_heatmap_annotations_follow_grid_order(tmp_path: Path) -> None:
    paths = _outputs(tmp_path, "heat")
    info = plot_grid_heatmap(_grid(), ["optimizer.lr", "optimizer.momentum"], "val_acc", paths,
                             best={"optimizer.lr": 0.01, "optimizer.momentum": 0.9})
    _assert_png_size(_assert_real_files(paths), info.size_px)
    assert info.notes["rows"] == ["0.01", "0.1", "1e-05"]
    assert info.notes["columns"] == ["0.9", "0.0"]
    assert info.annotations == ("62.3%", "50.0%", "50.0%", "diverged", "50.0%", "50.0%")
    assert info.notes["best_outlined"] is True


def test_heatmap_loss_uses_three_decimals_and_marks_missing(tmp_path: Path) -> None:
    grid = _grid().drop(index=5)  # one cell never ran
    info = plot_grid_heatmap(grid, ["optimizer.lr", "optimizer.momentum"], "val_loss",
                             [tmp_path / "loss.png"], best={"optimizer.lr": 0.5, "optimizer.momentum": 0.9})
    assert info.annotations == ("1.235", "1.000", "1.000", "diverged", "1.000", "n/a")
    assert info.notes["best_outlined"] is False  # best lies outside the grid


def test_heatmap_best_matches_values_read_back_from_json(tmp_path: Path) -> None:
    info = plot_grid_heatmap(_grid(), ["optimizer.lr", "optimizer.momentum"], "val_acc",
                             [tmp_path / "h.png"], best={"optimizer.lr": 1e-5, "optimizer.momentum": 0})
    assert info.notes["best_outlined"] is True


def test_heatmap_one_axis(tmp_path: Path) -> None:
    grid = pd.DataFrame({"optimizer.lr": [0.1, 0.01, 0.001], "val_acc": [np.nan, 0.6234, 0.4],
                         "status": ["diverged", "ok", "ok"]})
    info = plot_grid_heatmap(grid, ["optimizer.lr"], "val_acc", [tmp_path / "one.png"],
                             best={"optimizer.lr": 0.01})
    assert info.annotations == ("diverged", "62.3%", "40.0%")
    assert info.notes["columns"] == ["0.1", "0.01", "0.001"]
    _assert_png_size(mpimg.imread(info.paths[0]), info.size_px)


def test_heatmap_all_diverged_still_draws(tmp_path: Path) -> None:
    grid = _grid().assign(status="diverged", val_acc=np.nan)
    info = plot_grid_heatmap(grid, ["optimizer.lr", "optimizer.momentum"], "val_acc", [tmp_path / "d.png"])
    assert set(info.annotations) == {"diverged"}


def test_heatmap_rejects_bad_grids(tmp_path: Path) -> None:
    keys = ["optimizer.lr", "optimizer.momentum"]
    with pytest.raises(ValueError, match="more than one row"):
        plot_grid_heatmap(pd.concat([_grid(), _grid()]), keys, "val_acc", [tmp_path / "x.png"])
    with pytest.raises(KeyError):
        plot_grid_heatmap(_grid(), keys, "test_acc", [tmp_path / "x.png"])
    with pytest.raises(ValueError):
        plot_grid_heatmap(_grid(), keys + ["batch_size"], "val_acc", [tmp_path / "x.png"])
    assert not (tmp_path / "x.png").exists()


# --- curves ------------------------------------------------------------------------------


def test_training_curves_validation_and_test(tmp_path: Path) -> None:
    paths = _outputs(tmp_path, "curves")
    info = plot_training_curves(_history(), paths, title="lr=0.01")
    _assert_png_size(_assert_real_files(paths), info.size_px)
    assert info.notes == {"splits": ["training", "validation"], "diverged_epoch": None}
    info = plot_training_curves(_history(split="test"), [tmp_path / "test.png"])
    assert info.notes["splits"] == ["training", "test"]


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_training_curves_mark_divergence(tmp_path: Path, bad: float) -> None:
    history = _history(12)
    history.loc[history.epoch >= 7, ["train_loss", "val_loss"]] = bad
    history.loc[history.epoch == 6, "train_loss"] = 80.0  # the spike before the blow-up
    info = plot_training_curves(history, [tmp_path / "div.png"])
    assert info.notes["diverged_epoch"] == 7
    assert mpimg.imread(info.paths[0]).shape[:2] == info.size_px[::-1]


def test_training_curves_missing_evaluation_is_not_divergence(tmp_path: Path) -> None:
    history = _history(6)
    history.loc[history.epoch % 2 == 1, ["val_loss", "val_acc"]] = np.nan  # evaluated every 2nd epoch
    info = plot_training_curves(history, [tmp_path / "sparse.png"])
    assert info.notes["diverged_epoch"] is None


def test_grid_curves_many_cells(tmp_path: Path) -> None:
    histories = {f"lr={lr:g}, momentum={m:g}, wd={wd:g}": _history(8)
                 for lr in (0.1, 0.01, 0.001) for m in (0.0, 0.5, 0.9) for wd in (0, 1e-4, 5e-4)}
    broken = _history(8)
    broken.loc[broken.epoch >= 4, ["train_loss", "val_loss"]] = np.nan
    histories["lr=0.1, momentum=0, wd=0"] = broken
    paths = _outputs(tmp_path, "grid_curves")
    info = plot_grid_curves(histories, paths)
    _assert_png_size(_assert_real_files(paths), info.size_px)
    assert info.notes["diverged"] == ["lr=0.1, momentum=0, wd=0"]
    with pytest.raises(ValueError):
        plot_grid_curves({}, [tmp_path / "empty.png"])


def test_grid_curves_few_cells(tmp_path: Path) -> None:
    info = plot_grid_curves({"lr=0.1": _history(5), "lr=0.01": _history(5, split="test")},
                            [tmp_path / "two.png"], title="two cells")
    assert info.notes["diverged"] == []
    _assert_png_size(mpimg.imread(info.paths[0]), info.size_px)
