"""Figures about the data: sample images, augmentations, class balance."""

from __future__ import annotations

import math
import os
from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from gridscape.plots.style import DIVERGED_COLOR, FigureInfo, literal, new_figure, save_figure, styled

PathList = Sequence[str | os.PathLike]

COMPACT_FROM = 21  # classes; beyond this, per-bar labels and horizontal bars stop fitting


def _check_images(images: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(images)
    if array.ndim != 4 or array.shape[1] not in (1, 3):
        raise ValueError(f"{name} must have shape (N, C, H, W) with C in {{1, 3}}, got {array.shape}")
    if array.dtype != np.uint8:
        raise TypeError(f"{name} must be uint8 in [0, 255], got dtype {array.dtype}")
    return array


def _class_name(label: int, classes: Sequence[str]) -> str:
    index = int(label)
    if not 0 <= index < len(classes):
        raise IndexError(f"label {index} outside the {len(classes)} class names")
    return literal(classes[index])


def _show_image(ax: Axes, image: np.ndarray, title: str, fontsize: float = 9.5) -> None:
    if image.shape[0] == 1:
        ax.imshow(image[0], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    else:
        ax.imshow(np.transpose(image, (1, 2, 0)), interpolation="nearest")
    ax.set_title(title, fontsize=fontsize, pad=3)
    ax.set_axis_off()


@styled
def plot_image_grid(
    images: np.ndarray,
    labels: Sequence[int],
    classes: Sequence[str],
    paths: PathList,
    ncols: int = 5,
    title: str | None = None,
) -> FigureInfo:
    """Images in a grid, each titled with its class name."""
    images = _check_images(images, "images")
    if len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    ncols = max(1, min(ncols, len(images)))
    nrows = max(1, math.ceil(len(images) / ncols))
    fig = new_figure(1.6 * ncols, 1.72 * nrows + (0.4 if title else 0.0))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, image, label in zip(axes, images, labels):
        _show_image(ax, image, _class_name(label, classes))
    for ax in axes[len(images):]:
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return save_figure(fig, paths)


WRONG_COLOR = DIVERGED_COLOR  # Okabe & Ito's vermillion, the palette's red


@styled
def plot_predictions(
    images: np.ndarray,
    labels: Sequence[int],
    predicted: Sequence[int],
    probabilities: Sequence[float],
    classes: Sequence[str],
    paths: PathList,
    ncols: int = 5,
    title: str | None = None,
) -> FigureInfo:
    """Images in a grid (``ncols`` per row), each titled with its true class and the predicted
    one with its probability; the title of a wrong prediction is red. The annotations are the
    titles, the notes count the wrong ones."""
    images = _check_images(images, "images")
    if not len(images) == len(labels) == len(predicted) == len(probabilities):
        raise ValueError(f"{len(images)} images, {len(labels)} labels, {len(predicted)} predictions, "
                         f"{len(probabilities)} probabilities")
    if len(images) == 0:
        raise ValueError("no test images to show (figures.test_predictions is 0)")
    ncols = max(1, min(ncols, len(images)))
    nrows = math.ceil(len(images) / ncols)
    fig = new_figure(1.75 * ncols, 2.0 * nrows + (0.4 if title else 0.0))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    titles, wrong = [], 0
    for ax, image, label, guess, probability in zip(axes, images, labels, predicted, probabilities):
        text = f"true: {_class_name(label, classes)}\npred: {_class_name(guess, classes)} ({float(probability):.0%})"
        _show_image(ax, image, text, fontsize=8.5)
        if int(label) != int(guess):
            ax.title.set_color(WRONG_COLOR)
            wrong += 1
        titles.append(text)
    for ax in axes[len(images):]:
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    info = save_figure(fig, paths)
    return FigureInfo(info.paths, info.size_px, annotations=tuple(titles), notes={"wrong": wrong, "shown": len(images)})


def _pair_axes(fig: Figure, n_pairs: int, pairs_per_row: int) -> list[tuple[Axes, Axes]]:
    """Axes for side-by-side pairs, with a narrow gap column between neighbouring pairs."""
    nrows = math.ceil(n_pairs / pairs_per_row)
    ratios: list[float] = []
    for k in range(pairs_per_row):
        ratios += [1.0, 1.0] + ([0.22] if k < pairs_per_row - 1 else [])
    grid = fig.add_gridspec(nrows, len(ratios), width_ratios=ratios, wspace=0.02)
    pairs = []
    for k in range(n_pairs):
        row, col = divmod(k, pairs_per_row)
        pairs.append((fig.add_subplot(grid[row, 3 * col]), fig.add_subplot(grid[row, 3 * col + 1])))
    return pairs


def _column_header(ax: Axes, text: str) -> None:
    ax.annotate(text, xy=(0.5, 1.0), xycoords="axes fraction", xytext=(0, 17),
                textcoords="offset points", ha="center", va="bottom",
                fontsize=10.5, fontweight="bold")


@styled
def plot_augmentation_pairs(
    originals: np.ndarray,
    augmented: np.ndarray,
    labels: Sequence[int],
    classes: Sequence[str],
    augmentation_name: str,
    paths: PathList,
    description: str | None = None,
) -> FigureInfo:
    """Originals beside their augmented versions, three pairs per row.

    ``augmentation_name`` heads the augmented columns, so keep it short; ``description``
    (the full wording) goes in the title.
    """
    originals = _check_images(originals, "originals")
    augmented = _check_images(augmented, "augmented")
    if not len(originals) == len(augmented) == len(labels):
        raise ValueError(f"{len(originals)} originals, {len(augmented)} augmented, {len(labels)} labels")
    per_row = min(3, len(originals))
    nrows = math.ceil(len(originals) / per_row)
    fig = new_figure(3.2 * per_row + 0.3, 1.75 * nrows + 0.95)
    pairs = _pair_axes(fig, len(originals), per_row)
    for k, ((left, right), label) in enumerate(zip(pairs, labels)):
        name = _class_name(label, classes)
        _show_image(left, originals[k], name)
        _show_image(right, augmented[k], name)
        if k < per_row:
            _column_header(left, "original")
            _column_header(right, augmentation_name)
    fig.suptitle(f"Data augmentation: {description or augmentation_name}")
    return save_figure(fig, paths)


def _subset_columns(counts: pd.DataFrame) -> list[str]:
    if "class" not in counts.columns:
        raise ValueError("counts needs a 'class' column")
    subsets = [c for c in counts.columns if c != "class"]
    if not subsets:
        raise ValueError("counts needs at least one subset column besides 'class'")
    return subsets


def _legend_label(subset: str, values: pd.Series) -> str:
    return f"{subset} (n = {int(values.sum()):,})"


def _horizontal_bars(ax: Axes, counts: pd.DataFrame, subsets: list[str]) -> None:
    positions = np.arange(len(counts))
    height = 0.8 / len(subsets)
    for k, subset in enumerate(subsets):
        offset = (k - (len(subsets) - 1) / 2) * height
        bars = ax.barh(positions + offset, counts[subset], height=height,
                       label=_legend_label(subset, counts[subset]))
        ax.bar_label(bars, fmt="{:,.0f}", padding=2, fontsize=7.5)
    ax.set_yticks(positions, [literal(name) for name in counts["class"]])
    ax.invert_yaxis()  # first class on top, as in the table
    ax.set_xlabel("number of images")
    ax.set_xlim(0, counts[subsets].to_numpy().max() * 1.14)
    ax.set_ymargin(0.01)
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x")
    ax.set_axisbelow(True)


def _vertical_bars(ax: Axes, counts: pd.DataFrame, subsets: list[str]) -> None:
    positions = np.arange(len(counts))
    width = 0.84 / len(subsets)
    for k, subset in enumerate(subsets):
        offset = (k - (len(subsets) - 1) / 2) * width
        ax.bar(positions + offset, counts[subset], width=width,
               label=_legend_label(subset, counts[subset]))
    ax.set_xticks(positions, [literal(name) for name in counts["class"]], rotation=90, fontsize=6.5)
    ax.set_ylabel("number of images")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_xmargin(0.005)
    ax.tick_params(axis="x", length=2, pad=1)
    ax.grid(axis="y")
    ax.set_axisbelow(True)


@styled
def plot_class_counts(counts: pd.DataFrame, paths: PathList, title: str | None = None) -> FigureInfo:
    """Grouped bars of images per class, one colour per subset (train/val/test)."""
    subsets = _subset_columns(counts)
    n_classes = len(counts)
    compact = n_classes >= COMPACT_FROM
    if compact:
        fig = new_figure(max(10.0, 0.16 * n_classes + 1.0), 5.6)
        _vertical_bars(fig.add_subplot(), counts, subsets)
    else:
        fig = new_figure(7.6, 1.6 + 0.28 * n_classes * max(2, len(subsets)) / 1.5)
        _horizontal_bars(fig.add_subplot(), counts, subsets)
    fig.suptitle(title or "Images per class")
    fig.legend(loc="outside lower center", ncols=len(subsets))
    info = save_figure(fig, paths)
    return FigureInfo(info.paths, info.size_px, notes={"compact": compact})


@styled
def plot_augmentation_columns(
    originals: np.ndarray,
    columns: Sequence[tuple[str, np.ndarray]],
    labels: Sequence[int],
    classes: Sequence[str],
    paths: PathList,
    title: str,
) -> FigureInfo:
    """The originals in the first row (with their class names), then one row per augmentation
    of the study applied alone, each row labelled with the augmentation and its parameters."""
    originals = _check_images(originals, "originals")
    if not columns:
        raise ValueError("no augmentation columns to plot")
    for header, images in columns:
        if len(_check_images(images, header)) != len(originals):
            raise ValueError(f"{header!r} has {len(images)} images, expected {len(originals)}")
    rows = [("original", originals), *columns]
    fig = new_figure(1.5 * len(originals) + 1.6, 1.62 * len(rows) + 0.6)
    axes = fig.subplots(len(rows), len(originals), squeeze=False)
    for r, (header, images) in enumerate(rows):
        for c, label in enumerate(labels):
            _show_image(axes[r, c], images[c], _class_name(label, classes) if r == 0 else "")
        axes[r, 0].annotate(header, xy=(0.0, 0.5), xycoords="axes fraction", xytext=(-8, 0),
                            textcoords="offset points", ha="right", va="center", fontsize=10.5, fontweight="bold")
    fig.suptitle(title)
    return save_figure(fig, paths)
