"""The loss landscape's context, from its JSON and CSV files (every file optional: a study
without a landscape gets a context that says so)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from gridscape import io

from .helpers import LANDSCAPE_FIGURES, dig, finite


def _read_optional_json(path: Path | None) -> dict | None:
    if path is None or not Path(path).exists():
        return None
    try:
        data = io.read_json(path)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _read_optional_csv(path: Path | None) -> pd.DataFrame | None:
    if path is None or not Path(path).exists():
        return None
    try:
        return pd.read_csv(path)
    except (OSError, ValueError):
        return None


# float32's relative precision is 1.2e-7; a loss summed over thousands of images and computed
# through many layers carries a few times that: rises below this never count as barriers.
FLOAT_NOISE_FLOOR = 1e-6


def rise_tolerance(loss_at_one: float | None, theta_star_loss: float | None) -> float:
    """How much the interpolation's loss may rise between two neighbouring points and still be
    evaluation noise: ten times the measured noise, the relative difference between its f(1)
    and the separately computed L(θ*) (the same weights, evaluated twice), and never below
    ``FLOAT_NOISE_FLOOR``. The images are the same at every t, so their sampling noise is common
    to all points and is no reason to discount a rise."""
    measured = 0.0
    if loss_at_one is not None and theta_star_loss:
        measured = abs(loss_at_one - theta_star_loss) / abs(theta_star_loss)
    return max(FLOAT_NOISE_FLOOR, 10 * measured)


def landscape_context(config: Mapping, paths: Mapping[str, Path | None], figures: Mapping[str, str],
                      n_classes: int) -> dict:
    settings = config.get("landscape", {}) or {}
    enabled = bool(settings.get("enabled", False))
    out: dict[str, Any] = {"enabled": enabled, "available": False}
    if not enabled:
        return out
    directions = _read_optional_json(paths.get("directions")) or {}
    diagnostics = _read_optional_json(paths.get("diagnostics")) or {}
    line = _read_optional_csv(paths.get("line"))
    interpolation = _read_optional_csv(paths.get("interpolation"))
    out["available"] = bool(directions or diagnostics)
    out["shape"] = basin_shape(_read_optional_csv(paths.get("surface")))
    alpha_num, beta_num = (settings.get("alpha", {}) or {}).get("num"), (settings.get("beta", {}) or {}).get("num")
    out["handout_grid"] = alpha_num == 25 and beta_num == 25  # ACSE-8 question 10's "25 values per axis"

    filters = []
    for name, facts in (dig(directions, "filters", {}) or {}).items():
        if not isinstance(facts, Mapping):
            continue
        filters.append({
            "name": name,
            "shape": facts.get("shape", []),
            "filters": facts.get("filters"),
            "perturbed": facts.get("perturbed"),
            "theta_norm": finite(facts.get("theta_norm")),
            "delta_norm": finite(facts.get("delta_norm")),
            "eta_norm": finite(facts.get("eta_norm")),
            "filter_min": finite(facts.get("theta_filter_norm_min")),
            "filter_max": finite(facts.get("theta_filter_norm_max")),
        })
    perturbed = [f for f in filters if f["perturbed"]]
    worst = 0.0
    for f in perturbed:
        for key in ("delta_norm", "eta_norm"):
            if f[key] is not None and f["theta_norm"]:
                worst = max(worst, abs(f[key] - f["theta_norm"]) / f["theta_norm"])
    cos = finite(directions.get("cos_delta_eta", diagnostics.get("cos_delta_eta")))
    n_params = directions.get("perturbed_parameters") or directions.get("parameters")
    one_over = finite(directions.get("one_over_sqrt_n")) or (1 / math.sqrt(n_params) if n_params else None)
    alpha = dig(diagnostics, "grid.alpha", settings.get("alpha", {})) or {}
    beta = dig(diagnostics, "grid.beta", settings.get("beta", {})) or {}
    centre_loss = finite(dig(diagnostics, "centre.loss"))
    edge_mean = finite(dig(diagnostics, "edges.mean"))
    edge_max = finite(dig(diagnostics, "edges.max"))
    edge_min = finite(dig(diagnostics, "edges.min"))
    chance = math.log(n_classes) if n_classes > 1 else None
    rise = (edge_mean / centre_loss) if edge_mean is not None and centre_loss else finite(dig(diagnostics, "edges.mean_over_centre"))
    low_edge = max(1.5 * centre_loss, 0.05 * chance) if centre_loss is not None and chance else None
    if centre_loss is not None and chance and centre_loss >= 0.8 * chance:
        range_verdict = "flat"  # the model itself is barely better than guessing
    elif edge_min is not None and low_edge is not None and edge_min <= low_edge:
        range_verdict = "narrow"  # some edge point is still near the minimum: the basin reaches the edge
    elif chance is not None and edge_min is not None and edge_min > 2 * chance:
        range_verdict = "wide"  # even the lowest edge point is far above a guess: the walls dominate
    else:
        range_verdict = "good"
    line_facts = {}
    if line is not None and {"alpha", "loss"} <= set(line.columns) and len(line):
        first, last = line.iloc[0], line.iloc[-1]
        line_facts = {"alpha_min": finite(first["alpha"]), "alpha_max": finite(last["alpha"]),
                      "loss_left": finite(first["loss"]), "loss_right": finite(last["loss"]),
                      "acc_left": finite(first.get("acc")), "acc_right": finite(last.get("acc")),
                      "min_alpha": finite(line.loc[line["loss"].idxmin(), "alpha"]),
                      "points": len(line)}
    interp_facts = {}
    if interpolation is not None and {"t", "loss"} <= set(interpolation.columns) and len(interpolation):
        frame = interpolation.sort_values("t")
        at0 = frame.iloc[(frame["t"] - 0).abs().argmin()]
        at1 = frame.iloc[(frame["t"] - 1).abs().argmin()]
        inside = frame[(frame["t"] >= 0) & (frame["t"] <= 1)]["loss"].to_numpy()
        tolerance = rise_tolerance(finite(at1["loss"]), finite(dig(diagnostics, "centre_check.theta_star_loss")))
        rises = [(b - a) / a for a, b in zip(inside, inside[1:]) if a > 0 and b > a]
        bumps = sum(1 for rise in rises if rise > tolerance)
        interp_facts = {"t_min": finite(frame["t"].min()), "t_max": finite(frame["t"].max()),
                        "loss_init": finite(at0["loss"]), "loss_final": finite(at1["loss"]),
                        "acc_init": finite(at0.get("acc")), "acc_final": finite(at1.get("acc")),
                        "monotone": bumps == 0, "rises": bumps, "points": len(frame),
                        "tolerance": tolerance, "largest_rise": max(rises, default=0.0),
                        "small_rises": len(rises) - bumps}
    chunks = dig(diagnostics, "timing.chunks", []) or []
    out.update({
        "delta_seed": directions.get("delta_seed", settings.get("delta_seed")),
        "eta_seed": directions.get("eta_seed", settings.get("eta_seed")),
        "normalization": directions.get("normalization", settings.get("normalization", "filter")),
        "ignore": directions.get("ignore", settings.get("ignore", "biasbn")),
        "cos": cos,
        "one_over_sqrt_n": one_over,
        "cos_ratio": abs(cos) / one_over if cos is not None and one_over else None,
        "n_parameters": directions.get("parameters"),
        "n_perturbed": directions.get("perturbed_parameters"),
        "filters": filters,
        "n_filters": sum(int(f["filters"] or 0) for f in perturbed),
        "norm_error": worst if perturbed else None,
        "alpha": {"min": finite(alpha.get("min")), "max": finite(alpha.get("max")), "num": alpha.get("num")},
        "beta": {"min": finite(beta.get("min")), "max": finite(beta.get("max")), "num": beta.get("num")},
        "n_points": (alpha.get("num") or 0) * (beta.get("num") or 0),
        "reach": max((abs(v) for v in (finite(alpha.get("min")), finite(alpha.get("max")),
                                       finite(beta.get("min")), finite(beta.get("max"))) if v is not None),
                     default=None),
        "same_axes": (finite(alpha.get("min")), finite(alpha.get("max")), alpha.get("num"))
        == (finite(beta.get("min")), finite(beta.get("max")), beta.get("num")),
        "data_part": dig(diagnostics, "data.part", settings.get("data", "train")),
        "data_images": dig(diagnostics, "data.n_images"),
        "data_subset": bool(dig(diagnostics, "data.subset", False)),
        "centre_on_grid": bool(dig(diagnostics, "centre.on_grid", centre_loss is not None)),
        "centre_loss": centre_loss,
        "centre_acc": finite(dig(diagnostics, "centre.acc")),
        "model_loss": finite(dig(diagnostics, "centre_check.theta_star_loss")),
        "centre_rel_diff": finite(dig(diagnostics, "centre_check.relative_difference")),
        "centre_agrees": dig(diagnostics, "centre_check.agrees"),
        "centre_tolerance": finite(dig(diagnostics, "centre_check.tolerance")),
        "precision": dig(diagnostics, "precision", "float32"),
        "non_finite_count": dig(diagnostics, "non_finite.count", 0),
        "non_finite_fraction": finite(dig(diagnostics, "non_finite.fraction")) or 0.0,
        "edge_mean": edge_mean,
        "edge_max": edge_max,
        "edge_min": edge_min,
        "edge_rise": rise,
        "surface_max": finite(dig(diagnostics, "surface.max")),
        "min_alpha": finite(dig(diagnostics, "minimum.alpha")),
        "min_beta": finite(dig(diagnostics, "minimum.beta")),
        "min_loss": finite(dig(diagnostics, "minimum.loss")),
        "min_at_centre": dig(diagnostics, "minimum.at_centre"),
        "min_on_edge": dig(diagnostics, "minimum.on_edge"),
        "acc_min": finite(dig(diagnostics, "accuracy.min")),
        "acc_mean": finite(dig(diagnostics, "accuracy.mean")),
        "chance_loss": chance,
        "range_verdict": range_verdict,
        "n_chunks": len(chunks),
        "seconds_per_chunk": finite(dig(diagnostics, "timing.evaluation_seconds_per_chunk.mean")),
        "seconds_per_chunk_max": finite(dig(diagnostics, "timing.evaluation_seconds_per_chunk.max")),
        "total_seconds": finite(dig(diagnostics, "timing.total_evaluation_seconds")),
        "points_per_second": finite(dig(diagnostics, "timing.points_per_evaluation_second")),
        "method": diagnostics.get("method"),
        "line": line_facts,
        "interpolation": interp_facts,
        "figures": [name for name in LANDSCAPE_FIGURES if figures.get(name)],
    })
    return out


ISOTROPIC = 1.5  # curvatures within this factor of each other: no direction stands out


def basin_shape(surface) -> dict | None:
    """How the loss rises from θ* along the two axes of the plane (β = 0 and α = 0), per unit of
    squared distance (the curvature of a quadratic bowl through the endpoints), and their ratio:
    the basin's anisotropy in these two directions."""
    if surface is None or not {"alpha", "beta", "loss"} <= set(surface.columns):
        return None
    centre = surface[(surface["alpha"] == 0) & (surface["beta"] == 0)]["loss"]
    if centre.empty:
        return None
    centre_loss = float(centre.iloc[0])
    curvatures = {}
    for axis, other in (("alpha", "beta"), ("beta", "alpha")):
        line = surface[(surface[other] == 0) & (surface[axis] != 0)]
        ends = line[line[axis].abs() == line[axis].abs().max()]
        if ends.empty or not np.isfinite(ends["loss"]).all():
            return None
        reach = float(ends[axis].abs().iloc[0])
        rise = float(ends["loss"].mean()) - centre_loss
        curvatures[axis] = {"reach": reach, "rise": rise, "curvature": rise / reach**2}
    a, b = curvatures["alpha"]["curvature"], curvatures["beta"]["curvature"]
    ratio = a / b if b > 0 and a > 0 else None
    steeper = None if ratio is None or 1 / ISOTROPIC <= ratio <= ISOTROPIC else ("delta" if ratio > 1 else "eta")
    return {"alpha": curvatures["alpha"], "beta": curvatures["beta"], "ratio": ratio, "steeper": steeper,
            "isotropic": ratio is not None and steeper is None}
