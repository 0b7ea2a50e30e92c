"""Figures of a finished hyperparameter search (grid, random or staged), W&B's panels offline:
parallel coordinates, parameter importance, the metric trial by trial, the staged search's
nested ranges, and the metric per parameter value (small multiples, seaborn).

Each function takes the tables the workflow writes (``search/trials.csv``,
``search/importance.csv``, the stages' ``space.json``) and writes PNG + PDF. Torch-free;
seaborn is imported only by :func:`plot_search_marginals`.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Mapping, Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib import patheffects, ticker
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from gridscape.plots.style import (
    DIVERGED_COLOR,
    OKABE_ITO,
    FigureInfo,
    format_value,
    is_accuracy,
    literal,
    metric_label,
    new_figure,
    save_figure,
    styled,
)
from gridscape.search.analysis import (
    MISSING_VALUE,
    Column,
    columns_for,
    higher_is_better,
    same_value,
    usable,
    value_groups,
)

PathList = Sequence[Any]

EARLIER_COLOR = "#b8b8b8"
DIVERGED_LINE = "#8c8c8c"
POSITIVE_COLOR = "#009E73"  # bluish green
NEGATIVE_COLOR = "#D55E00"  # vermillion
IMPORTANCE_COLOR = OKABE_ITO[0]
NAN_POSITION = -0.1  # where a trial without a metric meets the metric axis of the parallel plot
MAX_LABEL = 18  # characters of a category shown on an axis


def _short(text: object, limit: int = MAX_LABEL) -> str:
    """At most ``limit`` characters, cut in the middle: names that differ at their end (cells,
    numbered variants) stay apart."""
    text = str(text)
    if len(text) > limit:
        tail = (limit - 1) // 2
        text = text[: limit - 1 - tail] + "…" + text[len(text) - tail:]
    return literal(text)


def _wrap_key(key: str, width: int = 16) -> str:
    """A dotted key over lines at its dots: 'train.augmentation.\\nhflip'."""
    if len(key) <= width:
        return literal(key)
    parts = key.split(".")
    lines, line = [], ""
    for part in parts:
        piece = part if not line else "." + part
        if line and len(line) + len(piece) > width:
            lines.append(line + ".")
            line = part
        else:
            line += piece
    lines.append(line)
    return "\n".join(_short(x, 28) for x in lines)


def _scale(metric: str) -> tuple[float, str]:
    """Accuracies in percent."""
    return (100.0, " (%)") if is_accuracy(metric) else (1.0, "")


def _cmap(metric: str):
    """Viridis with the better end yellow: reversed for a loss, as in the grid's heat maps."""
    return mpl.colormaps["viridis" if higher_is_better(metric) else "viridis_r"]


def _numeric(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def _is_diverged(trials: pd.DataFrame) -> np.ndarray:
    if "status" not in trials.columns:
        return np.zeros(len(trials), bool)
    return ~trials["status"].astype(str).str.lower().eq("ok").to_numpy()


def _stages(trials: pd.DataFrame) -> np.ndarray:
    if "stage" not in trials.columns:
        return np.ones(len(trials), dtype=int)
    return pd.to_numeric(trials["stage"], errors="coerce").fillna(1).astype(int).to_numpy()


def _in_order(trials: pd.DataFrame) -> pd.DataFrame:
    """Stage, then table order (trials.csv's own order)."""
    order = np.argsort(_stages(trials), kind="stable")
    return trials.iloc[order].reset_index(drop=True)


def _best_index(trials: pd.DataFrame, best: object) -> int | None:
    if best is None or "trial" not in trials.columns:
        return None
    hits = np.flatnonzero(trials["trial"].astype(str).to_numpy() == str(best))
    return int(hits[0]) if hits.size else None


def _norm(values: np.ndarray) -> Normalize:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return Normalize(0.0, 1.0)
    low, high = float(finite.min()), float(finite.max())
    if low == high:
        pad = abs(low) * 0.01 or 0.5
        low, high = low - pad, high + pad
    return Normalize(low, high)


def _no_data(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontstyle="italic", color="#555555")
    ax.set_xticks([])
    ax.set_yticks([])


# --------------------------------------------------------------------------- parallel coordinates


def _param_spec(params: Sequence[Mapping[str, Any]], key: str) -> Mapping[str, Any]:
    return next((p for p in params if p["key"] == key), {})


def _numeric_ticks(low: float, high: float, log: bool) -> list[tuple[float, str]]:
    """Ticks (on the axis's own scale: log10 for log axes) and their text."""
    if log:
        decades = [d for d in range(math.ceil(low - 1e-9), math.floor(high + 1e-9) + 1)]
        if len(decades) < 2:
            decades = [low, high]
        return [(d, f"{10 ** d:.2g}") for d in decades]
    locator = ticker.MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10])
    ticks = [t for t in locator.tick_values(low, high) if low - 1e-12 <= t <= high + 1e-12] or [low, high]
    return [(t, f"{t:.3g}") for t in ticks]


def _axis_positions(column: Column, values: pd.Series, spec: Mapping[str, Any]) -> tuple[np.ndarray, list[tuple[float, str]]]:
    """Each trial's height (0 to 1) on the parameter's axis, and the axis's ticks."""
    if column.kind == "boolean":
        x = column.encode(values)
        return x, [(0.0, "0"), (1.0, "1")]
    if column.categorical:
        labels = list(column.values)
        if column.kind == "numeric":
            labels = sorted(labels, key=float)
        k = len(labels)
        spots = [0.5] if k == 1 else [i / (k - 1) for i in range(k)]
        groups = [next((i for i, v in enumerate(labels) if _same_text(v, x)), -1) for x in values]
        y = np.array([spots[g] if g >= 0 else np.nan for g in groups])
        return y, [(spots[i], _short(format_value(v))) for i, v in enumerate(labels)]
    x = column.numbers(values)
    bounds = [b for b in (spec.get("low"), spec.get("high")) if b is not None]
    bound_values = column.numbers(pd.Series(bounds, dtype=float)) if bounds else np.array([])
    every = np.concatenate([x[np.isfinite(x)], bound_values[np.isfinite(bound_values)]])
    if every.size == 0:
        return np.full(len(values), np.nan), []
    low, high = float(every.min()), float(every.max())
    if low == high:
        text = f"{10 ** low:.3g}" if column.log else f"{low:.3g}"
        return np.where(np.isfinite(x), 0.5, np.nan), [(0.5, text)]
    y = (x - low) / (high - low)
    return y, [((t - low) / (high - low), text) for t, text in _numeric_ticks(low, high, column.log)]


def _same_text(a: object, b: object) -> bool:
    if isinstance(b, float) and math.isnan(b):
        return False
    return same_value(a, b)


@styled
def plot_search_parallel(
    trials: pd.DataFrame,
    params: Sequence[Mapping[str, Any]],
    metric: str,
    paths: PathList,
    best: object = None,
    title: str | None = None,
) -> FigureInfo:
    """Parallel coordinates: one vertical axis per searched column (log10 for log parameters,
    categories evenly spaced, booleans 0/1), then the metric; one line per trial, coloured by
    the metric (viridis, better = yellow). Diverged trials are grey and dashed, a trial without
    a metric ends at "n/a" under the metric axis; the ``best`` trial (its id) is thick. In a
    staged search only the last stage is coloured, the earlier stages are drawn faint grey."""
    trials = _in_order(trials)
    columns = columns_for(trials, params)
    scale, unit = _scale(metric)
    y_metric = _numeric(trials[metric]) * scale if metric in trials.columns else np.full(len(trials), np.nan)
    diverged = _is_diverged(trials)
    stages = _stages(trials)
    last = stages.max() if len(stages) else 1
    earlier = stages < last
    coloured = ~diverged & ~earlier & np.isfinite(y_metric)
    best_row = _best_index(trials, best)

    heights, ticks = [], []
    for column in columns:
        h, t = _axis_positions(column, trials[column.name], _param_spec(params, column.key))
        heights.append(h)
        ticks.append(t)
    m_norm = _norm(y_metric)
    m_height = np.where(np.isfinite(y_metric), (y_metric - m_norm.vmin) / (m_norm.vmax - m_norm.vmin), NAN_POSITION)
    heights.append(m_height)
    metric_ticks = [((v - m_norm.vmin) / (m_norm.vmax - m_norm.vmin), f"{v:.3g}")
                    for v in ticker.MaxNLocator(nbins=5).tick_values(m_norm.vmin, m_norm.vmax)
                    if m_norm.vmin - 1e-12 <= v <= m_norm.vmax + 1e-12 and np.isfinite(y_metric).any()]
    if not np.isfinite(y_metric).all():
        metric_ticks.append((NAN_POSITION, MISSING_VALUE))
    ticks.append(metric_ticks)
    lines = np.column_stack(heights) if len(trials) else np.zeros((0, len(heights)))
    n_axes = lines.shape[1]

    width = min(2.0 + 1.25 * n_axes, 22.0)
    fig = new_figure(max(6.0, width), 4.6)
    ax = fig.add_subplot()
    cmap = _cmap(metric)
    colour_norm = _norm(y_metric[coloured]) if coloured.any() else m_norm
    xs = np.arange(n_axes, dtype=float)

    def segments(rows: np.ndarray) -> list[np.ndarray]:
        out = []
        for row in np.flatnonzero(rows):
            ys = lines[row]
            keep = np.isfinite(ys)
            if keep.sum() >= 2:
                out.append(np.column_stack([xs[keep], ys[keep]]))
        return out

    grey = earlier & ~diverged
    ax.add_collection(LineCollection(segments(grey), colors=EARLIER_COLOR, linewidths=0.8, alpha=0.55, zorder=1))
    ax.add_collection(LineCollection(segments(diverged), colors=DIVERGED_LINE, linewidths=0.9, alpha=0.8,
                                     linestyles="--", zorder=2))
    order = np.flatnonzero(coloured)
    # the better lines last, on top
    order = order[np.argsort(y_metric[order] * (1 if higher_is_better(metric) else -1), kind="stable")]
    for row in order:
        ys = lines[row]
        keep = np.isfinite(ys)
        ax.plot(xs[keep], ys[keep], color=cmap(colour_norm(y_metric[row])), linewidth=1.1, alpha=0.85, zorder=3)
    # a last-stage line without a finite metric, not diverged: dotted grey to n/a
    missing = ~diverged & ~earlier & ~np.isfinite(y_metric)
    ax.add_collection(LineCollection(segments(missing), colors=DIVERGED_LINE, linewidths=0.9, linestyles=":", zorder=2))
    if best_row is not None:
        ys = lines[best_row]
        keep = np.isfinite(ys)
        colour = cmap(colour_norm(y_metric[best_row])) if coloured[best_row] else "black"
        ax.plot(xs[keep], ys[keep], color=colour, linewidth=3.4, zorder=5, solid_capstyle="round",
                path_effects=[patheffects.withStroke(linewidth=5.2, foreground="black")])

    ax.vlines(xs, 0, 1, colors="#333333", linewidths=0.8, zorder=4)
    for x, axis_ticks in zip(xs, ticks):
        for position, text in axis_ticks:
            ax.plot([x - 0.025, x], [position, position], color="#333333", linewidth=0.8, zorder=4)
            ax.text(x + 0.04, position, text, fontsize=7, ha="left", va="center", zorder=6,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 0.6})
    names = [_wrap_key(c.name) + (" (log)" if c.log else "") for c in columns]
    names.append(f"{metric_label(metric)}{unit}")
    rotate = n_axes > 14
    ax.set_xticks(xs, names, rotation=30 if rotate else 0, ha="right" if rotate else "center", fontsize=8)
    ax.set_xlim(-0.3, n_axes - 0.55)
    ax.set_ylim(min(NAN_POSITION, 0) - 0.06, 1.06)
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(axis="x", length=0)

    bar = fig.colorbar(mpl.cm.ScalarMappable(norm=colour_norm, cmap=cmap), ax=ax, fraction=0.035, pad=0.01, aspect=30)
    stage_note = f", stage {last}" if earlier.any() else ""
    bar.set_label(f"{metric_label(metric)}{unit}{stage_note}")
    bar.outline.set_visible(False)

    handles = []
    if earlier.any():
        handles.append(Line2D([], [], color=EARLIER_COLOR, linewidth=1.2, label="earlier stages"))
    if diverged.any():
        handles.append(Line2D([], [], color=DIVERGED_LINE, linestyle="--", linewidth=1.2, label="diverged"))
    if best_row is not None:
        handles.append(Line2D([], [], color="black", linewidth=3.0, label=f"best ({_short(best, 24)})"))
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    ax.set_title(title or f"Search: {len(trials)} trial{'s' * (len(trials) != 1)}, {metric_label(metric)}")
    info = save_figure(fig, paths)
    notes = {"axes": [c.name for c in columns] + [metric], "coloured": int(coloured.sum()),
             "earlier": int(grey.sum()), "diverged": int(diverged.sum()), "best_drawn": best_row is not None}
    return FigureInfo(info.paths, info.size_px, notes=notes)


# --------------------------------------------------------------------------- importance


@styled
def plot_search_importance(table: pd.DataFrame, metric: str, paths: PathList, title: str | None = None) -> FigureInfo:
    """W&B's parameter-importance panel: horizontal bars of the random forest importance with
    the spread over its trees, and beside them the correlation with the metric (green
    positive, red negative; n/a where undefined), most important first."""
    table = table.copy()
    table["importance"] = pd.to_numeric(table["importance"], errors="coerce")
    table = table.iloc[np.argsort(-table["importance"].fillna(-1).to_numpy(), kind="stable")].reset_index(drop=True)
    n = len(table)
    fig = new_figure(8.0, max(2.4, 1.3 + 0.3 * max(n, 1)))
    left, right = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [3, 2]})
    y = np.arange(n)
    importance = table["importance"].to_numpy(dtype=float)
    spread = pd.to_numeric(table.get("importance_std", np.nan), errors="coerce")
    spread = np.broadcast_to(np.asarray(spread, dtype=float), (n,)) if n else np.array([])
    correlation = pd.to_numeric(table["correlation"], errors="coerce").to_numpy(dtype=float) if n else np.array([])
    n_trials = int(table["n_trials"].iloc[0]) if n and "n_trials" in table else 0
    shown = np.isfinite(importance)

    if n == 0:
        _no_data(left, "no searched parameter")
        _no_data(right, "")
    else:
        if shown.any():
            xerr = np.where(np.isfinite(spread), spread, 0.0)
            left.barh(y[shown], importance[shown], xerr=xerr[shown], color=IMPORTANCE_COLOR, height=0.65,
                      error_kw={"elinewidth": 0.9, "capsize": 2, "ecolor": "#444444"})
            top = float(np.nanmax(importance + np.where(np.isfinite(spread), spread, 0.0)))
            left.set_xlim(0, max(top * 1.18, 0.05))
            for yi, value, err in zip(y[shown], importance[shown], xerr[shown]):
                left.text(value + err, yi, f"  {value:.2f}", va="center", ha="left", fontsize=7.5, color="#333333",
                          bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.6, "pad": 0.3})
        else:
            reason = (f"fewer than 2 usable trials (n = {n_trials})" if n_trials < 2
                      else "the metric does not vary")
            left.text(0.5, 0.5, f"importance undefined:\n{reason}", ha="center", va="center",
                      transform=left.transAxes, fontstyle="italic", color="#555555")
            left.set_xlim(0, 1)
        finite = np.isfinite(correlation)
        colours = [POSITIVE_COLOR if c >= 0 else NEGATIVE_COLOR for c in correlation[finite]]
        right.barh(y[finite], correlation[finite], color=colours, height=0.65)
        for yi in y[~finite]:
            right.text(0, yi, "n/a", ha="center", va="center", fontsize=7.5, fontstyle="italic", color="#777777")
        right.axvline(0, color="#333333", linewidth=0.8)
        right.set_xlim(-1.05, 1.05)
        left.set_yticks(y, [_short(p, 40) for p in table["param"]])
        left.set_ylim(n - 0.5, -0.5)
    left.set_xlabel("importance (random forest)")
    direction = "" if higher_is_better(metric) else " (> 0: worse)"
    right.set_xlabel(f"correlation with\n{metric_label(metric)}{direction}")
    right.tick_params(axis="y", length=0)
    for ax in (left, right):
        ax.grid(axis="x")
        ax.set_axisbelow(True)
    fig.suptitle(title or f"Parameter importance for {metric_label(metric)} ({n_trials} trials)")
    handles = [Patch(color=POSITIVE_COLOR, label="positive"), Patch(color=NEGATIVE_COLOR, label="negative")]
    right.legend(handles=handles, loc="lower right", fontsize=7.5)
    info = save_figure(fig, paths)
    return FigureInfo(info.paths, info.size_px, notes={"params": list(table["param"]), "bars": int(shown.sum())})


# --------------------------------------------------------------------------- history


@styled
def plot_search_history(
    trials: pd.DataFrame,
    metric: str,
    paths: PathList,
    best: object = None,
    spaces: Sequence[Mapping[str, Any]] = (),
    title: str | None = None,
) -> FigureInfo:
    """The metric of every trial in order (stage, then index), the stages shaded, with the best
    so far (within each stage: later stages train longer), diverged trials as crosses at their
    value (at the bottom when they have none), and the chosen trial as a star."""
    trials = _in_order(trials)
    scale, unit = _scale(metric)
    y = _numeric(trials[metric]) * scale if metric in trials.columns else np.full(len(trials), np.nan)
    diverged = _is_diverged(trials) | ~np.isfinite(y)
    stages = _stages(trials)
    x = np.arange(len(trials))
    epochs = {int(s.get("stage", 1)): s.get("epochs") for s in spaces}
    higher = higher_is_better(metric)

    fig = new_figure(max(6.0, min(14.0, 4.0 + 0.06 * len(trials))), 3.8)
    ax = fig.add_subplot()
    unique_stages = list(dict.fromkeys(stages.tolist()))
    for i, stage in enumerate(unique_stages):
        where = np.flatnonzero(stages == stage)
        lo, hi = where.min() - 0.5, where.max() + 0.5
        if len(unique_stages) > 1:
            ax.axvspan(lo, hi, color="#000000", alpha=0.06 if i % 2 == 0 else 0.0, linewidth=0, zorder=0)
            label = f"stage {stage}" + (f"\n{epochs[stage]} epoch{'s' * (epochs[stage] != 1)}" if epochs.get(stage) else "")
            ax.text((lo + hi) / 2, 1.0, label, transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                    fontsize=8, color="#444444")
        ok = where[~diverged[where]]
        colour = OKABE_ITO[i % len(OKABE_ITO)] if len(unique_stages) > 1 else OKABE_ITO[0]
        ax.scatter(ok, y[ok], s=18, color=colour, zorder=3, edgecolors="white", linewidths=0.4)
        if ok.size:
            values = y[where]
            masked = np.where(diverged[where], -np.inf if higher else np.inf, values)
            so_far = np.maximum.accumulate(masked) if higher else np.minimum.accumulate(masked)
            so_far = np.where(np.isfinite(so_far), so_far, np.nan)
            ax.step(where, so_far, where="post", color="black", linewidth=1.3, zorder=4)
    finite = y[np.isfinite(y)]
    if finite.size:
        pad = max(float(np.ptp(finite)) * 0.08, abs(float(finite.max())) * 0.01, 1e-3)
        ax.set_ylim(float(finite.min()) - 2 * pad, float(finite.max()) + pad)
    bad = np.flatnonzero(diverged)
    bottom = ax.get_ylim()[0]
    if bad.size:
        heights = np.where(np.isfinite(y[bad]), y[bad], bottom)
        heights = np.clip(heights, bottom, None)
        ax.scatter(bad, heights, marker="x", s=24, color=DIVERGED_COLOR, zorder=3, clip_on=False)
    best_row = _best_index(trials, best)
    if best_row is not None and np.isfinite(y[best_row]):
        ax.scatter([best_row], [y[best_row]], marker="*", s=170, color="#F0E442", edgecolors="black",
                   linewidths=0.9, zorder=6)
    if len(trials) <= 30 and "trial" in trials.columns:
        ax.set_xticks(x, [_short(t, 14) for t in trials["trial"].astype(str)], rotation=90, fontsize=7)
    else:
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    ax.set_xlim(-0.6, max(len(trials) - 0.4, 0.6))
    ax.set_xlabel("trial, in order (stage, then index)")
    ax.set_ylabel(f"{metric_label(metric)}{unit}")
    ax.grid(axis="y")
    if finite.size == 0:
        ax.text(0.5, 0.5, "no trial has a finite metric", transform=ax.transAxes, ha="center", va="center",
                fontstyle="italic", color="#555555")
    handles = [Line2D([], [], color="black", linewidth=1.3,
                      label="best so far" + (" (per stage)" if len(unique_stages) > 1 else ""))]
    if bad.size:
        handles.append(Line2D([], [], marker="x", linestyle="none", color=DIVERGED_COLOR, label="diverged or no metric"))
    if best_row is not None:
        handles.append(Line2D([], [], marker="*", linestyle="none", markersize=11, markerfacecolor="#F0E442",
                              markeredgecolor="black", label=f"chosen: {_short(best, 24)}"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    if title or len(unique_stages) <= 1:
        ax.set_title(title or f"Search history: {metric_label(metric)} per trial")
    else:
        fig.suptitle(f"Search history: {metric_label(metric)} per trial")
    info = save_figure(fig, paths)
    return FigureInfo(info.paths, info.size_px, notes={"trials": len(trials), "diverged": int(bad.size),
                                                       "stages": unique_stages})


# --------------------------------------------------------------------------- stages


def _range_text(low: float, high: float) -> str:
    return f"{low:.3g} – {high:.3g}"


@styled
def plot_search_stages(
    spaces: Sequence[Mapping[str, Any]],
    paths: PathList,
    trials: pd.DataFrame | None = None,
    title: str | None = None,
) -> FigureInfo:
    """How a staged search narrowed its space: per parameter one panel, one row per stage
    (stage 1 on top). A float or int parameter's range per stage is a bar (nested intervals,
    log axis for log parameters) with the stage's trials as dots; a categorical's values are
    filled where the stage still searches them; a list's members read free, on or off."""
    spaces = sorted(spaces, key=lambda s: int(s.get("stage", 1)))
    if not spaces:
        raise ValueError("no stage's space.json given")
    keys = [p["key"] for p in spaces[0]["params"]]
    stage_numbers = [int(s.get("stage", i + 1)) for i, s in enumerate(spaces)]
    k = len(spaces)
    n = max(len(keys), 1)
    fig = new_figure(7.5, min(1.0 + n * (0.42 + 0.26 * k), 60.0))
    axes = fig.subplots(n, 1, squeeze=False)[:, 0]
    trial_stage = _stages(trials) if trials is not None else None
    labels = []
    for s in spaces:
        text = f"stage {s.get('stage')}"
        if s.get("epochs") is not None:
            text += f" ({s['epochs']} ep.)"
        labels.append(text)
    ys = np.arange(k)
    for ax, key in zip(axes, keys):
        per_stage = [next((p for p in s["params"] if p["key"] == key), None) for s in spaces]
        first = per_stage[0]
        kind = first["type"]
        ax.set_title(literal(key), loc="left", fontsize=9)
        if kind in ("float", "int"):
            log = bool(first.get("log"))
            if log:
                ax.set_xscale("log")
            for i, p in enumerate(per_stage):
                if p is None:
                    continue
                low, high = float(p["low"]), float(p["high"])
                colour = OKABE_ITO[i % len(OKABE_ITO)]
                if low == high:
                    ax.plot([low], [i], marker="|", markersize=12, color=colour)
                else:
                    ax.plot([low, high], [i, i], color=colour, linewidth=7, alpha=0.55, solid_capstyle="butt")
                ax.text(1.01, i, _range_text(low, high), transform=ax.get_yaxis_transform(), fontsize=7,
                        va="center", ha="left", color="#333333")
                if trials is not None and key in trials.columns:
                    values = _numeric(trials.loc[trial_stage == stage_numbers[i], key])
                    values = values[np.isfinite(values) & ((values > 0) | (not log))]
                    ax.scatter(values, np.full(values.size, i), s=7, color="black", zorder=3, linewidths=0)
            ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:.3g}"))
            ax.tick_params(axis="x", labelsize=7.5)
        else:
            if kind == "subsets":
                items = list(first["members"])
            else:
                items = list(first.get("values") or [])
            ax.set_xlim(-0.6, max(len(items), 1) - 0.4)
            for i, p in enumerate(per_stage):
                for j, item in enumerate(items):
                    if kind == "subsets":
                        fixed = (p or {}).get("fixed") or {}
                        text = ("on" if fixed[item] else "off") if item in fixed else "free"
                        colour = {"on": POSITIVE_COLOR, "off": NEGATIVE_COLOR, "free": "#333333"}[text]
                        ax.text(j, i, text, ha="center", va="center", fontsize=8, color=colour,
                                fontweight="bold" if text != "free" else "normal")
                    else:
                        kept = p is not None and any(_same_text(item, v) for v in p.get("values") or [])
                        ax.scatter([j], [i], s=60, marker="s", zorder=3,
                                   color=OKABE_ITO[i % len(OKABE_ITO)] if kept else "white",
                                   edgecolors="#333333" if kept else "#bbbbbb", linewidths=0.8)
            ax.set_xticks(range(len(items)), [_short(format_value(v)) for v in items], fontsize=7.5,
                          rotation=20 if len(items) > 4 else 0)
        ax.set_yticks(ys, labels, fontsize=7.5)
        ax.set_ylim(k - 0.5, -0.5)
        ax.grid(axis="x")
        ax.set_axisbelow(True)
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
    if not keys:
        _no_data(axes[0], "no searched parameter")
    fig.suptitle(title or f"Staged search: the space of each of {k} stages")
    info = save_figure(fig, paths)
    return FigureInfo(info.paths, info.size_px, notes={"params": keys, "stages": stage_numbers})


# --------------------------------------------------------------------------- marginals


@styled
def plot_search_marginals(
    trials: pd.DataFrame,
    params: Sequence[Mapping[str, Any]],
    metric: str,
    paths: PathList,
    title: str | None = None,
    columns_per_row: int = 3,
) -> FigureInfo:
    """Small multiples, one per searched column: the metric of the ok trials against the
    column's values (a categorical's values in config order, numbers ascending or in quartile
    bins, as in marginals.csv): a box per value and the trials as points, coloured by stage.
    The panels share the metric axis."""
    import seaborn as sns  # here only: the other figures do without it

    columns = columns_for(trials, params)
    used = usable(_in_order(trials), metric)
    scale, unit = _scale(metric)
    stages = _stages(used).astype(str)
    staged = len(set(stages)) > 1
    palette = {s: OKABE_ITO[i % len(OKABE_ITO)] for i, s in enumerate(dict.fromkeys(sorted(set(stages), key=int)))}
    n = max(len(columns), 1)
    ncols = min(columns_per_row, n)
    nrows = math.ceil(n / ncols)
    fig = new_figure(2.0 + 2.7 * ncols, 0.9 + 2.5 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    flat = list(axes.ravel())
    drawn = 0
    state = np.random.get_state()  # seaborn's strip jitter draws from numpy's global generator
    np.random.seed(0)
    try:
        with warnings.catch_warnings():
            # seaborn 0.13 passes boxplot's vert=, which matplotlib 3.11 deprecates: not ours to fix
            warnings.filterwarnings("ignore", message=".*vert: bool was deprecated.*")
            for ax, column in zip(flat, columns):
                groups, labels = value_groups(column, used[column.name])
                names = [*labels, MISSING_VALUE]
                frame = pd.DataFrame({
                    "value": [names[g] if g >= 0 else MISSING_VALUE for g in groups],
                    "metric": used[metric].to_numpy(dtype=float) * scale,
                    "stage": stages,
                })
                order = [name for name in names if (frame["value"] == name).any()]
                ax.set_title(_short(column.name, 34), fontsize=9)
                if frame.empty:
                    _no_data(ax, "no usable trial")
                    continue
                # a staged search trains its stages for different epochs: a box per stage, side by side
                hue = {"hue": "stage", "hue_order": list(palette), "dodge": True} if staged else {}
                sns.boxplot(data=frame, x="value", y="metric", order=order, ax=ax, width=0.7, showfliers=False,
                            linewidth=0.8, legend=False, fill=False,
                            **({**hue, "palette": palette} if staged else {"color": "#666666"}))
                sns.stripplot(data=frame, x="value", y="metric", order=order, ax=ax, size=3.2,
                              jitter=0.22 / (len(palette) if staged else 1), legend=False, alpha=0.85,
                              **({**hue, "palette": palette} if staged else {"color": OKABE_ITO[0]}))
                ax.set_xlabel("")
                ax.set_ylabel(f"{metric_label(metric)}{unit}" if ax in axes[:, 0] else "")
                long = max((len(o) for o in order), default=0)
                ax.set_xticks(range(len(order)), [_short(o) for o in order],
                              rotation=30 if long > 6 or len(order) > 4 else 0,
                              ha="right" if long > 6 or len(order) > 4 else "center", fontsize=7.5)
                ax.grid(axis="y")
                drawn += 1
    finally:
        np.random.set_state(state)
    for ax in flat[len(columns):]:
        ax.set_visible(False)
    if not columns:
        _no_data(flat[0], "no searched parameter")
    elif used.empty:
        for ax in flat[: len(columns)]:
            ax.set_ylim(0, 1)
    if staged:
        handles = [Line2D([], [], marker="o", linestyle="none", color=c, label=f"stage {s}") for s, c in palette.items()]
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    fig.suptitle(title or f"{metric_label(metric).capitalize()} per parameter value ({len(used)} trials)")
    info = save_figure(fig, paths)
    return FigureInfo(info.paths, info.size_px, notes={"panels": drawn, "trials": len(used)})
