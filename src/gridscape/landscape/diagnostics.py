"""Facts about a merged surface that tell a real landscape from a bug, and justify the range."""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .grid import Surface

CENTRE_RTOL = 1e-6


def relative_difference(a: float, b: float) -> float:
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(b), 1e-300)


def boundary_ring(values: np.ndarray) -> np.ndarray:
    """The outermost rows and columns of a 2-D array, each element once."""
    mask = np.zeros(values.shape, dtype=bool)
    mask[0, :] = mask[-1, :] = mask[:, 0] = mask[:, -1] = True
    return values[mask]


def _stats(values: np.ndarray) -> dict:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"max": float("nan"), "mean": float("nan"), "min": float("nan")}
    return {"max": float(finite.max()), "mean": float(finite.mean()), "min": float(finite.min())}


def surface_diagnostics(
    surface: Surface,
    reference: Mapping,
    cos_delta_eta: float,
    chunks: Sequence[pd.DataFrame] = (),
) -> dict:
    """Centre vs L(θ*), non-finite points, edges vs centre, the minimum, and timing.

    ``reference`` holds the final model's own ``loss`` and ``acc`` on the same images,
    computed by ``gridscape.train.evaluate``.
    """
    grid = surface.grid
    loss = surface.loss
    finite = np.isfinite(loss)
    centre_index = grid.centre_index()
    out: dict = {"grid": {"alpha": _axis(surface.alpha), "beta": _axis(surface.beta), "axes": ["beta", "alpha"]}}
    ref_loss = float(reference["loss"])
    if centre_index is None:
        centre = {"on_grid": False, "loss": None, "acc": None}
        centre_check = {"theta_star_loss": ref_loss, "relative_difference": None, "agrees": None}
    else:
        j, i = divmod(centre_index, len(surface.alpha))
        c_loss, c_acc = float(loss[j, i]), float(surface.acc[j, i])
        rel = relative_difference(c_loss, ref_loss)
        centre = {"on_grid": True, "alpha": 0.0, "beta": 0.0, "loss": c_loss, "acc": c_acc}
        centre_check = {
            "theta_star_loss": ref_loss,
            "theta_star_acc": float(reference["acc"]),
            "relative_difference": rel,
            "tolerance": CENTRE_RTOL,
            "agrees": bool(rel <= CENTRE_RTOL),
            "bitwise": bool(c_loss == ref_loss),
        }
    out["centre"] = centre
    out["centre_check"] = centre_check
    out["cos_delta_eta"] = float(cos_delta_eta)
    bad = np.flatnonzero(~finite.ravel())
    out["non_finite"] = {
        "count": int(bad.size),
        "fraction": float(bad.size / loss.size),
        "points": [int(p) for p in bad[:20]],
    }
    ring = boundary_ring(loss)
    out["edges"] = _stats(ring)
    if centre["loss"] is not None and centre["loss"] > 0:
        out["edges"]["max_over_centre"] = out["edges"]["max"] / centre["loss"]
        out["edges"]["mean_over_centre"] = out["edges"]["mean"] / centre["loss"]
    out["surface"] = _stats(loss)
    if finite.any():
        flat = int(np.nanargmin(np.where(finite, loss, np.nan)))
        j, i = divmod(flat, len(surface.alpha))
        on_edge = i in (0, len(surface.alpha) - 1) or j in (0, len(surface.beta) - 1)
        out["minimum"] = {
            "alpha": float(surface.alpha[i]),
            "beta": float(surface.beta[j]),
            "loss": float(loss[j, i]),
            "acc": float(surface.acc[j, i]),
            "at_centre": flat == centre_index,
            "on_edge": bool(on_edge),
        }
    out["accuracy"] = {"centre": centre["acc"], **_stats(surface.acc)}
    if chunks:
        per_chunk = [
            {"chunk": k, "points": int(len(f)), "seconds": float(f["seconds"].sum())} for k, f in enumerate(chunks)
        ]
        total = sum(c["seconds"] for c in per_chunk)
        out["timing"] = {
            "chunks": per_chunk,
            "seconds_per_chunk": {"mean": total / len(per_chunk), "max": max(c["seconds"] for c in per_chunk)},
            "total_seconds": total,
            "points_per_second": (loss.size / total) if total > 0 else math.inf,
        }
    return out


def _axis(values: np.ndarray) -> dict:
    return {"min": float(values[0]), "max": float(values[-1]), "num": int(len(values))}
