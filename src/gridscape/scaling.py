"""The data-size study's table (NUS CS5242 assignment 2, question 5): the named experiments
grouped by how much data they trained on, with the mean and standard deviation over their
repeats of the clean training accuracy, the test accuracy and the gap between the two.

The training accuracy here is ``train_eval_acc``: the tested model on its own training images
in eval mode without augmentation. The history's training accuracy is a running mean under
augmentation while the weights move, which would understate the gap of a model that has
memorised its few images. No torch here.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pandas as pd

ALL = "all"  # the group of runs that train on the whole training part


def group_column(key: str) -> str:
    """The table's first column: the key's last part (train.per_class -> per_class)."""
    return key.rsplit(".", 1)[-1]


def scaling_table(results: pd.DataFrame, groups: Mapping[str, Any], key: str) -> pd.DataFrame:
    """One row per value of ``key`` (``groups``: run name -> its value, None for all data), in
    order of training images: n_train, runs, and mean and std (ddof 1; NaN for one run) of the
    clean training accuracy, the test accuracy and their gap. Diverged runs are left out."""
    ok = results[results["status"] == "ok"].copy()
    ok["group"] = [ALL if groups[name] is None else groups[name] for name in ok["experiment"]]
    ok["gap"] = ok["train_eval_acc"] - ok["test_acc"]
    rows = []
    for value, members in ok.groupby("group", sort=False):
        rows.append({
            group_column(key): value,
            "n_train": int(round(members["n_train"].mean())),
            "runs": len(members),
            **{f"{name}_{stat}": _stat(members[column], stat)
               for name, column in (("train_acc", "train_eval_acc"), ("test_acc", "test_acc"), ("gap", "gap"))
               for stat in ("mean", "std")},
        })
    columns = [group_column(key), "n_train", "runs", "train_acc_mean", "train_acc_std", "test_acc_mean",
               "test_acc_std", "gap_mean", "gap_std"]
    return pd.DataFrame(rows, columns=columns).sort_values("n_train", kind="stable").reset_index(drop=True)


def _stat(values: pd.Series, stat: str) -> float:
    array = values.to_numpy(dtype=float)
    if stat == "mean":
        return float(array.mean())
    return float(array.std(ddof=1)) if len(array) > 1 else math.nan


def trend(table: pd.DataFrame, n_classes: int) -> dict:
    """What the table shows: whether the mean test accuracy grows with the data (each step
    compared with its standard error), the gap at the smallest and largest sizes, and the
    smallest size against chance."""
    steps = []
    for (_, small), (_, large) in zip(table.iloc[:-1].iterrows(), table.iloc[1:].iterrows()):
        se = _mean_difference_se(small, large)
        difference = large["test_acc_mean"] - small["test_acc_mean"]
        steps.append({"from": int(small["n_train"]), "to": int(large["n_train"]), "difference": difference, "se": se,
                      "fall": se is not None and difference < -2 * se})
    smallest, largest = table.iloc[0], table.iloc[-1]
    return {
        "steps": steps,
        "grows": all(step["difference"] > 0 for step in steps),
        "falls": [step for step in steps if step["fall"]],
        "smallest": smallest.to_dict(),
        "largest": largest.to_dict(),
        "chance": 1.0 / n_classes,
        "above_chance": bool(smallest["test_acc_mean"] > 1.0 / n_classes),
        "gap_shrinks": bool(largest["gap_mean"] < smallest["gap_mean"]),
    }


def _mean_difference_se(a: pd.Series, b: pd.Series) -> float | None:
    """Standard error of the difference of two groups' mean test accuracies, from their
    spread over repeats (None without repeats in both)."""
    if a["runs"] < 2 or b["runs"] < 2 or np.isnan(a["test_acc_std"]) or np.isnan(b["test_acc_std"]):
        return None
    return math.sqrt(a["test_acc_std"] ** 2 / a["runs"] + b["test_acc_std"] ** 2 / b["runs"])
