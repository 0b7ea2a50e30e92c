"""Facts about a merged surface that tell a real landscape from a bug, and justify the range."""

from __future__ import annotations

import logging
import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .grid import Surface, chunk_method

log = logging.getLogger(__name__)

# The centre f(0, 0) must reproduce L(θ*) to this relative tolerance, whatever the method. The
# eager loop calls ``evaluate`` itself and first_layer adds exact zeros to the same batches'
# outputs: both are expected to match bit for bit (``bitwise_expected``); compile and vmap sum
# in other orders and stay within it (evaluate.COMPILE_RTOL, measured <= 1e-7).
CENTRE_RTOL = 1e-6
BITWISE_METHODS = ("loop", "first_layer")
# landscape.precision bfloat16 (opt-in) keeps 8 significant bits per product: measured on
# LeNet-5 and CIFAR-shaped images, its losses are within 4e-4 of float32's relative; the
# centre must then reproduce L(θ*), computed in float32, to this.
PRECISION_RTOL = {"float32": CENTRE_RTOL, "bfloat16": 1e-2}


def precision_of(landscape: Mapping) -> str:
    """``landscape.precision`` as the grid's rules pass it: absent from their params at its default."""
    return landscape.get("precision", "float32")
TIMING_NOTE = (
    "evaluation time only, as the chunks measured it (setting the weights and the forward passes; "
    "compiling, for method compile, is part of the start-up); "
    "a job's wall time, with start-up and loading, is in benchmarks/landscape_chunk/<chunk>.tsv"
)


def relative_difference(a: float, b: float) -> float:
    """|a - b| / |b| (0 when equal, also for two zeros or two equal infinities)."""
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(b), 1e-300)


def reference_check(value: float, reference: float, tolerance: float = CENTRE_RTOL) -> dict:
    """How a value computed on the landscape (f(0, 0), the line at α = 0, the path at t = 1)
    compares with the final model's own loss L(θ*) on the same images."""
    rel = relative_difference(float(value), float(reference))
    return {
        "theta_star_loss": float(reference),
        "relative_difference": rel,
        "tolerance": tolerance,
        "agrees": bool(rel <= tolerance),
        "bitwise": bool(float(value) == float(reference)),
    }


def require_reference(what: str, value: float, reference: float, tolerance: float = CENTRE_RTOL) -> dict:
    """``reference_check``, raising when ``value`` is not L(θ*) to ``tolerance`` relative."""
    check = reference_check(value, reference, tolerance)
    if not check["agrees"]:
        raise RuntimeError(
            f"{what} = {value!r} differs from the final model's own loss {reference!r} by "
            f"{check['relative_difference']:.3g} relative (tolerance {tolerance}): it was not computed with "
            "this model, these directions or these images"
        )
    log.info("%s reproduces L(theta*) (relative difference %.3g%s)", what, check["relative_difference"],
             ", bit for bit" if check["bitwise"] else "")
    return check


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
    precision: str = "float32",
) -> dict:
    """Centre vs L(θ*), non-finite points, edges vs centre, the minimum, and timing.

    ``reference`` holds the final model's own ``loss`` and ``acc`` on the same images,
    computed by ``gridscape.train.evaluate``. ``chunks`` are the chunk tables (for timing and
    the method each was evaluated with).
    """
    grid = surface.grid
    loss = surface.loss
    finite = np.isfinite(loss)
    centre_index = grid.centre_index()
    out: dict = {"grid": {"alpha": _axis(surface.alpha), "beta": _axis(surface.beta), "axes": ["beta", "alpha"]}}
    ref_loss = float(reference["loss"])
    if centre_index is None:
        centre = {"on_grid": False, "loss": None, "acc": None}
        centre_check = {"theta_star_loss": ref_loss, "relative_difference": None, "agrees": None,
                        "problem": grid.centre_problem()}
    else:
        j, i = divmod(centre_index, len(surface.alpha))
        c_loss, c_acc = float(loss[j, i]), float(surface.acc[j, i])
        centre = {"on_grid": True, "alpha": 0.0, "beta": 0.0, "loss": c_loss, "acc": c_acc}
        centre_check = {**reference_check(c_loss, ref_loss, PRECISION_RTOL[precision]),
                        "theta_star_acc": float(reference["acc"])}
    out["precision"] = precision
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
        out["method"] = methods_of(chunks)
        out["timing"] = chunk_timing(chunks)
        if centre_index is not None:
            out["centre_check"]["bitwise_expected"] = out["method"] in BITWISE_METHODS and precision == "float32"
    return out


def methods_of(chunks: Sequence[pd.DataFrame]) -> str | None:
    """The evaluation method the chunk files record: one name, or 'mixed' (see the timing's
    per-chunk entries); None when no chunk recorded one."""
    methods = {m for m in (chunk_method(f) for f in chunks) if m is not None}
    if not methods:
        return None
    return methods.pop() if len(methods) == 1 else "mixed"


def chunk_timing(chunks: Sequence[pd.DataFrame]) -> dict:
    """Evaluation seconds per chunk (the sum of its points' ``seconds``), and points per
    evaluation second (wall time per job, start-up included, is in the benchmark files)."""
    per_chunk = [
        {"chunk": k, "points": int(len(f)), "method": chunk_method(f), "evaluation_seconds": float(f["seconds"].sum())}
        for k, f in enumerate(chunks)
    ]
    total = sum(c["evaluation_seconds"] for c in per_chunk)
    points = sum(c["points"] for c in per_chunk)
    per = {"mean": total / len(per_chunk), "max": max(c["evaluation_seconds"] for c in per_chunk)}
    rate = (points / total) if total > 0 else math.inf
    return {
        "what": TIMING_NOTE,
        "chunks": per_chunk,
        "evaluation_seconds_per_chunk": per,
        "total_evaluation_seconds": total,
        "points_per_evaluation_second": rate,
    }


def _axis(values: np.ndarray) -> dict:
    return {"min": float(values[0]), "max": float(values[-1]), "num": int(len(values))}
