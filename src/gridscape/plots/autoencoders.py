"""The autoencoder kind's figures: loss curves, the handout's input-and-reconstruction figure
per architecture, the decoded mean code beside the mean training image, and two-dimensional
codes coloured by class. Read from the runs' CSV and NPZ files; no torch."""

from __future__ import annotations

import os
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from gridscape.plots.style import OKABE_ITO, FigureInfo, literal, new_figure, save_figure, styled

PathList = Sequence[str | os.PathLike]


def latent_of(run: str) -> str:
    """'fc_32' -> '32'."""
    return run.rpartition("_")[2]


def _image(ax: Axes, image: np.ndarray, title: str) -> None:
    """A (C, H, W) image on the [0, 1] scale (values outside are clipped for display)."""
    image = np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0)
    if image.shape[0] == 1:
        ax.imshow(image[0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(np.transpose(image, (1, 2, 0)), interpolation="nearest")
    ax.set_title(title, fontsize=9.5)
    ax.set_axis_off()


def _loss_curve(ax: Axes, history: pd.DataFrame, colour: str, label: str = "") -> None:
    ax.plot(history["epoch"], history["train_loss"], color=colour, label=f"{label}training".strip())
    ax.plot(history["epoch"], history["test_loss"], color=colour, linestyle="--", label=f"{label}test".strip())
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss per pixel")
    ax.grid(True)


@styled
def plot_losses(histories: Mapping[str, pd.DataFrame], paths: PathList) -> FigureInfo:
    """Every run's training (solid) and test (dashed) loss per epoch, on one log axis."""
    if not histories:
        raise ValueError("no autoencoder runs to plot")
    fig = new_figure(7.0, 4.2)
    ax = fig.subplots()
    for (run, history), colour in zip(histories.items(), OKABE_ITO * 4):
        _loss_curve(ax, history, colour, f"{literal(run)} ")
    ax.set_yscale("log")
    ax.legend(ncol=2)
    fig.suptitle("Autoencoders: reconstruction loss (solid: training, dashed: test)")
    return save_figure(fig, paths)


@styled
def plot_architecture(
    architecture: str, histories: Mapping[str, pd.DataFrame], samples: Mapping[str, Mapping[str, np.ndarray]],
    paths: PathList,
) -> FigureInfo:
    """One row per latent size: the loss curve, the first sample input, its reconstruction (the
    handout's "1 image with 6 sub-images" for two sizes)."""
    if not histories:
        raise ValueError(f"no runs of architecture {architecture!r} to plot")
    fig = new_figure(9.0, 2.7 * len(histories) + 0.5)
    grid = fig.add_gridspec(len(histories), 3, width_ratios=[2.2, 1, 1])
    for row, (run, history) in enumerate(histories.items()):
        _loss_curve(fig.add_subplot(grid[row, 0]), history, OKABE_ITO[0])
        fig.axes[-1].set_title(f"latent size {latent_of(run)}: loss", fontsize=10)
        fig.axes[-1].legend()
        sample = samples[run]
        _image(fig.add_subplot(grid[row, 1]), sample["inputs"][0], "input")
        _image(fig.add_subplot(grid[row, 2]), sample["outputs"][0], "reconstruction")
    fig.suptitle(f"Autoencoder {literal(architecture)}: loss, an input and its reconstruction per latent size")
    return save_figure(fig, paths)


@styled
def plot_mean_latents(decoded: Mapping[str, Mapping[str, np.ndarray]], paths: PathList) -> FigureInfo:
    """The decoded mean code of each run, then the mean training image (the handout's
    "1 image with 2 sub-images" for two latent sizes, with the mean image for comparison)."""
    if not decoded:
        raise ValueError("no decoded mean codes to plot")
    panels = [(f"decoded mean code, {literal(run)}", item["image"]) for run, item in decoded.items()]
    panels.append(("mean training image", next(iter(decoded.values()))["mean_image"]))
    fig = new_figure(2.4 * len(panels), 2.9)
    for ax, (title, image) in zip(np.atleast_1d(fig.subplots(1, len(panels))), panels):
        _image(ax, image, title)
    fig.suptitle("The mean code of the training images, decoded")
    return save_figure(fig, paths)


@styled
def plot_codes(latents: Mapping[str, Mapping[str, np.ndarray]], classes: Sequence[str], paths: PathList,
               max_points: int = 5000) -> FigureInfo:
    """Each two-dimensional run's codes of the training images, coloured by class (a fixed
    subsample of ``max_points`` when there are more, so that the classes stay visible)."""
    if not latents:
        raise ValueError("no two-dimensional codes to plot")
    fig = new_figure(5.2 * len(latents), 4.8)
    axes = np.atleast_1d(fig.subplots(1, len(latents)))
    colours = [OKABE_ITO[i % len(OKABE_ITO)] for i in range(len(classes))]
    for ax, (run, item) in zip(axes, latents.items()):
        codes, labels = np.asarray(item["z"]), np.asarray(item["labels"])
        if codes.shape[1] != 2:
            raise ValueError(f"run {run}: codes of size {codes.shape[1]}, expected 2")
        keep = np.random.default_rng(0).permutation(len(codes))[:max_points]
        for index, name in enumerate(classes):
            chosen = keep[labels[keep] == index]
            ax.scatter(codes[chosen, 0], codes[chosen, 1], s=4, color=colours[index],
                       marker="o" if index < len(OKABE_ITO) else "x", label=literal(name), alpha=0.7)
        ax.set_title(literal(run))
        ax.set_xlabel("code unit 1")
        ax.set_ylabel("code unit 2")
    axes[-1].legend(markerscale=3, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle("Two-dimensional codes of the training images, by class")
    return save_figure(fig, paths)
