"""Gradient-flow figures: mean |gradient| per weight tensor, from the input side to the output.

The y-axis is logarithmic because the point of the figure is a ratio: a healthy network keeps
its gradients within an order of magnitude or two from the last layer to the first, a network
with vanishing gradients loses many orders on the way back.
"""

from __future__ import annotations

import os
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from gridscape.plots.style import OKABE_ITO, FigureInfo, new_figure, save_figure, styled

PathList = Sequence[str | os.PathLike]
TICK_LABELS_MAX = 24  # more layer names than this are unreadable: ticks show indices instead
FLOOR = 1e-30  # an exactly zero gradient would vanish from a log axis; show it at the floor


def _epochs_to_show(frame: pd.DataFrame) -> list[int]:
    epochs = sorted(frame["epoch"].unique())
    if len(epochs) <= 2:
        return epochs
    return [epochs[0], epochs[len(epochs) // 2], epochs[-1]]


def _values(rows: pd.DataFrame) -> np.ndarray:
    return np.maximum(rows.sort_values("order")["mean_abs_grad"].to_numpy(dtype=float), FLOOR)


@styled
def plot_gradient_flow(frame: pd.DataFrame, paths: PathList, title: str) -> FigureInfo:
    """One experiment: a line per shown epoch (first, middle, last) over its layers."""
    if frame.empty:
        raise ValueError("no gradient-flow rows to plot")
    epochs = _epochs_to_show(frame)
    first = frame[frame["epoch"] == epochs[0]].sort_values("order")
    n = len(first)
    fig = new_figure(8.0, 4.8)
    ax = fig.subplots()
    for colour, epoch in zip(OKABE_ITO, epochs):
        ax.plot(np.arange(n), _values(frame[frame["epoch"] == epoch]), marker="o", markersize=3,
                color=colour, label=f"epoch {epoch}")
    ax.set_yscale("log")
    if n <= TICK_LABELS_MAX:
        ax.set_xticks(np.arange(n), first["layer"], rotation=60, ha="right", fontsize=7)
    else:
        ax.set_xlabel("weight tensor, from the input (0) to the output")
    ax.set_ylabel("mean |gradient| over the epoch (log scale)")
    ax.legend(loc="best")
    fig.suptitle(title)
    return save_figure(fig, paths)


@styled
def plot_gradient_flow_overlay(frames: Mapping[str, pd.DataFrame], paths: PathList, title: str) -> FigureInfo:
    """Several experiments' last-epoch gradient flow on one axis. Networks of different depth
    are placed on a common x-axis, the relative depth from the input (0) to the output (1)."""
    if not frames:
        raise ValueError("no experiments to overlay")
    fig = new_figure(8.0, 4.8)
    ax = fig.subplots()
    for (label, frame), colour in zip(frames.items(), OKABE_ITO * 4):
        last = frame[frame["epoch"] == frame["epoch"].max()]
        values = _values(last)
        depth = np.linspace(0.0, 1.0, len(values)) if len(values) > 1 else np.zeros(1)
        ax.plot(depth, values, marker="o", markersize=3, color=colour, label=f"{label} ({len(values)} tensors)")
    ax.set_yscale("log")
    ax.set_xlabel("relative depth of the weight tensor (0 = first layer, 1 = last layer)")
    ax.set_ylabel("mean |gradient|, last epoch (log scale)")
    ax.legend(loc="best")
    fig.suptitle(title)
    return save_figure(fig, paths)
