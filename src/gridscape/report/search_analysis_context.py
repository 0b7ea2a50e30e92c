"""The report's search analysis, for every search method: W&B's parameter-importance panel
offline (``search/importance.csv``) and, for the most important parameters, their best and
worst value by mean metric with the standard error of that difference, computed from
``search/trials.csv``. Torch-free."""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from gridscape.search.analysis import IMPORTANCE_TREES, columns_for, higher_is_better, merge_spaces, usable, value_groups

from .helpers import METRIC_NAMES, axis_name, finite

# Fewer trials per searched column than this and a forest's ranking is a hint, not a finding.
TRIALS_PER_PARAMETER = 10
TOP_PARAMETERS = 3


def column_name(column: str) -> str:
    """A trials.csv column in words: a list member as '<list> <member>' (augmentation hflip)."""
    for key in ("train.augmentation",):
        if column.startswith(key + "."):
            return f"{axis_name(key)} {column.removeprefix(key + '.')}"
    return axis_name(column)


def value_contrast(trials: pd.DataFrame, params: Sequence[Mapping[str, Any]], column: str, metric: str) -> dict | None:
    """The best and the worst value (or quartile bin) of one column by mean metric, over the
    values tried by at least two trials, and the standard error of their difference (Welch).
    The two are the extremes of k values, so the difference is called established beyond
    ``z`` standard errors, z of a 5 % two-sided test over the k(k - 1)/2 pairs (Bonferroni)."""
    [spec] = [c for c in columns_for(trials, params) if c.name == column] or [None]
    if spec is None:
        return None
    used = usable(trials, metric)
    groups, labels = value_groups(spec, used[column])
    y = used[metric].to_numpy(dtype=float)
    groups = np.asarray(groups)
    stats = []
    for index, label in enumerate(labels):
        chosen = y[groups == index]
        if chosen.size >= 2:
            stats.append({"value": label, "n": int(chosen.size), "mean": float(chosen.mean()),
                          "var": float(chosen.var(ddof=1))})
    if len(stats) < 2:
        return None
    ordered = sorted(stats, key=lambda s: s["mean"], reverse=higher_is_better(metric))
    best, worst = ordered[0], ordered[-1]
    difference = abs(best["mean"] - worst["mean"])
    se = math.sqrt(best["var"] / best["n"] + worst["var"] / worst["n"])
    pairs = len(stats) * (len(stats) - 1) // 2
    z = NormalDist().inv_cdf(1 - 0.025 / pairs)
    return {"name": column_name(column), "best": best, "worst": worst, "difference": difference, "se": se,
            "n_values": len(stats), "pairs": pairs, "z": z, "established": se > 0 and difference > z * se}


def no_analysis(config: Mapping) -> dict:
    """The context of a report given no importance table: the section says so."""
    metric = config["search"]["metric"]
    return {"metric": metric, "metric_name": METRIC_NAMES.get(metric, metric), "rows": [], "n_trials": 0,
            "n_columns": 0, "available": False, "any_important": False, "trees": IMPORTANCE_TREES, "indicative": True, "trials_per_parameter": TRIALS_PER_PARAMETER,
            "contrasts": [], "contrast_trials": 0, "staged": False}


def analysis_context(config: Mapping, trials: pd.DataFrame, importance: pd.DataFrame,
                     spaces: Sequence[Mapping[str, Any]]) -> dict:
    """What the report says of the search's parameters. In a staged search the value
    contrasts come from the first stage alone: it sampled the whole space, every trial for the
    same epochs, where the later stages' trials differ in epochs and in the space they drew from."""
    metric = config["search"]["metric"]
    params = merge_spaces(spaces)
    first_stage = trials[trials["stage"] == trials["stage"].min()]
    ranked = importance[importance["importance"].notna()].sort_values("importance", ascending=False, kind="stable")
    rows = [{
        "name": column_name(str(row["param"])),
        "importance": finite(row["importance"]),
        "importance_std": finite(row["importance_std"]),
        "correlation": finite(row["correlation"]),
    } for _, row in ranked.iterrows()]
    n_trials = int(importance["n_trials"].iloc[0]) if len(importance) else 0
    contrasts = []
    for row in ranked.itertuples():
        if len(contrasts) >= TOP_PARAMETERS or not row.importance > 0:
            break
        contrast = value_contrast(first_stage, params, str(row.param), metric)
        if contrast is not None:
            contrasts.append(contrast)
    return {
        "metric": metric,
        "metric_name": METRIC_NAMES.get(metric, metric),
        "rows": rows,
        "n_trials": n_trials,
        "n_columns": int(len(importance)),
        "available": bool(rows),
        "any_important": any((row["importance"] or 0) > 0 for row in rows),
        "trees": IMPORTANCE_TREES,
        "indicative": n_trials < TRIALS_PER_PARAMETER * max(1, len(importance)),
        "trials_per_parameter": TRIALS_PER_PARAMETER,
        "contrasts": contrasts,
        "contrast_trials": int(len(usable(first_stage, metric))),
        "staged": int(trials["stage"].nunique()) > 1,
    }
