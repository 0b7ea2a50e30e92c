"""Shared look of every report figure, and the one way figures are written to disk."""

from __future__ import annotations

import functools
import math
import numbers
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, TypeVar

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from cycler import cycler  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from gridscape.config import format_value  # noqa: E402  (one spelling of axis values everywhere)
from gridscape.io import atomic_paths  # noqa: E402

DPI = 150

# Okabe & Ito (2008): distinguishable under the common forms of colour blindness.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
DIVERGED_COLOR = "#D55E00"
MISSING_COLOR = "#d9d9d9"

STYLE: dict[str, Any] = {
    "font.size": 10,
    "axes.titlesize": 11.5,
    "axes.titleweight": "normal",
    "axes.labelsize": 10.5,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "figure.titlesize": 13,
    "figure.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=OKABE_ITO),
    "grid.alpha": 0.35,
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.6,
    "image.cmap": "viridis",
    # TrueType fonts in PDFs stay selectable and editable, unlike Type 3.
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.hashsalt": "gridscape",
}

# Dates in file metadata would make identical figures differ byte for byte.
_METADATA: dict[str, dict[str, Any]] = {
    "pdf": {"CreationDate": None, "ModDate": None},
    "svg": {"Date": None},
}

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class FigureInfo:
    """What a plotting function wrote, for callers and tests to check."""

    paths: tuple[Path, ...]
    size_px: tuple[int, int]  # (width, height) of raster outputs
    annotations: tuple[str, ...] = ()
    notes: Mapping[str, Any] = field(default_factory=dict)


def styled(func: F) -> F:
    """Run a plotting function under the report style without touching global rcParams."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with matplotlib.rc_context(STYLE):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def new_figure(width: float, height: float) -> Figure:
    """A figure outside pyplot's registry, so nothing leaks if a plot fails half-way."""
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _as_paths(paths: Sequence[str | os.PathLike] | str | os.PathLike) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    result = [Path(p) for p in paths]
    if not result:
        raise ValueError("no output path given")
    return result


def _format_of(fig: Figure, path: Path) -> str:
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in fig.canvas.get_supported_filetypes():
        raise ValueError(f"cannot write {path}: unknown figure format {fmt!r}")
    return fmt


def save_figure(fig: Figure, paths: Sequence[str | os.PathLike]) -> FigureInfo:
    """Write ``fig`` to every path (format from the suffix), then close it.

    All files are rendered to temporary names first and renamed only once every one
    succeeded, so a failure leaves no file, complete or partial, under a final name.
    """
    targets = _as_paths(paths)
    try:
        formats = [_format_of(fig, target) for target in targets]
        with atomic_paths(targets) as temps:
            for tmp, fmt in zip(temps, formats):
                fig.savefig(tmp, format=fmt, dpi=DPI, metadata=_METADATA.get(fmt))
        width, height = fig.get_size_inches() * DPI
        return FigureInfo(paths=tuple(targets), size_px=(int(width), int(height)))
    finally:
        plt.close(fig)


def same_value(a: object, b: object) -> bool:
    """Equality that survives a round trip through JSON/YAML (1 == 1.0, 0.1 ~ 0.1)."""
    if isinstance(a, numbers.Real) and isinstance(b, numbers.Real):
        fa, fb = float(a), float(b)
        return fa == fb or math.isclose(fa, fb, rel_tol=1e-9, abs_tol=0.0)
    return a == b or format_value(a) == format_value(b)


_SPLITS = {"train": "training", "val": "validation", "valid": "validation", "test": "test"}
_QUANTITIES = {"acc": "accuracy", "loss": "loss"}


def literal(text: object) -> str:
    """Text from the data (class names) as matplotlib must show it: every '$' escaped, so that
    a name such as '$\\input{x}$' prints as written instead of being parsed as mathtext."""
    return str(text).replace("$", r"\$")


def metric_label(metric: str) -> str:
    """'val_acc' -> 'validation accuracy'; unknown names are kept readable."""
    words = metric.split("_")
    first = _SPLITS.get(words[0], _QUANTITIES.get(words[0], words[0]))
    return " ".join([first, *(_QUANTITIES.get(w, w) for w in words[1:])])


def is_accuracy(metric: str) -> bool:
    return metric.endswith("acc") or metric.endswith("accuracy")
