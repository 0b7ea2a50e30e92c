"""Grid-search results as an annotated heat map."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Mapping, Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from gridscape.plots.style import (
    MISSING_COLOR,
    FigureInfo,
    format_value,
    is_accuracy,
    metric_label,
    new_figure,
    same_value,
    save_figure,
    styled,
)

PathList = Sequence[str | os.PathLike]

DIVERGED = "diverged"
MISSING = "n/a"


@dataclass
class _Cells:
    """The grid reshaped to (rows, columns); one-axis grids have a single row."""

    row_values: list[object]
    col_values: list[object]
    values: np.ndarray  # metric in display units (accuracy in %), NaN where unusable
    diverged: np.ndarray  # bool
    present: np.ndarray  # bool: the grid has a row for this cell

    @property
    def one_axis(self) -> bool:
        return self.row_values == [None]


def _axis_values(grid: pd.DataFrame, key: str) -> list[object]:
    if key not in grid.columns:
        raise KeyError(f"axis key {key!r} is not a column of the grid")
    return list(pd.unique(grid[key]))


def _index_of(values: list[object], value: object) -> int:
    return next(i for i, v in enumerate(values) if same_value(v, value))


def _is_diverged(row: pd.Series, value: float) -> bool:
    status = str(row.get("status", "ok")).lower()
    return status == DIVERGED or ("status" not in row.index and not math.isfinite(value))


def _reshape(grid: pd.DataFrame, axis_keys: Sequence[str], metric: str) -> _Cells:
    if metric not in grid.columns:
        raise KeyError(f"metric {metric!r} is not a column of the grid")
    rows = _axis_values(grid, axis_keys[0]) if len(axis_keys) == 2 else [None]
    cols = _axis_values(grid, axis_keys[-1])
    shape = (len(rows), len(cols))
    cells = _Cells(rows, cols, np.full(shape, np.nan), np.zeros(shape, bool), np.zeros(shape, bool))
    scale = 100.0 if is_accuracy(metric) else 1.0
    for _, record in grid.iterrows():
        i = _index_of(rows, record[axis_keys[0]]) if len(axis_keys) == 2 else 0
        j = _index_of(cols, record[axis_keys[-1]])
        if cells.present[i, j]:
            raise ValueError(f"the grid has more than one row for cell ({rows[i]}, {cols[j]})")
        value = float(record[metric]) if pd.notna(record[metric]) else math.nan
        cells.present[i, j] = True
        cells.diverged[i, j] = _is_diverged(record, value)
        if not cells.diverged[i, j] and math.isfinite(value):
            cells.values[i, j] = value * scale
    return cells


def _cell_text(cells: _Cells, i: int, j: int, metric: str) -> str:
    if cells.diverged[i, j]:
        return DIVERGED
    value = cells.values[i, j]
    if not cells.present[i, j] or not math.isfinite(value):
        return MISSING
    return f"{value:.1f}%" if is_accuracy(metric) else f"{value:.3f}"


def _text_colour(rgba: Sequence[float]) -> str:
    luminance = 0.2126 * rgba[0] + 0.7152 * rgba[1] + 0.0722 * rgba[2]
    return "black" if luminance > 0.45 else "white"


def _norm(values: np.ndarray) -> Normalize:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return Normalize(0.0, 1.0)
    low, high = float(finite.min()), float(finite.max())
    if low == high:  # a flat colour scale would divide by zero
        low, high = low - 0.5, high + 0.5
    return Normalize(low, high)


def _draw_cells(ax: Axes, cells: _Cells, metric: str, cmap: Colormap, norm: Normalize) -> list[str]:
    ax.imshow(np.ma.masked_invalid(cells.values), cmap=cmap, norm=norm, aspect="auto")
    nrows, ncols = cells.values.shape
    fontsize = 10 if ncols <= 6 else 8.5 if ncols <= 9 else 7
    texts = []
    for i in range(nrows):
        for j in range(ncols):
            text = _cell_text(cells, i, j, metric)
            texts.append(text)
            _annotate(ax, i, j, text, cells, cmap, norm, fontsize)
    return texts


def _annotate(ax: Axes, i: int, j: int, text: str, cells: _Cells, cmap: Colormap,
              norm: Normalize, fontsize: float) -> None:
    value = cells.values[i, j]
    style: dict[str, object] = {"ha": "center", "va": "center", "fontsize": fontsize}
    if text in (DIVERGED, MISSING):
        hatch = "///" if text == DIVERGED else None
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=MISSING_COLOR,
                               edgecolor="#9a9a9a", hatch=hatch, linewidth=0))
        style.update(color="black", fontstyle="italic",
                     bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5})
    else:
        style.update(color=_text_colour(cmap(norm(value))))
    ax.text(j, i, text, **style)


def _outline_best(ax: Axes, cells: _Cells, axis_keys: Sequence[str],
                  best: Mapping[str, object] | None) -> bool:
    if not best:
        return False
    try:
        i = _index_of(cells.row_values, best[axis_keys[0]]) if len(axis_keys) == 2 else 0
        j = _index_of(cells.col_values, best[axis_keys[-1]])
    except (KeyError, StopIteration):
        return False  # the best cell lies outside this grid: nothing to outline
    ax.add_patch(Rectangle((j - 0.46, i - 0.46), 0.92, 0.92, fill=False, edgecolor="black",
                           linewidth=2.6, zorder=5,
                           path_effects=[patheffects.withStroke(linewidth=5, foreground="white")]))
    return True


def _set_ticks(ax: Axes, cells: _Cells, axis_keys: Sequence[str]) -> None:
    ax.set_xticks(range(len(cells.col_values)), [format_value(v) for v in cells.col_values])
    ax.set_xlabel(axis_keys[-1])
    if len(axis_keys) == 2:
        ax.set_yticks(range(len(cells.row_values)), [format_value(v) for v in cells.row_values])
        ax.set_ylabel(axis_keys[0])
    else:
        ax.set_yticks([])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)


def _colorbar(fig: Figure, ax: Axes, metric: str, cmap: Colormap, norm: Normalize,
              one_row: bool) -> None:
    bar = fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax,
                       orientation="horizontal" if one_row else "vertical",
                       fraction=0.05, pad=0.03, shrink=0.7 if one_row else 0.9,
                       aspect=45 if one_row else 20)
    unit = " (%)" if is_accuracy(metric) else ""
    bar.set_label(f"{metric_label(metric)}{unit}, better →" if one_row
                  else f"{metric_label(metric)}{unit}, better ↑")
    if not is_accuracy(metric):  # put the better (lower) loss at the same end as higher accuracy
        if one_row:
            bar.ax.invert_xaxis()
        else:
            bar.ax.invert_yaxis()
    bar.outline.set_visible(False)


def _key_legend(fig: Figure, cells: _Cells, outlined: bool) -> None:
    handles = []
    if outlined:
        handles.append(Patch(fill=False, edgecolor="black", linewidth=2.2, label="best cell"))
    if cells.diverged.any():
        handles.append(Patch(facecolor=MISSING_COLOR, edgecolor="#9a9a9a", hatch="///",
                             linewidth=0, label="diverged"))
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles),
                   handlelength=1.6, handleheight=1.1)


def _figure_size(cells: _Cells) -> tuple[float, float]:
    nrows, ncols = cells.values.shape
    if cells.one_axis:
        return max(5.0, 1.0 * ncols + 1.6), 2.8
    return max(5.0, 1.05 * ncols + 2.9), max(3.4, 0.72 * nrows + 2.2)


@styled
def plot_grid_heatmap(
    grid: pd.DataFrame,
    axis_keys: Sequence[str],
    metric: str,
    paths: PathList,
    title: str | None = None,
    best: Mapping[str, object] | None = None,
) -> FigureInfo:
    """Annotated heat map of ``metric`` over a one- or two-axis grid.

    Returns a FigureInfo whose ``annotations`` are the cell texts in row-major order.
    """
    axis_keys = list(axis_keys)
    if len(axis_keys) not in (1, 2):
        raise ValueError(f"a heat map shows one or two axes, got {len(axis_keys)}: {axis_keys}")
    cells = _reshape(grid, axis_keys, metric)
    cmap = mpl.colormaps["viridis" if is_accuracy(metric) else "viridis_r"]
    norm = _norm(cells.values)
    fig = new_figure(*_figure_size(cells))
    ax = fig.add_subplot()
    texts = _draw_cells(ax, cells, metric, cmap, norm)
    outlined = _outline_best(ax, cells, axis_keys, best)
    _set_ticks(ax, cells, axis_keys)
    _colorbar(fig, ax, metric, cmap, norm, one_row=cells.one_axis)
    _key_legend(fig, cells, outlined)
    ax.set_title(title or f"Grid search: {metric_label(metric)}")
    info = save_figure(fig, paths)
    notes = {"rows": [format_value(v) for v in cells.row_values if v is not None],
             "columns": [format_value(v) for v in cells.col_values], "best_outlined": outlined}
    return FigureInfo(info.paths, info.size_px, annotations=tuple(texts), notes=notes)
