"""Landscape figures: real PNG/PDF files, a non-blank 3-D axes, the right orientation."""

from __future__ import annotations

import struct

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import QuadMesh
from mpl_toolkits.mplot3d.art3d import Poly3DCollection

from gridscape import io
from gridscape.landscape.grid import Surface
from gridscape.plots import landscape as plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _no_open_figures():
    yield
    assert plt.get_fignums() == [], "a plotting function left a figure open"


@pytest.fixture
def captured(monkeypatch):
    """The figures handed to save_figure, kept for inspection."""
    figures = []
    real = plots.save_figure

    def keep(fig, paths):
        figures.append(fig)
        return real(fig, paths)

    monkeypatch.setattr(plots, "save_figure", keep)
    return figures


def png_size(path) -> tuple[int, int]:
    """(width, height) from the PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def bowl(num_alpha=7, num_beta=5) -> Surface:
    alpha, beta = np.linspace(-1, 1, num_alpha), np.linspace(-1, 1, num_beta)
    a, b = np.meshgrid(alpha, beta)
    loss = 0.01 + 2 * a**2 + 0.5 * b**2 + 0.3 * a  # asymmetric, so orientation matters
    loss[0, -1] = np.inf  # one exploded point
    return Surface(alpha, beta, loss, 1 - loss / loss[np.isfinite(loss)].max())


def test_every_landscape_figure_is_written_and_the_3d_axes_is_not_blank(tmp_path, captured):
    surface = bowl()
    io.write_npz(tmp_path / "surface.npz", **surface.arrays())
    alphas = np.linspace(-1, 1, 11)
    pd.DataFrame({"alpha": alphas, "loss": 0.01 + alphas**2, "acc": 1 - alphas**2 / 2}).to_csv(tmp_path / "line.csv", index=False)
    ts = np.union1d(np.linspace(-0.5, 1.5, 9), [0.0, 1.0])
    pd.DataFrame({"t": ts, "loss": 2.3 - ts, "acc": np.clip(ts, 0, 1)}).to_csv(tmp_path / "interp.csv", index=False)
    io.write_json(tmp_path / "reference.json", {"data": {"part": "train", "n_images": 100, "subset": False}})
    outputs = {name: [tmp_path / "fig" / f"landscape_{name}.png", tmp_path / "fig" / f"landscape_{name}.pdf"]
               for name in plots.FIGURES}
    infos = plots.plot_landscape_figures(outputs, tmp_path / "surface.npz", tmp_path / "line.csv",
                                         tmp_path / "interp.csv", reference_path=tmp_path / "reference.json")
    assert set(infos) == set(plots.FIGURES)
    figures = dict(zip(outputs, captured))
    for name, (png, pdf) in outputs.items():
        # the raster is the figure's size at its dpi, and it has something drawn on it
        width, height = figures[name].get_size_inches() * figures[name].dpi
        assert png_size(png) == infos[name].size_px == (round(width), round(height)), name
        pixels = mpimg.imread(png)[..., :3].reshape(-1, 3)
        assert len(np.unique(pixels, axis=0)) > 50, name
        assert pdf.read_bytes()[:5] == b"%PDF-"
        assert figures[name].axes[0].get_title().endswith("training images, n = 100"), name
    ax3d = [ax for ax in figures["surface3d"].axes if ax.name == "3d"]
    assert len(ax3d) == 1
    polys = [c for c in ax3d[0].collections if isinstance(c, Poly3DCollection)]
    assert polys and len(polys[0].get_paths()) == (5 - 1) * (7 - 1)  # one facet per grid cell
    assert ax3d[0].get_zlim()[1] < np.inf and infos["surface3d"].notes["clipped"]
    # the heat map's cells are the surface as stored: rows = beta, columns = alpha
    mesh = [c for c in figures["heatmap"].axes[0].collections if isinstance(c, QuadMesh)][0]
    drawn = np.ma.masked_invalid(mesh.get_array()).reshape(5, 7)
    np.testing.assert_array_equal(drawn.filled(-1), np.ma.masked_invalid(surface.loss).filled(-1))
    assert mesh.colorbar.extend == "max" and infos["heatmap"].notes["clipped"]  # the 95th percentile clips
    # the contour plot labels its levels
    contour_ax = figures["contour"].axes[0]
    assert any(t.get_text() for t in contour_ax.texts if t.get_text() != "$\\theta^*$")


def test_levels_are_geometric_for_a_deep_basin_and_linear_otherwise():
    deep, geometric = plots.landscape_levels(np.array([0.001, 0.01, 1.0, 5.0]), zmax=5.0)
    assert geometric and deep[0] == pytest.approx(0.001) and deep[-1] == pytest.approx(5.0)
    shallow, geometric = plots.landscape_levels(np.array([1.0, 1.5, 2.0]))
    assert not geometric and shallow[0] >= 1.0 and shallow[-1] <= 2.0 and len(shallow) >= 3


def test_a_grid_with_one_point_on_an_axis_gives_a_note_not_a_crash(tmp_path):
    alpha = np.linspace(-1, 1, 5)
    surface = Surface(alpha, np.array([0.0]), (alpha**2)[None, :], np.ones((1, 5)))
    for draw in (plots.plot_contour, plots.plot_contourf, plots.plot_heatmap, plots.plot_surface3d):
        info = draw(surface, [tmp_path / f"{draw.__name__}.png"])
        assert info.notes.get("too_small") and info.paths[0].read_bytes()[:8] == PNG_SIGNATURE


def test_surface_and_line_figures_need_only_their_own_files(tmp_path, captured):
    """The two figure rules: the surface figures without the 1-D files and the other way round."""
    io.write_npz(tmp_path / "surface.npz", **bowl().arrays())
    surface_out = {name: [tmp_path / f"{name}.png"] for name in ("contour", "contourf", "heatmap", "surface3d")}
    assert set(plots.plot_landscape_figures(surface_out, surface_path=tmp_path / "surface.npz")) == set(surface_out)
    alphas = np.linspace(-1, 1, 5)
    pd.DataFrame({"alpha": alphas, "loss": 1 + alphas**2, "acc": 1 - alphas**2 / 2}).to_csv(tmp_path / "l.csv", index=False)
    info = plots.plot_landscape_figures({"line": [tmp_path / "line.png"]}, line_path=tmp_path / "l.csv")
    assert set(info) == {"line"}
    with pytest.raises(ValueError, match="surface_path"):
        plots.plot_landscape_figures({"heatmap": [tmp_path / "h.png"]}, line_path=tmp_path / "l.csv")


def test_heat_map_extends_its_colour_bar_only_when_something_is_clipped(tmp_path, captured):
    surface = bowl()
    top = float(np.nanmax(np.where(np.isfinite(surface.loss), surface.loss, np.nan)))
    info = plots.plot_heatmap(surface, [tmp_path / "whole.png"], zmax=top)
    mesh = [c for c in captured[-1].axes[0].collections if isinstance(c, QuadMesh)][0]
    assert mesh.colorbar.extend == "neither" and not info.notes["clipped"]
    info = plots.plot_heatmap(surface, [tmp_path / "clipped.png"], zmax=top / 2)
    mesh = [c for c in captured[-1].axes[0].collections if isinstance(c, QuadMesh)][0]
    assert mesh.colorbar.extend == "max" and info.notes["clipped"]


@pytest.mark.parametrize("num, marked", [(5, True), (4, False)])
def test_the_3d_surface_marks_theta_star_only_when_it_is_a_grid_point(tmp_path, captured, num, marked):
    alpha = np.linspace(-1, 1, num)  # 4 points: -1, -1/3, 1/3, 1, so 0 is not on the grid
    beta = np.linspace(-1, 1, 3)
    a, b = np.meshgrid(alpha, beta)
    plots.plot_surface3d(Surface(alpha, beta, 1 + a**2 + b**2, np.ones(a.shape)), [tmp_path / "s.png"])
    ax = [ax for ax in captured[-1].axes if ax.name == "3d"][0]
    polys = [c for c in ax.collections if isinstance(c, Poly3DCollection)]
    assert len(polys) == 1 and len(polys[0].get_paths()) == (3 - 1) * (num - 1)
    stars = [c for c in ax.collections if c.get_label() == r"$\theta^*$"]
    assert (len(stars) == 1) is marked
