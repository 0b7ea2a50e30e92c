"""The trials' tables and the best trial of random and staged search: a stage's trials.csv,
all stages' search/trials.csv, and best.json. A grid's cells get the same trials.csv and a
one-stage space.json, so the search analysis reads one format for every method. Torch-free."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import pandas as pd

from .best import METRIC_COLUMNS, SearchError, choose_best
from .space import columns_of, on_edge, run_params

TRIAL_COLUMNS = ("trial", "stage")
RESULT_COLUMNS = (*METRIC_COLUMNS, "epochs_run")


def stage_table(space: Mapping[str, Any], plan: pd.DataFrame, metrics: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """``search/stages/{k}/trials.csv``: the plan's rows in order, each with its trial's
    last-epoch metrics, status, seconds and epochs run (from its metrics.json)."""
    by_trial = {m["trial"]: m for m in metrics}
    missing = [name for name in plan["trial"] if name not in by_trial]
    if missing:
        raise ValueError(f"stage {space['stage']}: no metrics.json for the trials {', '.join(missing)}")
    columns = columns_of(space["params"])
    rows = []
    for _, planned in plan.iterrows():
        result = by_trial[planned["trial"]]
        rows.append({"trial": planned["trial"], "stage": int(space["stage"]),
                     **{column: planned[column] for column in columns},
                     **{column: result[column] for column in RESULT_COLUMNS}})
    return pd.DataFrame(rows, columns=[*TRIAL_COLUMNS, *columns, *RESULT_COLUMNS])


def all_trials(stages: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """``search/trials.csv``: every stage's table, stage by stage (later stages may search
    fewer members of a list, so columns are the union, in first-seen order)."""
    return pd.concat(list(stages), ignore_index=True, sort=False)


def choose_best_trial(trials: pd.DataFrame, space: Mapping[str, Any], metric: str) -> dict:
    """best.json of a random or staged search: the best trial of the last stage by ``metric``
    (ties to the lower validation loss, then trial order), with the keys a grid's best.json
    has. ``params`` are the values the final model is trained with: the trial's settings
    and, in a staged search, the last stage's epochs."""
    stage = int(space["stage"])
    last = trials[trials["stage"] == stage].reset_index(drop=True)
    params = space["params"]
    columns = columns_of(params)
    if not ((last["status"] == "ok") & last[metric].map(lambda v: math.isfinite(float(v)))).any():
        raise SearchError(
            f"every one of the {len(last)} trials of the last search stage ({stage}) diverged (loss NaN or "
            "infinite), so no best values can be chosen: lower the learning-rate range in search.space"
        )
    best = choose_best(last, [{"key": column, "values": []} for column in columns], metric)

    def settings(row: int) -> dict:
        values = run_params(params, last.iloc[row])
        return {**values, "train.epochs": int(values.get("train.epochs", space["epochs"]))}

    name = last["trial"]
    result: dict[str, Any] = {
        **best,
        "trial": str(name[best["grid_row"]]),
        "stage": stage,
        "params": settings(best["grid_row"]),
        "on_edge": on_edge(params, settings(best["grid_row"])),
        "n_trials": int(len(trials)),
        "n_stage_trials": int(len(last)),
        "diverged": [str(t) for t in last.loc[last["status"] != "ok", "trial"]],
        "n_diverged": int((last["status"] != "ok").sum()),
    }
    result["tied_with"] = [
        str(t) for t, value, status in zip(last["trial"], last[metric], last["status"])
        if status == "ok" and float(value) == best["value"] and str(t) != result["trial"]
    ]
    runner = best.get("runner_up")
    if runner is not None:
        result["runner_up"] = {"trial": str(name[runner["grid_row"]]), "params": settings(runner["grid_row"]),
                               "value": runner["value"], "grid_row": runner["grid_row"]}
    result.pop("seeds", None)
    return result


def grid_trials(grid: pd.DataFrame, cells: Sequence[str], axis_keys: Sequence[str],
                metrics: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """A grid's trials.csv: ``trial`` is the cell's name, all in stage 1."""
    frame = grid.copy()
    frame.insert(0, "stage", 1)
    frame.insert(0, "trial", list(cells))
    frame["epochs_run"] = [int(m["epochs_run"]) for m in metrics]
    return frame[[*TRIAL_COLUMNS, *axis_keys, *RESULT_COLUMNS]]


def grid_space(axes: Sequence[Mapping[str, Any]], epochs: int) -> dict:
    """A grid's one-stage space.json: each axis a categorical parameter of its values."""
    return {"stage": 1, "epochs": int(epochs), "trials": int(math.prod(len(a["values"]) for a in axes)),
            "keep_top": None, "from_stage": None, "kept": [],
            "params": [{"key": axis["key"], "type": "categorical", "values": list(axis["values"])} for axis in axes]}
