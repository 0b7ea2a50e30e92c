"""Figures of the exercises kind: optimiser traces, the bump-escape scan, the 1-D functions.

No torch here, directly or through an import: the report and plot jobs run without it.
"""

from __future__ import annotations

import math
import os
from typing import Mapping

import numpy as np

from gridscape import io
from gridscape.exercises.functions import BUILTIN, make_function
from gridscape.plots.style import DIVERGED_COLOR, OKABE_ITO, FigureInfo, new_figure, save_figure, styled

Path_ = str | os.PathLike
TRACE_LABELS = {"g": r"$g_t$", "m": r"$m_t$", "v": r"$v_t$", "m_hat": r"$\hat m_t$", "v_hat": r"$\hat v_t$", "x": r"$x_t$"}
STUCK_COLOR, ESCAPED_COLOR = OKABE_ITO[0], DIVERGED_COLOR


@styled
def plot_trajectory(csv_path: Path_, png: Path_, pdf: Path_, title: str) -> FigureInfo:
    """Left: g, m, v, m̂, v̂ and x against t on one axis, as the handout asks (GD has only g and
    x). Right: the loss at each visited x, the points coloured by step, so a cycle or an escape
    shows as the path it is."""
    frame = io.read_csv_exact(csv_path)
    fig = new_figure(11.0, 4.4)
    left, right = fig.subplots(1, 2, width_ratios=[1.6, 1.0])
    drawn = []
    for (name, label), colour in zip(TRACE_LABELS.items(), OKABE_ITO):
        values = frame[name].to_numpy(dtype=float)
        if np.isfinite(values).any():
            left.plot(frame["t"], values, marker="o", markersize=2.5, color=colour, label=label)
            drawn.append(name)
    left.axhline(0.0, color="0.6", linewidth=0.8, zorder=0)
    left.set_xlabel("step t")
    left.set_ylabel("value")
    left.grid(True)
    left.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=len(drawn))  # above: no trace hidden
    x, f, t = (frame[c].to_numpy(dtype=float) for c in ("x", "f", "t"))
    order = np.argsort(x, kind="stable")
    right.plot(x[order], f[order], color="0.75", linewidth=1.0, zorder=0, label="f at the visited x")
    points = right.scatter(x, f, c=t, cmap="viridis", s=18, zorder=2)
    right.annotate("start", (x[0], f[0]), textcoords="offset points", xytext=(4, 6), fontsize=8)
    right.annotate(f"t = {int(t[-1])}", (x[-1], f[-1]), textcoords="offset points", xytext=(4, -12), fontsize=8)
    fig.colorbar(points, ax=right, label="step t")
    right.set_xlabel("x")
    right.set_ylabel("f(x)")
    right.grid(True)
    fig.suptitle(title)
    info = save_figure(fig, [png, pdf])
    return FigureInfo(info.paths, info.size_px, notes={"traces": drawn})


@styled
def plot_escape(csv_path: Path_, json_path: Path_, png: Path_, pdf: Path_) -> FigureInfo:
    """The farthest x a run reaches against the bump height h, with the bump's top L + h.

    An escaped run keeps going (hundreds of units), so the y-axis stops just above the bump:
    escaped heights are drawn as markers on the top edge, and h_max as a vertical line.
    """
    scan = io.read_csv_exact(csv_path)
    summary = io.read_json(json_path)
    L = float(summary.get("L", 1.0))
    h, max_x = scan["h"].to_numpy(dtype=float), scan["max_x"].to_numpy(dtype=float)
    escaped = scan["escaped"].astype(bool).to_numpy()
    top = max(float(np.max(L + h)), float(np.max(max_x[~escaped], initial=0.0))) * 1.1
    fig = new_figure(7.5, 4.4)
    ax = fig.subplots()
    ax.plot(h, L + h, color="0.3", linestyle="--", label="top of the bump, L + h")
    ax.plot(h[~escaped], max_x[~escaped], ".", markersize=3, color=STUCK_COLOR, label="largest x: stays behind the bump")
    ax.plot(h[escaped], np.full(escaped.sum(), top), "^", markersize=3, clip_on=False, color=ESCAPED_COLOR,
            label="escaped (x runs off the top)")
    best = summary.get("h_max")
    if best is not None:
        ax.axvline(best, color=ESCAPED_COLOR, linewidth=1.0)
        ax.annotate(f"$h_{{max}}$ = {best:g}", (best, 0.05), xycoords=("data", "axes fraction"),
                    textcoords="offset points", xytext=(4, 0), fontsize=9, color=ESCAPED_COLOR)
    ax.set_ylim(0.0, top)
    ax.set_xlabel("bump height h")
    ax.set_ylabel("largest x reached")
    ax.grid(True)
    ax.legend(loc="upper left")
    ax.set_title(f"{summary.get('function', 'bump')}: lr {summary.get('lr')}, ε {summary.get('eps')}, "
                 f"x0 {summary.get('x0')}, {summary.get('steps')} steps")
    info = save_figure(fig, [png, pdf])
    return FigureInfo(info.paths, info.size_px, notes={"h_max": best, "escaped": int(escaped.sum())})


def _x_range(spec: Mapping) -> tuple[float, float]:
    if spec.get("type") == "bump":
        L, h = float(spec.get("L", 1.0)), float(spec.get("h", 0.5))
        return -0.25 * L, L + 2 * h + max(L, 2 * h)
    return -3.0, 3.0


@styled
def plot_functions(functions: Mapping[str, Mapping], png: Path_, pdf: Path_) -> FigureInfo:
    """One panel per function: those given (the config's ``exercises.functions``) and the
    built-ins ReLU, sigmoid and |x| not redefined there."""
    specs = {**dict(functions), **{name: {"type": name} for name in BUILTIN if name not in functions}}
    columns = min(len(specs), 2 if len(specs) <= 4 else 3)
    rows = math.ceil(len(specs) / columns)
    fig = new_figure(3.6 * columns, 2.8 * rows)
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax, (name, spec), colour in zip(axes, specs.items(), OKABE_ITO * 4):
        function = make_function(spec)
        xs = np.linspace(*_x_range(spec), 801)
        ax.plot(xs, function.value(xs), color=colour)
        if spec.get("type") == "bump":
            L, h = float(spec.get("L", 1.0)), float(spec.get("h", 0.5))
            ax.plot([L], [0.0], "o", color="0.3", markersize=4)
            ax.annotate("local min", (L, 0.0), textcoords="offset points", xytext=(6, -4), fontsize=8)
            ax.set_title(f"{name} (L = {L:g}, h = {h:g})")
        else:
            ax.set_title(name)
        ax.set_xlabel("x")
        ax.grid(True)
    for ax in axes[len(specs):]:
        ax.set_visible(False)
    info = save_figure(fig, [png, pdf])
    return FigureInfo(info.paths, info.size_px, notes={"functions": list(specs)})
