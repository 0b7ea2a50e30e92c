"""The grid search: collecting the cells into one table and choosing the best, with reasons."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import pandas as pd

from .config import Cell, format_value


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
        result["runner_up"] = {"params": {key: _plain(runner[key]) for key in keys}, "value": float(runner[metric])}
        result["margin"] = abs(float(best_row[metric]) - float(runner[metric]))
    else:
        result["runner_up"] = None
        result["margin"] = None
    return result


def _plain(value: Any) -> Any:
    """numpy scalars from pandas back to JSON-friendly Python values."""
    return value.item() if hasattr(value, "item") else value


# Axes whose cells can share one training job: models that differ only in these train side
# by side (fused), and the epochs axis costs only its largest value (a constant learning
# rate makes a shorter run a prefix of a longer one).
FUSABLE_KEYS = ("optimizer.lr", "optimizer.momentum", "optimizer.weight_decay", "train.seed")
PREFIX_KEYS = ("train.epochs",)
FUSABLE_MODELS = ("lenet5",)  # built only of layers that gridscape.fused has grouped forms of


def can_fuse(config: Mapping) -> bool:
    """Fused training covers SGD at a constant rate on the models in FUSABLE_MODELS."""
    optimizer = config["optimizer"]
    return config["model"]["name"] in FUSABLE_MODELS and optimizer["name"] == "sgd" and optimizer["schedule"] == "constant"


def can_share_epochs(config: Mapping) -> bool:
    """A shorter run is a prefix of a longer one only when the rate does not depend on the length."""
    return config["optimizer"]["schedule"] == "constant"


@dataclass(frozen=True)
class Pack:
    """One training job: the models it trains and, per cell, which model and how many epochs."""

    name: str
    cells: tuple[Cell, ...]
    models: tuple[dict, ...]  # each model's fusable axis values
    cell_model: tuple[int, ...]  # index into models, per cell
    cell_epochs: tuple[int, ...]


def plan_packs(config: Mapping, cells: Sequence[Cell], fuse: bool) -> list[Pack]:
    """Group the grid's cells into training jobs.

    With ``fuse`` all cells that agree on every axis except the fusable ones and the epochs
    share one job; without it, cells that differ only in epochs still share one (their runs
    are prefixes of each other), everything else gets its own. Cells whose model or optimiser
    cannot be fused (``can_fuse``) train one model per job; cells whose schedule depends on the
    epochs (``can_share_epochs``) do not share a run across epoch counts.
    """
    groups: dict[tuple, list[Cell]] = {}
    for cell in cells:
        cell_config = cell.apply(config)
        shared_keys = (PREFIX_KEYS if can_share_epochs(cell_config) else ()) + (
            FUSABLE_KEYS if fuse and can_fuse(cell_config) else ()
        )
        key = tuple((k, format_value(v)) for k, v in cell.params.items() if k not in shared_keys)
        groups.setdefault(key, []).append(cell)
    packs = []
    for key, members in groups.items():
        models: list[dict] = []
        cell_model, cell_epochs = [], []
        for cell in members:
            model = {k: v for k, v in cell.params.items() if k in FUSABLE_KEYS}
            if model not in models:
                models.append(model)
            cell_model.append(models.index(model))
            cell_epochs.append(int(cell.apply(config)["train"]["epochs"]))
        name = "_".join(f"{k}~{v}" for k, v in key) or "all"
        packs.append(Pack(name, tuple(members), tuple(models), tuple(cell_model), tuple(cell_epochs)))
    return packs
