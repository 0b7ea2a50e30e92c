"""Learning curves in the style of livelossplot: loss and accuracy side by side."""

from __future__ import annotations

import math
import os
from typing import Mapping, Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from gridscape.plots.style import DIVERGED_COLOR, OKABE_ITO, FigureInfo, new_figure, save_figure, styled

PathList = Sequence[str | os.PathLike]

SPLIT_NAMES = {"train": "training", "val": "validation", "test": "test"}
EVAL_SPLITS = ("val", "test")
# A loss spike this many times the typical loss (an exploding run) would flatten every
# other curve on a linear axis; healthy runs stay below it (2.3 at start vs ~1 median).
LOG_SCALE_SPIKE = 10.0
CELL_MARKERS = ("o", "s", "^", "D", "v")
LEGEND_RIGHT_MAX = 12  # cells; more would squeeze the panels beside a tall legend


def _eval_splits(history: pd.DataFrame) -> list[str]:
    return [s for s in EVAL_SPLITS if f"{s}_loss" in history.columns or f"{s}_acc" in history.columns]


def _column(history: pd.DataFrame, name: str) -> np.ndarray:
    """The column as floats with inf turned into NaN, so lines simply stop there."""
    if name not in history.columns:
        return np.full(len(history), np.nan)
    values = pd.to_numeric(history[name], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(values), values, np.nan)


def _check(history: pd.DataFrame) -> pd.DataFrame:
    missing = {"epoch", "train_loss", "train_acc"} - set(history.columns)
    if missing:
        raise KeyError(f"history lacks columns {sorted(missing)}")
    return history.sort_values("epoch", kind="stable").reset_index(drop=True)


def _diverged_mask(history: pd.DataFrame) -> np.ndarray:
    """Rows where training blew up.

    A NaN evaluation loss alone may just mean "not evaluated this epoch", so it counts
    only when the matching accuracy was recorded.
    """
    train = pd.to_numeric(history["train_loss"], errors="coerce").to_numpy(dtype=float)
    mask = ~np.isfinite(train)
    for split in _eval_splits(history):
        if f"{split}_loss" not in history.columns:
            continue
        loss = pd.to_numeric(history[f"{split}_loss"], errors="coerce").to_numpy(dtype=float)
        acc = _column(history, f"{split}_acc")
        mask |= np.isinf(loss) | (np.isnan(loss) & np.isfinite(acc))
    return mask


def divergence_epoch(history: pd.DataFrame) -> float | None:
    """First epoch whose loss is not finite, or None for a healthy run."""
    history = _check(history)
    mask = _diverged_mask(history)
    return float(history["epoch"].to_numpy()[mask][0]) if mask.any() else None


def _maybe_log_scale(ax: Axes, losses: Sequence[np.ndarray]) -> None:
    values = np.concatenate([np.asarray(v, dtype=float).ravel() for v in losses] or [np.array([])])
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size and positive.max() / np.median(positive) > LOG_SCALE_SPIKE:
        ax.set_yscale("log")
        # Plain numbers (0.5, 1, 2, 5) read better than powers of ten for a loss.
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_ylabel(f"{ax.get_ylabel()} (log scale)")


def _format_panels(loss_ax: Axes, acc_ax: Axes) -> None:
    loss_ax.set_title("Log loss")
    loss_ax.set_ylabel("cross-entropy loss")
    acc_ax.set_title("Accuracy")
    acc_ax.set_ylabel("accuracy (%)")
    for ax in (loss_ax, acc_ax):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True)


def _mark_divergence(axes: Sequence[Axes], epoch: float, last_epoch: float) -> None:
    label = f"diverged (epoch {epoch:g})"
    for ax in axes:
        ax.axvline(epoch, color=DIVERGED_COLOR, linestyle=":", linewidth=1.8, label=label)
        if last_epoch > epoch:
            ax.axvspan(epoch, last_epoch, color=DIVERGED_COLOR, alpha=0.08, linewidth=0)


@styled
def plot_training_curves(history: pd.DataFrame, paths: PathList, title: str | None = None) -> FigureInfo:
    """Training and validation (or test) loss and accuracy per epoch."""
    history = _check(history)
    splits = ["train", *_eval_splits(history)]
    epochs = history["epoch"].to_numpy(dtype=float)
    fig = new_figure(11.0, 4.4)
    loss_ax, acc_ax = fig.subplots(1, 2)
    marker = "o" if len(history) <= 30 else None
    for colour, split in zip(OKABE_ITO, splits):
        style = {"color": colour, "marker": marker, "markersize": 3.5, "label": SPLIT_NAMES[split]}
        loss_ax.plot(epochs, _column(history, f"{split}_loss"), **style)
        acc_ax.plot(epochs, 100 * _column(history, f"{split}_acc"), **style)
    _format_panels(loss_ax, acc_ax)
    _maybe_log_scale(loss_ax, [_column(history, f"{s}_loss") for s in splits])
    diverged = divergence_epoch(history)
    if diverged is not None:
        _mark_divergence((loss_ax, acc_ax), diverged, float(np.nanmax(epochs)))
    for ax in (loss_ax, acc_ax):
        ax.legend(loc="best")
    fig.suptitle(title or "Training curves")
    info = save_figure(fig, paths)
    notes = {"splits": [SPLIT_NAMES[s] for s in splits], "diverged_epoch": diverged}
    return FigureInfo(info.paths, info.size_px, notes=notes)


def _cell_styles(n: int) -> list[tuple[object, str | None]]:
    """One colour per cell; past eight cells, markers tell apart neighbouring shades."""
    if n <= len(OKABE_ITO):
        return [(c, None) for c in OKABE_ITO[:n]]
    colours = mpl.colormaps["viridis"](np.linspace(0.0, 0.92, n))
    return [(colours[k], CELL_MARKERS[k % len(CELL_MARKERS)]) for k in range(n)]


def _plot_cell(loss_ax: Axes, acc_ax: Axes, history: pd.DataFrame, colour: object,
               marker: str | None) -> bool:
    """Draw one cell's curves; return whether it diverged."""
    epochs = history["epoch"].to_numpy(dtype=float)
    style = {"color": colour, "marker": marker, "markersize": 4,
             "markevery": max(1, len(history) // 6), "linewidth": 1.3}
    for split, linestyle in (("train", "-"), *((s, "--") for s in _eval_splits(history))):
        loss_ax.plot(epochs, _column(history, f"{split}_loss"), linestyle=linestyle, **style)
        acc_ax.plot(epochs, 100 * _column(history, f"{split}_acc"), linestyle=linestyle, **style)
    diverged = bool(_diverged_mask(history).any())
    if diverged:
        _mark_last_finite(loss_ax, epochs, _column(history, "train_loss"), colour)
    return diverged


def _mark_last_finite(ax: Axes, epochs: np.ndarray, losses: np.ndarray, colour: object) -> None:
    finite = np.flatnonzero(np.isfinite(losses))
    if finite.size:
        k = finite[-1]
        ax.plot([epochs[k]], [losses[k]], marker="X", markersize=9, color=colour,
                markeredgecolor="black", markeredgewidth=0.8, linestyle="none", zorder=5)


def _cell_handles(labels: Sequence[str], styles: Sequence[tuple[object, str | None]],
                  diverged: Sequence[bool]) -> list[Line2D]:
    return [Line2D([], [], color=c, marker=m, markersize=5,
                   label=f"{label} (diverged)" if d else label)
            for label, (c, m), d in zip(labels, styles, diverged)]


def _legend_title(eval_name: str | None, any_diverged: bool, run_kind: str) -> str:
    """The line-style key lives in the legend title, so one legend explains everything."""
    lines = [run_kind, "solid: training" + (f", dashed: {eval_name}" if eval_name else "")]
    if any_diverged:
        lines.append(f"× marks the last finite loss of a diverged {run_kind}")
    return "\n".join(lines)


def _cell_legend(fig: Figure, histories: Mapping[str, pd.DataFrame],
                 styles: Sequence[tuple[object, str | None]], diverged: Sequence[bool],
                 below: bool, run_kind: str) -> None:
    eval_splits = {s for h in histories.values() for s in _eval_splits(h)}
    eval_name = " / ".join(SPLIT_NAMES[s] for s in EVAL_SPLITS if s in eval_splits) or None
    fontsize = 9 if len(histories) <= 10 else 8
    legend = fig.legend(handles=_cell_handles(list(histories), styles, diverged),
                        loc="outside lower center" if below else "outside right upper",
                        ncols=3 if below else 1, fontsize=fontsize,
                        title=_legend_title(eval_name, any(diverged), run_kind), title_fontsize=fontsize + 0.5)
    legend.get_title().set_multialignment("center")


@styled
def plot_grid_curves(histories: Mapping[str, pd.DataFrame], paths: PathList,
                     title: str | None = None, run_kind: str = "grid cell") -> FigureInfo:
    """Every grid cell's (or experiment's: ``run_kind``) curves in one figure: colour = run,
    solid = train, dashed = eval."""
    if not histories:
        raise ValueError("no histories to plot")
    checked = {label: _check(h) for label, h in histories.items()}
    styles = _cell_styles(len(checked))
    below = len(checked) > LEGEND_RIGHT_MAX  # a long legend goes under the panels, in columns
    legend_rows = math.ceil(len(checked) / 3)
    fig = new_figure(12.0, 5.0 + 0.19 * legend_rows) if below else new_figure(12.0, 5.2)
    loss_ax, acc_ax = fig.subplots(1, 2)
    diverged = [_plot_cell(loss_ax, acc_ax, h, c, m) for h, (c, m) in zip(checked.values(), styles)]
    _format_panels(loss_ax, acc_ax)
    _maybe_log_scale(loss_ax, [_column(h, c) for h in checked.values() for c in h.columns
                               if c.endswith("_loss")])
    _cell_legend(fig, checked, styles, diverged, below, run_kind)
    fig.suptitle(title or "Grid search: learning curves of every cell")
    info = save_figure(fig, paths)
    notes = {"diverged": [label for label, d in zip(checked, diverged) if d]}
    return FigureInfo(info.paths, info.size_px, notes=notes)
