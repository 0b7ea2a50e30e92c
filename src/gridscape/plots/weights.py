"""Weight-magnitude histograms: how many weights of each model sit near zero, per tensor.

Both axes are logarithmic. The x-axis has to be: the L1-vs-L2 contrast lives in the decades
below 1e-3, which a linear axis squeezes into one bin. The count axis is too, so that a few
hundred near-zero weights stay visible next to the bulk of tens of thousands.
"""

from __future__ import annotations

import itertools
import math
import os
from typing import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes

from gridscape.plots.style import OKABE_ITO, FigureInfo, literal, new_figure, save_figure, styled
from gridscape.weight_stats import NEAR_ZERO  # marked on every panel, same threshold as the table

PathList = Sequence[str | os.PathLike]
FLOOR = 1e-6  # smaller |w| (exact zeros included) are counted in the first bin
N_BINS = 60
MAX_COLUMNS = 3
ALL_PANEL = "all weights"


def _panel_names(models: Mapping[str, Mapping[str, np.ndarray]]) -> list[str]:
    """Parameter names over all models: the first model's order, then names only others have."""
    names: dict[str, None] = {}
    for weights in models.values():
        names.update(dict.fromkeys(weights))
    return list(names)


def _magnitudes(weights: Mapping[str, np.ndarray]) -> np.ndarray:
    """|w| of the finite weights: a diverged run's NaN or infinite weights have no place on a
    log axis (``_non_finite`` counts them for the legend)."""
    if not weights:
        return np.zeros(0)
    values = np.abs(np.concatenate([np.asarray(w, dtype=np.float64).ravel() for w in weights.values()]))
    return values[np.isfinite(values)]


def _non_finite(weights: Mapping[str, np.ndarray]) -> int:
    return int(sum((~np.isfinite(np.asarray(w, dtype=np.float64))).sum() for w in weights.values()))


def _bins(models: Mapping[str, Mapping[str, np.ndarray]]) -> np.ndarray:
    """Shared log-spaced edges, so the same bar width means the same |w| range in every panel."""
    largest = max((float(_magnitudes(w).max(initial=0.0)) for w in models.values()), default=0.0)
    # All-zero (or all-tiny) weights still need a non-empty range to draw on.
    top = max(largest, FLOOR * 10)
    return np.logspace(math.log10(FLOOR), math.log10(top), N_BINS + 1)


def _draw_panel(ax: Axes, series: Sequence[tuple[str, str, np.ndarray]], bins: np.ndarray, title: str) -> None:
    for label, colour, values in series:
        if values.size:
            # Clipping puts exact zeros in the first bin instead of dropping them off the log axis.
            ax.hist(np.clip(values, FLOOR, None), bins=bins, histtype="step", color=colour, label=label)
    ax.axvline(NEAR_ZERO, color="0.3", linestyle=":", linewidth=1.0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_title(literal(title), fontsize=9)


@styled
def plot_weight_histograms(models: Mapping[str, Mapping[str, np.ndarray]], labels: Mapping[str, str],
                           paths: PathList, title: str) -> FigureInfo:
    """A panel of |w| histograms for all weights, then one per weight tensor; a line per model.

    ``models`` maps an experiment name to its weights (as ``read_weights`` returns them),
    ``labels`` the experiment name to its legend text (the name itself when absent).
    """
    if not models:
        raise ValueError("no models to plot weight histograms for")
    names = _panel_names(models)
    panels = [ALL_PANEL, *names]
    bins = _bins(models)
    colours = dict(zip(models, itertools.cycle(OKABE_ITO)))  # one colour per model across all panels
    columns = min(MAX_COLUMNS, len(panels))
    rows = math.ceil(len(panels) / columns)
    fig = new_figure(3.4 * columns, 2.6 * rows + 0.6)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, panel in zip(axes, panels):
        series = []
        for experiment, weights in models.items():
            selected = weights if panel == ALL_PANEL else {k: v for k, v in weights.items() if k == panel}
            values = _magnitudes(selected)
            label = literal(labels.get(experiment, experiment))
            missing = _non_finite(weights) if panel == ALL_PANEL else 0
            series.append((f"{label} ({missing:,} not finite)" if missing else label, colours[experiment], values))
        _draw_panel(ax, series, bins, panel)
    for ax in axes[len(panels):]:
        ax.remove()  # the last grid row may be partly empty
    axes[0].legend(loc="best")
    fig.supxlabel(f"|w| (log scale; dotted line at {NEAR_ZERO:g}, values below {FLOOR:g} in the first bin)")
    fig.supylabel("number of weights (log scale)")
    fig.suptitle(title)
    info = save_figure(fig, paths)
    return FigureInfo(info.paths, info.size_px, notes={"panels": panels, "bins": bins})
