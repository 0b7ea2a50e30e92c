"""The grid's table (grid.csv) and the choice of the best cell, with its reasons (best.json)."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd


METRIC_COLUMNS = ("train_loss", "train_acc", "val_loss", "val_acc", "status", "seconds")
HIGHER_IS_BETTER = {"val_acc": True, "val_loss": False}


class SearchError(RuntimeError):
    """The grid gives nothing to choose from."""


def cell_summary(params: Mapping[str, Any], history: Sequence[Mapping[str, Any]], status: str, seconds: float) -> dict:
    """One row of grid.csv: the cell's axis values and its last epoch's metrics."""
    last = history[-1]
    row: dict[str, Any] = dict(params)
    for column in ("train_loss", "train_acc", "val_loss", "val_acc"):
        row[column] = last[column]
    row["status"] = status
    row["seconds"] = seconds
    return row


def aggregate(rows: Sequence[Mapping[str, Any]], axis_keys: Sequence[str]) -> pd.DataFrame:
    """grid.csv: one row per cell, axis columns first, then the metrics, in grid order."""
    frame = pd.DataFrame(list(rows))
    return frame[[*axis_keys, *METRIC_COLUMNS]]


def _is_numeric_axis(key: str, values: Sequence[Any]) -> bool:
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    return numbers and not key.endswith("seed")


def edge_axes(params: Mapping[str, Any], axes: Sequence[Mapping[str, Any]]) -> list[str]:
    """Numeric axes on which the chosen value is the smallest or largest tried."""
    edges = []
    for axis in axes:
        values = axis["values"]
        if len(values) >= 2 and _is_numeric_axis(axis["key"], values):
            if params[axis["key"]] in (min(values), max(values)):
                edges.append(axis["key"])
    return edges


def choose_best(grid: pd.DataFrame, axes: Sequence[Mapping[str, Any]], metric: str) -> dict:
    """The best non-diverged cell by ``metric``; ties go to the lower validation loss, then grid order.

    Returns the contents of best.json: the winning params and value, the runner-up and the
    margin to it, the axes on whose edge the winner sits, and the diverged cells.
    """
    keys = [axis["key"] for axis in axes]
    higher = HIGHER_IS_BETTER[metric]
    ok = grid[(grid["status"] == "ok") & grid[metric].map(lambda v: math.isfinite(float(v)))]
    diverged = grid[grid["status"] != "ok"]
    if ok.empty:
        raise SearchError(
            f"every one of the {len(grid)} cells of the grid diverged (loss NaN or infinite), so no best "
            f"values can be chosen: lower the learning rate or momentum values in search.axes"
        )
    order = ok.assign(_grid_order=range(len(ok)))
    tiebreak = "val_loss" if metric != "val_loss" else "val_acc"
    ranked = order.sort_values(
        [metric, tiebreak, "_grid_order"], ascending=[not higher, tiebreak == "val_loss", True], kind="mergesort"
    )
    best_row = ranked.iloc[0]
    params = {key: _plain(best_row[key]) for key in keys}
    result: dict[str, Any] = {
        "params": params,
        "grid_row": int(best_row.name),  # its row in grid.csv, which lists the cells in grid order
        "metric": metric,
        "value": float(best_row[metric]),
        "higher_is_better": higher,
        "val_loss": float(best_row["val_loss"]),
        "val_acc": float(best_row["val_acc"]),
        "tied_with": [
            {key: _plain(row[key]) for key in keys}
            for _, row in ranked.iloc[1:].iterrows()
            if float(row[metric]) == float(best_row[metric])
        ],
        "on_edge": edge_axes(params, axes),
        "n_cells": int(len(grid)),
        "n_diverged": int(len(diverged)),
        "diverged": [{key: _plain(row[key]) for key in keys} for _, row in diverged.iterrows()],
    }
    if len(ranked) > 1:
        runner = ranked.iloc[1]
        result["runner_up"] = {"params": {key: _plain(runner[key]) for key in keys}, "value": float(runner[metric]),
                               "grid_row": int(runner.name)}
        result["margin"] = abs(float(best_row[metric]) - float(runner[metric]))
    else:
        result["runner_up"] = None
        result["margin"] = None
    result["seeds"] = seed_spread(ok, keys, params, metric)
    return result


def seed_spread(ok: pd.DataFrame, keys: Sequence[str], params: Mapping[str, Any], metric: str) -> dict | None:
    """With the seed as an axis: the chosen setting's ``metric`` over its seeds (the noise of
    training itself, which one seed per cell cannot show). None without a seed axis."""
    if "train.seed" not in keys:
        return None
    same = ok
    for key in keys:
        if key != "train.seed":
            same = same[same[key].map(lambda v: v == params[key])]
    values = [float(v) for v in same[metric]]
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else None
    return {"seeds": [_plain(v) for v in same["train.seed"]], "values": values, "mean": mean, "std": std}


def with_paired_evidence(best: Mapping[str, Any], metrics: Sequence[str], predictions: Sequence[str]) -> dict:
    """best.json with the evidence that needs the cells' own files: ``train_clean``, the chosen
    cell's loss and accuracy on its training part evaluated like validation, and ``paired``,
    McNemar's test of the chosen cell against the runner-up on the same validation images
    (None, with ``paired_missing`` saying why, when a cell has no final predictions).
    ``metrics`` and ``predictions`` are the cells' files in grid order, the order of grid.csv's
    rows, so a cell is found by its row (``grid_row``), never by comparing values read back."""
    from gridscape import io

    from .paired import paired_comparison

    best_row = best["grid_row"]
    best_metrics = io.read_json(metrics[best_row])
    result = dict(best)
    result["train_clean"] = (
        {"loss": best_metrics["clean_train_loss"], "acc": best_metrics["clean_train_acc"]}
        if "clean_train_acc" in best_metrics else None
    )
    result["paired"], result["paired_missing"] = None, None
    runner = best.get("runner_up")
    if runner is None:
        result["paired_missing"] = "no runner-up"
        return result
    runner_row = runner["grid_row"]
    first, second = io.read_npz(predictions[best_row]), io.read_npz(predictions[runner_row])
    if not (first["predicted"].size and second["predicted"].size):
        result["paired_missing"] = "a cell of fewer epochs than its training run keeps no final predictions"
        return result
    if not np.array_equal(first["index"], second["index"]):
        raise ValueError(f"the cells of grid rows {best_row} and {runner_row} were validated on different images")
    result["paired"] = paired_comparison(first["predicted"], second["predicted"], first["label"])
    return result


def _plain(value: Any) -> Any:
    """numpy scalars from pandas back to JSON-friendly Python values."""
    return value.item() if hasattr(value, "item") else value
