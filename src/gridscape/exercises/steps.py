"""What the workflow scripts of the exercises kind call, and the report's context.

Each ``run_*`` takes a piece of the config's ``exercises`` section and output paths, and
writes its files atomically (gridscape.io). ``build_exercises_context`` reads only those files.
No torch at import time: the torch comparisons import it inside the functions that run them,
and the report job, which imports this module, never calls them.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from gridscape import io

from .escape import decimals, escape_scan, h_max
from .functions import BUILTIN, make_function
from .optimizers import trajectory
from .receptive_field import HANDOUT_ROW1_RF, HANDOUT_ROWS, parse_layer, receptive_fields

log = logging.getLogger(__name__)

ADAM_DEFAULTS = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
CHECK_TOLERANCE = 1e-12  # own Adam vs torch's, float64
CYCLE_TOLERANCE = 1e-12  # x_t and x_{t-2} count as the same point


def function_spec(name: str, functions: Mapping[str, Mapping]) -> dict:
    """The spec of function ``name``: from the config's ``functions``, else a built-in."""
    if name in functions:
        return dict(functions[name])
    if name in BUILTIN:
        return {"type": name}
    raise ValueError(f"unknown function {name!r}: define it under exercises.functions or use one of {', '.join(BUILTIN)}")


def _optimizer_args(spec: Mapping) -> dict:
    return {key: float(spec.get(key, default)) for key, default in ADAM_DEFAULTS.items()}


def run_trajectory(spec: Mapping, functions: Mapping, csv_path) -> dict:
    """One optimiser run -> ``t, g, m, v, m_hat, v_hat, x, f``; returns its summary."""
    function = make_function(function_spec(spec["function"], functions))
    frame = trajectory(function, spec["optimizer"], float(spec["lr"]), float(spec["x0"]), int(spec["steps"]),
                       **_optimizer_args(spec))
    io.write_csv(csv_path, frame)
    summary = {"name": spec["name"], "final_x": float(frame["x"].iloc[-1]), "steps": int(spec["steps"])}
    log.info("trajectory %s: x_%d = %.6g", spec["name"], summary["steps"], summary["final_x"])
    return summary


def run_trajectory_check(specs: Sequence[Mapping], functions: Mapping, csv_path) -> pd.DataFrame:
    """Every Adam run again with torch.optim.Adam -> ``name, max_abs_diff_torch`` (GD runs have
    nothing to compare with and are left out)."""
    from .optimizers import torch_adam_max_diff  # imports torch when called

    rows = []
    for spec in specs:
        if spec["optimizer"] != "adam":
            continue
        function = make_function(function_spec(spec["function"], functions))
        diff = torch_adam_max_diff(function, float(spec["lr"]), float(spec["x0"]), int(spec["steps"]),
                                   **_optimizer_args(spec))
        rows.append({"name": spec["name"], "max_abs_diff_torch": diff})
        if not diff <= CHECK_TOLERANCE:
            log.warning("trajectory %s: own Adam differs from torch's by %g", spec["name"], diff)
    frame = pd.DataFrame(rows, columns=["name", "max_abs_diff_torch"])
    io.write_csv(csv_path, frame)
    return frame


def run_escape(spec: Mapping, functions: Mapping, csv_path, json_path) -> dict:
    """The scan over bump heights -> escape.csv (``h, escaped, max_x, crossed_at``) and
    escape.json (``h_max, resolution, function, lr, eps, x0, steps``)."""
    grid = spec["h"]
    betas = _optimizer_args(spec)
    eps = float(spec.get("eps", ADAM_DEFAULTS["eps"]))
    scan = escape_scan(function_spec(spec["function"], functions), spec.get("optimizer", "adam"), float(spec["lr"]),
                       eps, float(spec["x0"]), float(grid["min"]), float(grid["max"]), float(grid["step"]),
                       int(spec["steps"]), betas["beta1"], betas["beta2"])
    best = h_max(scan)
    summary = {
        "h_max": round(best, decimals(grid["step"])) if math.isfinite(best) else None,
        "resolution": float(grid["step"]),
        "function": spec["function"],
        "L": float(function_spec(spec["function"], functions).get("L", 1.0)),  # the plot draws L + h
        "lr": float(spec["lr"]),
        "eps": eps,
        "x0": float(spec["x0"]),
        "steps": int(spec["steps"]),
    }
    io.write_csv(csv_path, scan)
    io.write_json(json_path, summary)
    log.info("escape: h_max = %s over %d heights", summary["h_max"], len(scan))
    return summary


def run_receptive_field(rows: Sequence[Sequence[str]] | None, csv_path) -> pd.DataFrame:
    """Receptive field of each row -> ``row, layer1..layerN, rf1..rfN, receptive_field, jump,
    empirical`` with N the longest row (shorter rows leave the rest empty). No rows: the
    handout's ten."""
    from .receptive_field import empirical_receptive_field  # imports torch when called

    rows = [list(r) for r in rows] if rows else HANDOUT_ROWS
    width = max(len(r) for r in rows)
    records = []
    for number, row in enumerate(rows, start=1):
        layers = [parse_layer(text) for text in row]
        fields = receptive_fields(layers)
        record: dict[str, Any] = {"row": number}
        record.update({f"layer{i + 1}": f"{k} {n} {s}" if i < len(layers) else None
                       for i, (k, n, s) in enumerate(layers + [("", 0, 0)] * (width - len(layers)))})
        record.update({f"rf{i + 1}": fields[i][0] if i < len(fields) else None for i in range(width)})
        record.update({"receptive_field": fields[-1][0], "jump": fields[-1][1],
                       "empirical": empirical_receptive_field(layers)})
        records.append(record)
    frame = pd.DataFrame(records)
    for i in range(width):  # integers with gaps: Int64, not floats such as 8.0
        frame[f"rf{i + 1}"] = frame[f"rf{i + 1}"].astype("Int64")
    io.write_csv(csv_path, frame)
    return frame


def run_ops(spec: Mapping, csv_path, npz_path) -> pd.DataFrame:
    """Question 4 -> ops.csv (``op, torch_shape, mine_shape, max_abs_diff, match``) and the
    generated inputs as ops_inputs.npz."""
    from .ops import compare_ops  # imports torch when called

    if spec.get("dtype", "float64") != "float64":
        raise ValueError(f"exercises.ops.dtype: only float64 is supported, got {spec['dtype']!r}")
    table, inputs = compare_ops(int(spec.get("seed", 0)), int(spec.get("length", 32)), int(spec.get("kernel", 3)),
                                int(spec.get("linear_out", 10)))
    io.write_npz(npz_path, **inputs)
    io.write_csv(csv_path, table)
    if not table["match"].all():
        log.warning("ops: no match for %s", ", ".join(table.loc[~table["match"], "op"]))
    return table


# --- the report's context: every claim computed from the files --------------------------------


def cycle(x: np.ndarray, tol: float = CYCLE_TOLERANCE) -> dict | None:
    """A fixed point (period 1) or a period-2 oscillation that the run ends in, with the step it
    starts at and its values; None when the run ends in neither. Needs the pattern on at least
    the last four points, so a single coincidence does not count."""
    x = np.asarray(x, dtype=float)
    for period in (1, 2):
        same = np.abs(x[period:] - x[:-period]) <= tol  # same[i]: x[i + period] == x[i]
        if len(same) < 4 - period or not same[-(4 - period):].all():
            continue
        start = len(same)
        while start > 0 and same[start - 1]:
            start -= 1
        values = sorted({float(v) for v in x[start:start + period]})
        if period == 2 and abs(values[-1] - values[0]) <= tol:
            continue  # a fixed point seen as period 2
        return {"period": period, "since": int(start), "values": values}
    return None


def sign_changes(values: np.ndarray, t: np.ndarray) -> list[int]:
    """The steps t at which ``values`` takes the opposite sign of its last non-zero value."""
    changes, last = [], 0.0
    for step, value in zip(t, values):
        if not np.isfinite(value) or value == 0:
            continue
        if last and np.sign(value) != np.sign(last):
            changes.append(int(step))
        last = value
    return changes


def zero_from(t: np.ndarray, g: np.ndarray) -> int | None:
    """The first step from which every gradient is exactly 0 (None if the last one is not)."""
    nonzero = np.flatnonzero(g[1:] != 0) + 1  # row 0 has no gradient
    if len(g) < 2 or (len(nonzero) and nonzero[-1] == len(g) - 1):
        return None
    return int(t[nonzero[-1] + 1]) if len(nonzero) else int(t[1])


def trajectory_summary(frame: pd.DataFrame, spec: Mapping, function: Mapping) -> dict:
    """The observations of one run, as numbers."""
    t, x, g = frame["t"].to_numpy(), frame["x"].to_numpy(dtype=float), frame["g"].to_numpy(dtype=float)
    lr = float(spec["lr"])
    moves = np.abs(np.diff(x))
    full = np.flatnonzero(~np.isclose(moves, lr, rtol=1e-6, atol=0))  # ε = 1e-8 shortens a step by ~3e-9
    out = {
        **{key: spec.get(key) for key in ("name", "function", "optimizer", "lr", "x0", "steps")},
        "eps": float(spec.get("eps", ADAM_DEFAULTS["eps"])) if spec["optimizer"] == "adam" else None,
        "final_x": float(x[-1]), "min_x": float(x.min()), "max_x": float(x.max()),
        "argmax_x": int(t[x.argmax()]),
        # steps of lr (to 1e-6) from the start: Adam's normalised step while the gradient is constant
        "full_steps": int(full[0]) if len(full) else len(moves),
        # the gradient is 0 from this step on (ReLU past 0): Adam moves on momentum alone
        "zero_grad_from": zero_from(t, g),
        "x_sign_changes": len(sign_changes(x, t)),
        "cycle": cycle(x),
    }
    if function.get("type") == "bump":
        top = float(function.get("L", 1.0)) + float(function.get("h", 0.5))
        out.update(bump_L=float(function.get("L", 1.0)), bump_h=float(function.get("h", 0.5)), top=top,
                   escaped=bool((x > top).any()))
    if spec["optimizer"] == "adam":
        m_hat, v_hat = frame["m_hat"].to_numpy(dtype=float), frame["v_hat"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = m_hat / np.sqrt(v_hat)
        ratio = ratio[np.isfinite(ratio)]
        out.update(
            m_hat_sign_changes=sign_changes(m_hat, t),
            step_ratio_min=float(ratio.min()) if len(ratio) else None,
            step_ratio_max=float(ratio.max()) if len(ratio) else None,
            step_ratio_abs_max=float(np.abs(ratio).max()) if len(ratio) else None,
        )
    return out


def _none_if_nan(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA else value


def escape_summary(scan: pd.DataFrame, summary: Mapping) -> dict:
    escaped = scan["escaped"].astype(bool)
    best = summary.get("h_max")
    stuck = scan.loc[~escaped, "max_x"]
    return {
        **dict(summary),
        "h_max_2dp": round(best, 2) if best is not None else None,
        "n_heights": len(scan),
        "h_min": float(scan["h"].min()), "h_max_scanned": float(scan["h"].max()),
        # the farthest x of a run that stays behind the bump: it escapes every lower bump
        "max_x_stuck": float(stuck.max()) if len(stuck) else None,
        # escaping for every h up to h_max and for none above: the answer is a threshold
        "threshold": bool(best is not None and (escaped == (scan["h"] <= best + 1e-12)).all()),
        "escaped_count": int(escaped.sum()),
    }


def receptive_field_summary(table: pd.DataFrame) -> dict:
    layer_cols = [c for c in table.columns if c.startswith("layer")]
    rf_cols = [c for c in table.columns if c.startswith("rf")]
    rows = []
    for _, r in table.iterrows():
        rows.append({
            "row": int(r["row"]),
            "layers": [str(r[c]) for c in layer_cols if isinstance(r[c], str)],
            "rfs": [int(r[c]) for c in rf_cols if not pd.isna(r[c])],
            "receptive_field": int(r["receptive_field"]), "jump": int(r["jump"]), "empirical": int(r["empirical"]),
            "agrees": int(r["receptive_field"]) == int(r["empirical"]),
        })
    first = rows[0]["receptive_field"] if rows else None
    return {
        "rows": rows,
        "row1": first,
        "row1_handout": HANDOUT_ROW1_RF,
        "row1_matches_handout": first == HANDOUT_ROW1_RF,
        "all_agree": all(r["agrees"] for r in rows),
        "disagree": [r["row"] for r in rows if not r["agrees"]],
    }


def ops_summary(table: pd.DataFrame) -> dict:
    rows = [{"op": str(r["op"]), "torch_shape": str(r["torch_shape"]), "mine_shape": str(r["mine_shape"]),
             "max_abs_diff": _none_if_nan(float(r["max_abs_diff"])), "match": bool(r["match"])}
            for _, r in table.iterrows()]
    return {
        "rows": rows,
        "all_match": all(r["match"] for r in rows),
        "mismatched": [r["op"] for r in rows if not r["match"]],
        "max_abs_diff": max((r["max_abs_diff"] for r in rows if r["max_abs_diff"] is not None), default=None),
    }


def build_exercises_context(paths: Mapping[str, Any], config: Mapping) -> dict:
    """The numbers behind every sentence of the exercises report, read from the result files.

    ``paths``: "trajectories" (name -> csv), "check", "escape_csv", "escape_json",
    "receptive_field", "ops". ``config``: the study's config (its ``exercises`` section names
    the functions and the settings of each run).
    """
    section = config.get("exercises", {}) or {}
    functions = section.get("functions", {}) or {}
    specs = {spec["name"]: spec for spec in section.get("trajectories", []) or []}
    trajectories = {}
    for name, path in paths["trajectories"].items():
        spec = specs.get(name)
        if spec is None:
            raise KeyError(f"trajectory {name!r} has a file but no entry in exercises.trajectories")
        frame = io.read_csv_exact(path)
        trajectories[name] = trajectory_summary(frame, spec, function_spec(spec["function"], functions))
    check = io.read_csv_exact(paths["check"])
    diffs = check["max_abs_diff_torch"].astype(float)
    gd = [s for s in trajectories.values() if s["optimizer"] == "gd"]
    return {
        "functions": {name: function_spec(name, functions)
                      for name in sorted({s["function"] for s in trajectories.values()})},
        "trajectories": trajectories,
        # GD's oscillation: the first GD run on a bump that ends in a period-2 cycle
        "gd_cycle": next((s["cycle"] | {"name": s["name"]} for s in gd
                          if s.get("top") is not None and s["cycle"] and s["cycle"]["period"] == 2), None),
        "check": {
            "rows": [{"name": str(n), "max_abs_diff_torch": float(d)} for n, d in zip(check["name"], diffs)],
            "max": float(diffs.max()) if len(diffs) else None,
            "tolerance": CHECK_TOLERANCE,
            "all_within": bool((diffs <= CHECK_TOLERANCE).all()),
        },
        "escape": escape_summary(io.read_csv_exact(paths["escape_csv"]), io.read_json(paths["escape_json"])),
        "receptive_field": receptive_field_summary(io.read_csv_exact(paths["receptive_field"])),
        "ops": ops_summary(io.read_csv_exact(paths["ops"])),
    }
