"""The search space of random and staged search: the parameters as ``space.json`` records them,
drawing a stage's plan from them, and narrowing them around the best trials of a stage.

A parameter is a plain dict (the records of ``search/stages/{k}/space.json``):

* ``{"key", "type": "float", "low", "high", "log"}``: uniform, or uniform in log10;
* ``{"key", "type": "int", "low", "high", "log"}``: whole numbers from low to high, both in;
* ``{"key", "type": "categorical", "values"}``: one of the values, equally likely;
* ``{"key", "type": "subsets", "members", "fixed"}``: each member of a list-valued key on or
  off with probability 1/2, except the members in ``fixed`` (member -> on/off), which a later
  stage no longer searches. The list keeps the members' order.

Torch-free: the plan and narrowing jobs are seconds.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .best import HIGHER_IS_BETTER, SearchError

# A trial "learns" when its validation accuracy beats chance by half again (the handout's
# "settings that do not learn or explode" are dropped before narrowing).
LEARNING_FACTOR = 1.5
# Within this fraction of its range's width (in log10 for log parameters) a value is on the edge.
EDGE_FRACTION = 0.05
# A range narrowed around one value keeps this fraction of the previous width on each side.
SINGLE_VALUE_WIDTH = 0.1


def parameters_of(space: Sequence[Mapping[str, Any]]) -> list[dict]:
    """The parameters of the config's ``search.space`` (checked), as ``space.json`` records them."""
    params = []
    for entry in space:
        key = entry["key"]
        if "subsets_of" in entry:
            params.append({"key": key, "type": "subsets", "members": list(entry["subsets_of"]), "fixed": {}})
        elif "values" in entry:
            params.append({"key": key, "type": "categorical", "values": list(entry["values"])})
        elif entry.get("integer", False):
            params.append({"key": key, "type": "int", "low": int(entry["low"]), "high": int(entry["high"]),
                           "log": bool(entry.get("log", False))})
        else:
            params.append({"key": key, "type": "float", "low": float(entry["low"]), "high": float(entry["high"]),
                           "log": bool(entry.get("log", False))})
    return params


def columns_of(params: Sequence[Mapping[str, Any]]) -> list[str]:
    """The plan's and trials.csv's parameter columns: one per key, one boolean per list member."""
    columns = []
    for param in params:
        if param["type"] == "subsets":
            columns += [f"{param['key']}.{member}" for member in param["members"]]
        else:
            columns.append(param["key"])
    return columns


def _draw(param: Mapping[str, Any], rng: np.random.Generator) -> Any:
    kind = param["type"]
    if kind == "categorical":
        return param["values"][int(rng.integers(len(param["values"])))]
    if kind == "subsets":
        return {member: bool(param["fixed"][member]) if member in param["fixed"] else bool(rng.random() < 0.5)
                for member in param["members"]}
    low, high = param["low"], param["high"]
    if kind == "int":
        if param["log"]:
            return int(min(high, max(low, round(10 ** rng.uniform(math.log10(low), math.log10(high))))))
        return int(rng.integers(low, high + 1))
    if param["log"]:  # 10 ** log10(x) may miss x by a rounding step: keep the draw inside
        return float(min(high, max(low, 10 ** rng.uniform(math.log10(low), math.log10(high)))))
    return float(rng.uniform(low, high))


def draw_plan(params: Sequence[Mapping[str, Any]], trials: int, seed: int, stage: int) -> pd.DataFrame:
    """``plan.csv`` of a stage: ``trial`` (``s{stage}t{index:03d}``) and one column per
    parameter column, drawn from ``numpy.random.default_rng([seed, stage])``, trial by trial
    and parameter by parameter in the space's order."""
    rng = np.random.default_rng([int(seed), int(stage)])
    rows = []
    for index in range(trials):
        row: dict[str, Any] = {"trial": trial_name(stage, index)}
        for param in params:
            value = _draw(param, rng)
            if param["type"] == "subsets":
                row.update({f"{param['key']}.{member}": on for member, on in value.items()})
            else:
                row[param["key"]] = value
        rows.append(row)
    return pd.DataFrame(rows, columns=["trial", *columns_of(params)])


def trial_name(stage: int, index: int) -> str:
    return f"s{stage}t{index:03d}"


def run_params(params: Sequence[Mapping[str, Any]], row: Mapping[str, Any]) -> dict[str, Any]:
    """The dotted config keys one plan row sets: a list member's columns become the list."""
    values: dict[str, Any] = {}
    for param in params:
        key = param["key"]
        if param["type"] == "subsets":
            values[key] = [member for member in param["members"] if _as_bool(row[f"{key}.{member}"])]
        elif param["type"] == "int":
            values[key] = int(row[key])
        elif param["type"] == "float":
            values[key] = float(row[key])
        else:
            values[key] = _plain(row[key])
    return values


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def learning(trials: pd.DataFrame, num_classes: int) -> pd.Series:
    """The trials that finished and learned: not diverged, validation accuracy above 1.5 / C."""
    acc = pd.to_numeric(trials["val_acc"], errors="coerce")
    return (trials["status"] == "ok") & (acc > LEARNING_FACTOR / num_classes)


def kept_trials(trials: pd.DataFrame, keep_top: float, metric: str, num_classes: int, stage: int) -> pd.DataFrame:
    """The top ``keep_top`` (rounded up) of a stage's learning trials by ``metric``, ties in
    trial order. A stage where no trial learned stops the search, saying what to change."""
    ok = trials[learning(trials, num_classes)]
    if ok.empty:
        raise SearchError(
            f"no trial of search stage {stage} learned (all {len(trials)} diverged or stayed at or below "
            f"{LEARNING_FACTOR}/{num_classes} validation accuracy), so there is nothing to narrow the next "
            "stage around: lower the learning-rate range in search.space, or give the stage more epochs "
            f"(search.stages[{stage - 1}].epochs)"
        )
    count = max(1, math.ceil(keep_top * len(ok) - 1e-9))
    ranked = ok.assign(_order=range(len(ok))).sort_values(
        [metric, "_order"], ascending=[not HIGHER_IS_BETTER[metric], True], kind="mergesort")
    return ranked.head(count).drop(columns="_order")


def _scale(value: float, log: bool) -> float:
    return math.log10(value) if log else value


def _unscale(value: float, log: bool) -> float:
    return 10 ** value if log else value


def narrow(params: Sequence[Mapping[str, Any]], kept: pd.DataFrame) -> list[dict]:
    """The next stage's parameters: each range shrunk to the kept trials' values (in log10 for
    log parameters; around a single value, 10 % of the old width each side), clipped to the old
    range so the spaces nest; the categorical values the kept trials used, in config order; a
    list member fixed where every kept trial agrees on it."""
    narrowed = []
    for param in params:
        key, kind = param["key"], param["type"]
        if kind == "subsets":
            fixed = dict(param["fixed"])
            for member in param["members"]:
                if member in fixed:
                    continue
                values = {_as_bool(v) for v in kept[f"{key}.{member}"]}
                if len(values) == 1:
                    fixed[member] = values.pop()
            narrowed.append({**param, "fixed": fixed})
        elif kind == "categorical":
            used = {_plain(v) for v in kept[key]}
            values = [value for value in param["values"] if value in used]
            narrowed.append({**param, "values": values})
        else:
            log = param["log"]
            values = [float(v) for v in kept[key]]
            new_low, new_high = min(values), max(values)
            if new_low == new_high:  # widened in the parameter's scale; the kept values themselves stay exact
                low, high, centre = _scale(param["low"], log), _scale(param["high"], log), _scale(new_low, log)
                half = SINGLE_VALUE_WIDTH * (high - low)
                new_low = min(new_low, _unscale(max(low, centre - half), log))
                new_high = max(new_high, _unscale(min(high, centre + half), log))
            if kind == "int":
                new_low, new_high = max(param["low"], math.floor(new_low + 1e-9)), min(param["high"], math.ceil(new_high - 1e-9))
                narrowed.append({**param, "low": int(new_low), "high": int(new_high)})
            else:
                narrowed.append({**param, "low": float(max(param["low"], new_low)), "high": float(min(param["high"], new_high))})
    return narrowed


def stage_space(stage: int, spec: Mapping[str, Any], params: Sequence[Mapping[str, Any]],
                kept: Sequence[str] = ()) -> dict:
    """The contents of ``search/stages/{stage}/space.json``."""
    return {
        "stage": int(stage),
        "epochs": int(spec["epochs"]),
        "trials": int(spec["trials"]),
        "keep_top": float(spec["keep_top"]) if stage > 1 and spec.get("keep_top") is not None else None,
        "from_stage": stage - 1 if stage > 1 else None,
        "kept": list(kept),
        "params": [dict(param) for param in params],
    }


def on_edge(params: Sequence[Mapping[str, Any]], values: Mapping[str, Any]) -> list[str]:
    """The float and integer keys whose chosen value lies within 5 % of its range's width (in
    log10 for log parameters) of either end: the best may lie beyond the range searched."""
    edges = []
    for param in params:
        if param["type"] not in ("float", "int") or param["key"] not in values:
            continue
        log = param["log"]
        low, high = _scale(param["low"], log), _scale(param["high"], log)
        if high <= low:
            continue
        value = _scale(float(values[param["key"]]), log)
        if min(value - low, high - value) <= EDGE_FRACTION * (high - low):
            edges.append(param["key"])
    return edges


def contains(param: Mapping[str, Any], value: Any) -> bool:
    """``value`` (a plan column's value; for a list member its on/off) lies in the parameter's
    space (for subsets, ``value`` maps members to on/off)."""
    kind = param["type"]
    if kind == "categorical":
        return value in param["values"]
    if kind == "subsets":
        return all(_as_bool(value[member]) == on for member, on in param["fixed"].items())
    tolerance = 1e-12 * max(1.0, abs(param["high"]))
    return param["low"] - tolerance <= float(value) <= param["high"] + tolerance


def plan_stage(
    stage: int, spec: Mapping[str, Any], space: Sequence[Mapping[str, Any]], seed: int, metric: str,
    num_classes: int, previous_space: Mapping[str, Any] | None = None, previous_trials: pd.DataFrame | None = None,
) -> tuple[dict, pd.DataFrame]:
    """A stage's ``space.json`` and ``plan.csv``: the first stage draws from the config's
    ``space``; a later one from the previous stage's space narrowed around its kept trials."""
    if stage == 1:
        params, kept = parameters_of(space), []
    else:
        if previous_space is None or previous_trials is None:
            raise ValueError(f"stage {stage} is narrowed from stage {stage - 1}'s space.json and trials.csv")
        top = kept_trials(previous_trials, float(spec["keep_top"]), metric, num_classes, stage - 1)
        params, kept = narrow(previous_space["params"], top), [str(name) for name in top["trial"]]
    record = stage_space(stage, spec, params, kept)
    return record, draw_plan(params, int(spec["trials"]), seed, stage)
