"""Loss-landscape figures: contour, filled contour, heat map, 3-D surface and 1-D slices.

Every 2-D figure reads a ``Surface`` (``Z[j, i] = f(alpha[i], beta[j])``, rows = beta), draws
against the real α and β values, and marks θ* at (0, 0). Losses spanning more than
``LOG_LEVELS_RATIO`` get geometric levels; everything above the clip value (by default the
95th percentile, so that a few exploding edge points do not flatten the basin) shares the
top colour, and the 3-D surface is clipped there.
"""

from __future__ import annotations

import os
from typing import Callable, Mapping, Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import colors
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from gridscape import io
from gridscape.landscape.grid import Surface
from gridscape.plots.style import MISSING_COLOR, OKABE_ITO, FigureInfo, new_figure, save_figure, styled

PathList = Sequence[str | os.PathLike]

CLIP_PERCENTILE = 95.0
LOG_LEVELS_RATIO = 30.0  # max/min loss above which levels are spaced geometrically
N_LEVELS = 12
CMAP = "viridis"
STAR = dict(marker="*", s=160, color=OKABE_ITO[5], edgecolor="white", linewidth=0.8, zorder=5)
LOSS_COLOR, ACC_COLOR = OKABE_ITO[0], OKABE_ITO[1]
FIGURES = ("contour", "contourf", "heatmap", "surface3d", "line", "interpolation")


def load_surface(path: str | os.PathLike) -> Surface:
    return Surface.from_arrays(io.read_npz(path))


def clip_value(values: np.ndarray, percentile: float = CLIP_PERCENTILE) -> float:
    """The loss above which the plots saturate: a high percentile of the finite values."""
    finite = np.asarray(values, dtype=float)[np.isfinite(values)]
    if finite.size == 0:
        return 1.0
    top = float(np.percentile(finite, percentile))
    return top if top > finite.min() else float(finite.max())


def landscape_levels(values: np.ndarray, zmax: float | None = None, n: int = N_LEVELS) -> tuple[np.ndarray, bool]:
    """Contour levels from the minimum to the clip value; (levels, geometric?)."""
    finite = np.asarray(values, dtype=float)[np.isfinite(values)]
    if finite.size == 0:
        return np.linspace(0.0, 1.0, n), False
    low = float(finite.min())
    high = float(zmax if zmax is not None else clip_value(finite))
    if not high > low:
        high = low + max(abs(low) * 1e-3, 1e-6)
    if low > 0 and high / low > LOG_LEVELS_RATIO:
        return np.geomspace(low, high, n), True
    levels = MaxNLocator(nbins=n, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
    levels = levels[(levels >= low) & (levels <= high)]
    if len(levels) < 3:
        levels = np.linspace(low, high, n)
    return levels, False


def _level_label(value: float) -> str:
    return f"{value:.3g}"


def _finite_or_nan(z: np.ndarray) -> np.ma.MaskedArray:
    return np.ma.masked_invalid(np.asarray(z, dtype=float))


def _mark_theta_star(ax: Axes, surface: Surface, text_color: str = "white") -> None:
    if surface.alpha.min() <= 0 <= surface.alpha.max() and surface.beta.min() <= 0 <= surface.beta.max():
        ax.scatter([0.0], [0.0], **STAR)
        ax.annotate(r"$\theta^*$", xy=(0.0, 0.0), xytext=(7, 5), textcoords="offset points", color=text_color,
                    fontsize=11, fontweight="bold", zorder=6)


def _axes_labels(ax: Axes) -> None:
    ax.set_xlabel(r"$\alpha$ (along $\delta$)")
    ax.set_ylabel(r"$\beta$ (along $\eta$)")


def _square_if_same_span(ax: Axes, surface: Surface) -> None:
    span_a = surface.alpha.max() - surface.alpha.min()
    span_b = surface.beta.max() - surface.beta.min()
    if span_a > 0 and np.isclose(span_a, span_b):
        ax.set_aspect("equal")


def _title(what: str, subtitle: str | None) -> str:
    return f"{what}\n{subtitle}" if subtitle else what


def _too_small(surface: Surface, paths: PathList, what: str, subtitle: str | None) -> FigureInfo | None:
    """Contours and surfaces need two points on each axis; say so in the figure instead of failing."""
    if min(surface.loss.shape) >= 2:
        return None
    fig = new_figure(5.6, 2.0)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, f"{what}: the grid has {len(surface.alpha)} x {len(surface.beta)} points;\n"
            "at least 2 per axis are needed", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(_title(what, subtitle))
    info = save_figure(fig, paths)
    return FigureInfo(info.paths, info.size_px, notes={"too_small": True})


def _norm(levels: np.ndarray, geometric: bool) -> colors.Normalize:
    if geometric:
        return colors.LogNorm(vmin=levels[0], vmax=levels[-1])
    return colors.Normalize(vmin=levels[0], vmax=levels[-1])


def _clipped(values: np.ndarray, top: float) -> bool:
    """Whether some finite value lies above ``top`` (and is drawn in the top colour)."""
    values = np.asarray(values, dtype=float)
    return bool((values[np.isfinite(values)] > top).any())


def _plane_figure(
    surface: Surface, paths: PathList, what: str, title: str, subtitle: str | None, zmax: float | None,
    width: float, draw: Callable[[Figure, Axes, np.ndarray, bool], dict], star_text: str = "white",
) -> FigureInfo:
    """What the 2-D figures share: the too-small note, levels, one axes over (α, β), θ*
    marked, axis labels, title, saving. ``draw(fig, ax, levels, geometric)`` draws the
    surface and returns the figure's notes."""
    if (placeholder := _too_small(surface, paths, what, subtitle)) is not None:
        return placeholder
    levels, geometric = landscape_levels(surface.loss, zmax)
    fig = new_figure(width, 5.0)
    ax = fig.add_subplot()
    notes = draw(fig, ax, levels, geometric)
    _mark_theta_star(ax, surface, star_text)
    _axes_labels(ax)
    ax.set_title(_title(title, subtitle))
    info = save_figure(fig, paths)
    return FigureInfo(info.paths, info.size_px, notes=notes)


@styled
def plot_contour(surface: Surface, paths: PathList, subtitle: str | None = None, zmax: float | None = None) -> FigureInfo:
    """Contour lines with labelled levels."""

    def draw(fig: Figure, ax: Axes, levels: np.ndarray, geometric: bool) -> dict:
        cs = ax.contour(surface.alpha, surface.beta, _finite_or_nan(surface.loss), levels=levels, cmap=CMAP,
                        norm=_norm(levels, geometric), linewidths=1.1)
        ax.clabel(cs, levels=cs.levels[::2] if len(cs.levels) > 8 else cs.levels, fmt=_level_label, fontsize=7,
                  inline=True)
        _square_if_same_span(ax, surface)
        return {"levels": [float(v) for v in levels], "geometric": geometric}

    return _plane_figure(surface, paths, "Loss contours", "Loss contours around the final model", subtitle, zmax,
                         5.6, draw, star_text="black")


@styled
def plot_contourf(surface: Surface, paths: PathList, subtitle: str | None = None, zmax: float | None = None) -> FigureInfo:
    """Filled contours with a colour bar; losses above the top level share its colour."""

    def draw(fig: Figure, ax: Axes, levels: np.ndarray, geometric: bool) -> dict:
        z = np.clip(_finite_or_nan(surface.loss), levels[0], levels[-1])
        cs = ax.contourf(surface.alpha, surface.beta, z, levels=levels, cmap=CMAP, norm=_norm(levels, geometric))
        ax.contour(surface.alpha, surface.beta, z, levels=levels, colors="white", linewidths=0.4, alpha=0.6)
        clipped = _clipped(surface.loss, levels[-1])
        bar = fig.colorbar(cs, ax=ax, shrink=0.9)
        bar.set_label("loss" + (" (clipped)" if clipped else ""))
        bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _level_label(v)))
        return {"levels": [float(v) for v in levels], "geometric": geometric, "clipped": clipped}

    return _plane_figure(surface, paths, "Filled contours", "Loss landscape (filled contours)", subtitle, zmax,
                         6.2, draw)


@styled
def plot_heatmap(surface: Surface, paths: PathList, subtitle: str | None = None, zmax: float | None = None) -> FigureInfo:
    """One cell per grid point, drawn at its real (α, β); non-finite points in grey. The
    colour bar gets an arrow only when some loss lies above its top."""

    def draw(fig: Figure, ax: Axes, levels: np.ndarray, geometric: bool) -> dict:
        cmap = matplotlib.colormaps[CMAP].with_extremes(bad=MISSING_COLOR)
        mesh = ax.pcolormesh(surface.alpha, surface.beta, _finite_or_nan(surface.loss), shading="nearest", cmap=cmap,
                             norm=_norm(levels, geometric))
        clipped = _clipped(surface.loss, levels[-1])
        bar = fig.colorbar(mesh, ax=ax, shrink=0.9, extend="max" if clipped else "neither")
        bar.set_label("loss")
        return {"vmin": float(levels[0]), "vmax": float(levels[-1]), "clipped": clipped}

    return _plane_figure(surface, paths, "Heat map", "Loss landscape (heat map)", subtitle, zmax, 6.2, draw)


@styled
def plot_surface3d(surface: Surface, paths: PathList, subtitle: str | None = None, zmax: float | None = None) -> FigureInfo:
    """The surface in 3-D (an axes made with ``projection='3d'``), z clipped at ``zmax``."""
    if (placeholder := _too_small(surface, paths, "Loss surface", subtitle)) is not None:
        return placeholder
    finite = np.isfinite(surface.loss)
    top = float(zmax if zmax is not None else clip_value(surface.loss))
    z = np.where(finite, np.minimum(surface.loss, top), top)
    low = float(z.min())
    fig = new_figure(6.4, 5.4)
    ax = fig.add_subplot(projection="3d")
    ax.computed_zorder = False  # draw in call order, so θ*'s marker stays on top of the surface
    a, b = np.meshgrid(surface.alpha, surface.beta)  # (num_beta, num_alpha), like z
    ax.plot_surface(a, b, z, cmap=CMAP, norm=colors.Normalize(low, top), rstride=1, cstride=1,
                    linewidth=0.15, edgecolor=(1, 1, 1, 0.25), antialiased=True)
    try:
        centre = surface.value(0.0, 0.0)
        ax.scatter([0.0], [0.0], [min(centre, top)], marker="*", s=140, color=STAR["color"], edgecolor="white",
                   depthshade=False, label=r"$\theta^*$", zorder=10)
        ax.legend(loc="upper left")
    except KeyError:
        pass
    ax.set_zlim(low, top if top > low else low + 1.0)
    ax.set_xlabel(r"$\alpha$")
    ax.set_ylabel(r"$\beta$")
    ax.set_zlabel("loss")
    ax.view_init(elev=32, azim=-58)
    clipped = bool((surface.loss[finite] > top).any() or (~finite).any())
    ax.set_title(_title("Loss surface" + (f" (clipped at {top:.3g})" if clipped else ""), subtitle))
    info = save_figure(fig, paths)
    return FigureInfo(info.paths, info.size_px, notes={"zmax": top, "clipped": clipped})


def _twin_plot(ax: Axes, x: np.ndarray, loss: np.ndarray, acc: np.ndarray) -> Axes:
    loss = np.where(np.isfinite(loss), loss, np.nan)
    ax.plot(x, loss, color=LOSS_COLOR, label="loss")
    ax.set_ylabel("loss", color=LOSS_COLOR)
    ax.tick_params(axis="y", colors=LOSS_COLOR)
    positive = loss[np.isfinite(loss) & (loss > 0)]
    if positive.size and positive.max() / positive.min() > LOG_LEVELS_RATIO:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    right = ax.twinx()
    right.spines["right"].set_visible(True)
    right.plot(x, acc, color=ACC_COLOR, linestyle="--", label="accuracy")
    right.set_ylabel("accuracy", color=ACC_COLOR)
    right.tick_params(axis="y", colors=ACC_COLOR)
    right.yaxis.set_major_formatter(PercentFormatter(1.0))
    right.set_ylim(-0.02, 1.02)
    ax.grid(True)
    handles = ax.get_lines()[:1] + right.get_lines()[:1]
    ax.figure.legend(handles, [h.get_label() for h in handles], loc="outside lower center", ncols=2)
    return right


def _mark(ax: Axes, x: float, text: str) -> None:
    ax.axvline(x, color="0.4", linewidth=0.8, linestyle=":")
    ax.annotate(text, xy=(x, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -3), textcoords="offset points",
                ha="left", va="top", fontsize=9)


def _slice_figure(
    x: np.ndarray, loss: np.ndarray, acc: np.ndarray, paths: PathList, marks: Sequence[tuple[float, str]],
    xlabel: str, title: str, subtitle: str | None,
) -> FigureInfo:
    """What the 1-D figures share: loss and accuracy on twin axes, marked positions, labels."""
    fig = new_figure(6.0, 4.0)
    ax = fig.add_subplot()
    _twin_plot(ax, np.asarray(x), np.asarray(loss), np.asarray(acc))
    for position, text in marks:
        _mark(ax, position, text)
    ax.set_xlabel(xlabel)
    ax.set_title(_title(title, subtitle))
    return save_figure(fig, paths)


@styled
def plot_line(line: pd.DataFrame, paths: PathList, subtitle: str | None = None) -> FigureInfo:
    """Loss and accuracy along δ through θ* (β = 0)."""
    return _slice_figure(line["alpha"], line["loss"], line["acc"], paths, [(0.0, r"$\theta^*$")],
                         r"$\alpha$: $\theta^* + \alpha\delta$", "Loss along the random direction $\\delta$", subtitle)


@styled
def plot_interpolation(path: pd.DataFrame, paths: PathList, subtitle: str | None = None) -> FigureInfo:
    """Loss and accuracy along θ(t) = (1 − t) θ0 + t θ*, with t = 0 and t = 1 marked."""
    return _slice_figure(path["t"], path["loss"], path["acc"], paths,
                         [(0.0, r"$\theta_0$ (t = 0)"), (1.0, r"$\theta^*$ (t = 1)")],
                         r"$t$: $(1-t)\,\theta_0 + t\,\theta^*$",
                         "Loss on the straight path from initialisation to the final model", subtitle)


def _subtitle(info: Mapping | None) -> str | None:
    """'training images, n = 1437 (subset)' from a JSON with a ``data`` entry
    (reference.json or diagnostics.json)."""
    if not info or not info.get("data"):
        return None
    data = info["data"]
    part = "training" if data.get("part") == "train" else "test"
    return f"{part} images, n = {data.get('n_images')}" + (" (subset)" if data.get("subset") else "")


def plot_landscape_figures(
    outputs: Mapping[str, PathList],
    surface_path: str | os.PathLike | None = None,
    line_path: str | os.PathLike | None = None,
    interpolation_path: str | os.PathLike | None = None,
    reference_path: str | os.PathLike | None = None,
) -> dict[str, FigureInfo]:
    """Every landscape figure named in ``outputs`` (keys from ``FIGURES``) from the result files.

    Only the files the named figures need must be given: ``surface_path`` (surface.npz) for
    the 2-D and 3-D figures, ``line_path`` and ``interpolation_path`` for the 1-D ones.
    ``reference_path`` (reference.json) describes the images, for the subtitles.
    """
    unknown = set(outputs) - set(FIGURES)
    if unknown:
        raise KeyError(f"unknown landscape figures {sorted(unknown)}; expected some of {FIGURES}")
    subtitle = _subtitle(io.read_json(reference_path) if reference_path else None)
    drawers = {"contour": plot_contour, "contourf": plot_contourf, "heatmap": plot_heatmap, "surface3d": plot_surface3d}
    sources = {"line": line_path, "interpolation": interpolation_path}
    surface = None
    result = {}
    for name, paths in outputs.items():
        if name in drawers:
            if surface_path is None:
                raise ValueError(f"the {name} figure needs surface_path (surface.npz)")
            surface = surface if surface is not None else load_surface(surface_path)
            result[name] = drawers[name](surface, paths, subtitle)
        else:
            if sources[name] is None:
                raise ValueError(f"the {name} figure needs {name}_path ({name}.csv)")
            table = pd.read_csv(sources[name])
            result[name] = (plot_line if name == "line" else plot_interpolation)(table, paths, subtitle)
    return result
