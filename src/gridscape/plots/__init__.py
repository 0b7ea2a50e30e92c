"""Report figures: plain functions that take data and write PNG/PDF files.

Importing this package selects matplotlib's non-interactive Agg backend, so that no
function here ever opens a window (workflow jobs run headless).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from gridscape.plots.curves import plot_grid_curves, plot_training_curves  # noqa: E402
from gridscape.plots.images import (  # noqa: E402
    plot_augmentation_pairs,
    plot_class_counts,
    plot_image_grid,
)
from gridscape.plots.search import plot_grid_heatmap  # noqa: E402
from gridscape.plots.style import FigureInfo, save_figure  # noqa: E402

__all__ = [
    "FigureInfo",
    "plot_augmentation_pairs",
    "plot_class_counts",
    "plot_grid_curves",
    "plot_grid_heatmap",
    "plot_image_grid",
    "plot_training_curves",
    "save_figure",
]
