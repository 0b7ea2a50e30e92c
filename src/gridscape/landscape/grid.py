"""The (alpha, beta) grid: coordinates, the flat point order, chunks, and the merge.

Orientation, used everywhere (CSV, npz, plots): a surface array ``Z`` has shape
``(num_beta, num_alpha)`` and ``Z[j, i] = f(alpha[i], beta[j])``, i.e. rows follow beta and
columns follow alpha, as ``matplotlib``'s ``contour(alpha, beta, Z)`` expects. The flat
point index is ``p = j * num_alpha + i`` (alpha varies fastest).

Both axes have 0.0 exactly whenever a grid value lies within rounding of it (``np.linspace``
can give 1.4e-17 instead), so θ* is a grid point whenever the config puts one there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from gridscape import io

AXES = ("beta", "alpha")  # the order of the two array dimensions
# The chunk file: the contract columns, then which evaluation method computed each point.
CHUNK_COLUMNS = ("point", "alpha", "beta", "loss", "acc", "seconds")
CHUNK_EXTRA_COLUMNS = ("method",)
SURFACE_COLUMNS = ("alpha", "beta", "loss", "acc")
SNAP_TOL = 1e-9  # relative to max(span, 1): how near a value must be to be snapped


class MergeError(ValueError):
    """The chunk files do not add up to the grid (missing, duplicated or foreign points)."""


def snap(values: np.ndarray, exact: Iterable[float], tol: float = SNAP_TOL) -> np.ndarray:
    """``values`` with the value nearest to each of ``exact`` set to it exactly, when it lies
    within ``tol * max(span, 1)`` of it (rounding, not a real grid step). Order kept."""
    values = np.asarray(values, dtype=np.float64).copy()
    if values.size == 0:
        return values
    span = float(values.max() - values.min())
    for x in exact:
        k = int(np.argmin(np.abs(values - x)))
        if abs(values[k] - x) <= tol * max(span, 1.0):
            values[k] = x
    return values


def with_exact_kept_count(values: np.ndarray, exact: Iterable[float], tol: float = SNAP_TOL) -> np.ndarray:
    """``values`` with each of ``exact`` on it and, where it can, as many points as before:
    the interior point nearest to a missing exact value becomes it (the ends stay, so the
    range does too); only when no interior point is left is the value inserted. Sorted."""
    values = snap(np.asarray(values, dtype=np.float64), exact, tol).copy()
    exact = [float(x) for x in exact]
    for x in exact:
        if not values.size or x in values or not values.min() <= x <= values.max():
            continue
        movable = [i for i in range(1, values.size - 1) if values[i] not in exact]
        if movable:
            nearest = min(movable, key=lambda i: abs(values[i] - x))
            values[nearest] = x
        else:
            values = np.append(values, x)
    return np.unique(values)


def axis(spec: Mapping) -> np.ndarray:
    """``np.linspace(min, max, num)`` from an axis section of the config, with a value within
    rounding of 0 set to exactly 0 (so the centre is found by equality)."""
    num = int(spec["num"])
    if num < 1:
        raise ValueError(f"an axis needs at least one point, got num={num}")
    return snap(np.linspace(float(spec["min"]), float(spec["max"]), num), [0.0])


def _holds_zero(values: np.ndarray) -> bool:
    return bool(values.size) and float(values.min()) <= 0.0 <= float(values.max())


def centre_required_problem(landscape: Mapping) -> str | None:
    """Why θ* (α = β = 0) is not a grid point although both ranges contain 0, or None.

    For the config check: a symmetric range needs an odd ``num``. The message names the keys.
    """
    return PlaneGrid.from_config(landscape).centre_problem()


@dataclass(frozen=True)
class PlaneGrid:
    """The (alpha, beta) points of the landscape's plane, in row-major order (the chunks cut
    this order); not the hyperparameter grid of the search."""

    alpha: np.ndarray
    beta: np.ndarray

    @classmethod
    def from_config(cls, landscape: Mapping) -> "PlaneGrid":
        return cls(axis(landscape["alpha"]), axis(landscape["beta"]))

    @property
    def shape(self) -> tuple[int, int]:
        """(num_beta, num_alpha): the shape of every surface array."""
        return (len(self.beta), len(self.alpha))

    @property
    def size(self) -> int:
        return len(self.alpha) * len(self.beta)

    def coords(self, points: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """alpha and beta of flat point indices."""
        points = np.asarray(points, dtype=np.int64)
        j, i = np.divmod(points, len(self.alpha))
        return self.alpha[i], self.beta[j]

    def centre_index(self) -> int | None:
        """The flat index of (0, 0) when both axes hold an exact 0, else None."""
        i = np.flatnonzero(self.alpha == 0.0)
        j = np.flatnonzero(self.beta == 0.0)
        if len(i) == 0 or len(j) == 0:
            return None
        return int(j[0] * len(self.alpha) + i[0])

    def centre_problem(self) -> str | None:
        """A message naming ``landscape.alpha.num``/``landscape.beta.num`` when 0 lies inside
        both ranges but is not a value of one of the axes (so θ* is not a grid point)."""
        if not (_holds_zero(self.alpha) and _holds_zero(self.beta)):
            return None  # θ* is outside the plotted window: nothing to check there
        bad = [(name, values) for name, values in (("alpha", self.alpha), ("beta", self.beta)) if not (values == 0.0).any()]
        if not bad:
            return None
        parts = [
            f"config key landscape.{name}.num: {len(v)} points from {v[0]:g} to {v[-1]:g} do not include {name} = 0"
            for name, v in bad
        ]
        return (
            "; ".join(parts) + ", so the final model theta* (alpha = beta = 0) is not a grid point and its loss "
            "cannot be checked against the surface; choose num so that 0 is a grid point (an odd num for a "
            "symmetric range, e.g. 25)"
        )


def effective_chunks(n_points: int, chunks: int) -> int:
    """Chunks actually used: never more than there are points (no empty jobs)."""
    return max(1, min(int(chunks), int(n_points)))


def chunk_range(n_points: int, chunks: int, index: int) -> range:
    """Flat points of chunk ``index``: contiguous, sizes differing by at most one, larger first."""
    chunks = effective_chunks(n_points, chunks)
    if not 0 <= index < chunks:
        raise ValueError(f"chunk index {index} is outside 0..{chunks - 1}")
    base, extra = divmod(n_points, chunks)
    start = index * base + min(index, extra)
    return range(start, start + base + (1 if index < extra else 0))


def chunk_of(n_points: int, chunks: int, point: int) -> int:
    """The chunk whose range holds flat point ``point``."""
    chunks = effective_chunks(n_points, chunks)
    base, extra = divmod(n_points, chunks)
    big = extra * (base + 1)  # points held by the first ``extra`` chunks, one larger each
    return point // (base + 1) if point < big else extra + (point - big) // base


def chunk_frame(points: Sequence[int], alpha, beta, loss, acc, seconds, method: str) -> pd.DataFrame:
    """One chunk's table: ``seconds`` is each point's evaluation time (a vmap pass's time
    shared by its points), ``method`` the evaluation that computed it (loop, compile or vmap)."""
    return pd.DataFrame(
        {
            "point": np.asarray(points, dtype=np.int64),
            "alpha": np.asarray(alpha, dtype=np.float64),
            "beta": np.asarray(beta, dtype=np.float64),
            "loss": np.asarray(loss, dtype=np.float64),
            "acc": np.asarray(acc, dtype=np.float64),
            "seconds": np.asarray(seconds, dtype=np.float64),
            "method": [str(method)] * len(points),
        },
        columns=[*CHUNK_COLUMNS, *CHUNK_EXTRA_COLUMNS],
    )


def read_chunk(path: str | Path) -> pd.DataFrame:
    frame = io.read_csv_exact(path)
    missing = [c for c in CHUNK_COLUMNS if c not in frame.columns]
    if missing:
        raise MergeError(f"{path}: missing columns {missing}; expected {list(CHUNK_COLUMNS)}")
    return frame


def chunk_method(frame: pd.DataFrame) -> str | None:
    """The evaluation method a chunk file records (None for a file written before it did)."""
    if "method" not in frame.columns or frame.empty:
        return None
    methods = sorted({str(m) for m in frame["method"]})
    return methods[0] if len(methods) == 1 else "+".join(methods)


@dataclass
class Surface:
    """The merged grid: coordinate vectors and (num_beta, num_alpha) loss and accuracy."""

    alpha: np.ndarray
    beta: np.ndarray
    loss: np.ndarray
    acc: np.ndarray

    @property
    def grid(self) -> PlaneGrid:
        return PlaneGrid(self.alpha, self.beta)

    def to_frame(self) -> pd.DataFrame:
        """One row per point, in flat order (alpha fastest)."""
        b, a = np.meshgrid(self.beta, self.alpha, indexing="ij")
        return pd.DataFrame(
            {"alpha": a.ravel(), "beta": b.ravel(), "loss": self.loss.ravel(), "acc": self.acc.ravel()},
            columns=list(SURFACE_COLUMNS),
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """What surface.npz holds; ``axes`` names the dimensions of ``loss`` and ``acc``."""
        return {
            "alpha": self.alpha,
            "beta": self.beta,
            "loss": self.loss,
            "acc": self.acc,
            "axes": np.array(AXES),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> "Surface":
        """Read surface.npz's arrays back, whatever axis order they were stored in."""
        axes = tuple(str(a) for a in np.asarray(arrays["axes"]))
        loss, acc = np.asarray(arrays["loss"]), np.asarray(arrays["acc"])
        if axes == ("alpha", "beta"):
            loss, acc = loss.T, acc.T
        elif axes != AXES:
            raise ValueError(f"unknown axes {axes}; expected {AXES} or its reverse")
        alpha, beta = np.asarray(arrays["alpha"]), np.asarray(arrays["beta"])
        if loss.shape != (len(beta), len(alpha)):
            raise ValueError(f"loss has shape {loss.shape}, expected (num_beta, num_alpha) = {(len(beta), len(alpha))}")
        return cls(alpha, beta, loss, acc)

    def value(self, alpha: float, beta: float, what: str = "loss") -> float:
        """The stored value at exactly this grid point."""
        i = np.flatnonzero(self.alpha == alpha)
        j = np.flatnonzero(self.beta == beta)
        if len(i) == 0 or len(j) == 0:
            raise KeyError(f"({alpha}, {beta}) is not a grid point")
        return float(getattr(self, what)[j[0], i[0]])


def merge_chunks(
    grid: PlaneGrid, chunks: Sequence[pd.DataFrame], names: Sequence[str] | None = None, n_chunks: int | None = None
) -> Surface:
    """Assemble chunk tables into a surface; every point exactly once, at its own coordinates.

    Non-finite losses are kept as they are (the caller counts them); a point missing, present
    twice, outside the grid or with coordinates that are not its own raises MergeError naming
    the chunk(s) and the point. ``n_chunks`` is the configured chunk count: with it, a missing
    point's message names the chunk that should hold it (``names[k]`` when one name per
    configured chunk is given, else "chunk k").
    """
    names = list(names) if names is not None else [f"chunk {k}" for k in range(len(chunks))]
    n = grid.size
    owner = np.full(n, -1, dtype=np.int64)
    loss = np.full(n, np.nan)
    acc = np.full(n, np.nan)
    for k, frame in enumerate(chunks):
        points = frame["point"].to_numpy()
        if not np.issubdtype(points.dtype, np.integer):
            raise MergeError(f"{names[k]}: column 'point' is not integer")
        bad = points[(points < 0) | (points >= n)]
        if len(bad):
            raise MergeError(f"{names[k]}: point {int(bad[0])} is outside the grid of {n} points")
        uniq, counts = np.unique(points, return_counts=True)
        if (counts > 1).any():
            raise MergeError(f"{names[k]}: point {int(uniq[counts > 1][0])} appears {int(counts.max())} times")
        clash = points[owner[points] >= 0]
        if len(clash):
            p = int(clash[0])
            raise MergeError(f"point {p} appears twice: in {names[owner[p]]} and in {names[k]}")
        alpha, beta = grid.coords(points)
        wrong = ~(np.isclose(frame["alpha"].to_numpy(), alpha, rtol=1e-12, atol=1e-12)
                  & np.isclose(frame["beta"].to_numpy(), beta, rtol=1e-12, atol=1e-12))
        if wrong.any():
            p = int(points[wrong][0])
            raise MergeError(
                f"{names[k]}: point {p} has coordinates ({frame['alpha'].to_numpy()[wrong][0]}, "
                f"{frame['beta'].to_numpy()[wrong][0]}) but the grid puts it at ({alpha[wrong][0]}, {beta[wrong][0]}); "
                "the chunk was computed for another grid"
            )
        owner[points] = k
        loss[points] = frame["loss"].to_numpy(dtype=np.float64)
        acc[points] = frame["acc"].to_numpy(dtype=np.float64)
    missing = np.flatnonzero(owner < 0)
    if len(missing):
        p = int(missing[0])
        a, b = grid.coords([p])
        where = ""
        if n_chunks is not None:
            c = chunk_of(n, n_chunks, p)
            owner_name = names[c] if len(names) == effective_chunks(n, n_chunks) else f"chunk {c}"
            where = f"; it belongs to {owner_name}"
        raise MergeError(
            f"{len(missing)} of {n} grid points missing: first point {p} at alpha={a[0]:g}, beta={b[0]:g}{where}"
        )
    return Surface(grid.alpha, grid.beta, loss.reshape(grid.shape), acc.reshape(grid.shape))
