"""The grid search's and the final model's context: the justification of the chosen values
(margin over the runner-up against sampling noise, grid edges, ties, diverged cells) and the
final model's test, computed from ``grid.csv``, ``best.json`` and ``final/``."""

from __future__ import annotations

import math
import re
from typing import Any, Mapping, Sequence

import pandas as pd

from .helpers import (
    INITIAL_LOSS_TOLERANCE,
    METRIC_NAMES,
    HANDOUT_KEYS,
    finite,
    get_key,
    axis_name,
    same_value,
    distinguishing_digits,
    params_tex,
)


def search_context(config: Mapping, grid: pd.DataFrame, best: Mapping, n_val: int) -> dict:
    axes = [{"key": a["key"], "name": axis_name(a["key"]), "values": list(a["values"])} for a in config["search"]["axes"]]
    keys = [a["key"] for a in axes]
    metric = best.get("metric", config["search"]["metric"])
    best_params = best.get("params", {})

    def find_row(values: Mapping[str, Any]):
        mask = pd.Series(True, index=grid.index)
        for key, value in values.items():
            mask &= grid[key].map(lambda v, value=value: same_value(v, value))
        rows = grid[mask]
        return rows.iloc[0] if len(rows) else None

    def cell(values: Mapping[str, Any]) -> dict:
        row = find_row(values)
        if row is None:
            return {"missing": True, "diverged": False, "best": False}
        status = str(row.get("status", "ok"))
        return {
            "missing": False,
            "val_loss": finite(row["val_loss"]),
            "val_acc": finite(row["val_acc"]),
            "train_loss": finite(row.get("train_loss")),
            "train_acc": finite(row.get("train_acc")),
            "diverged": status != "ok",
            "best": all(same_value(values[k], best_params.get(k)) for k in values),
            "seconds": finite(row.get("seconds")),
        }

    rows_axis = axes[0]
    cols_axis = axes[1] if len(axes) > 1 else None
    table = []
    for rv in rows_axis["values"]:
        if cols_axis is None:
            cells = [cell({rows_axis["key"]: rv})]
        else:
            cells = [cell({rows_axis["key"]: rv, cols_axis["key"]: cv}) for cv in cols_axis["values"]]
        table.append({"value": rv, "cells": cells})

    best_row = find_row(best_params)
    best_ctx = {
        "params": best_params,
        "label_tex": params_tex(best_params, keys),
        "value": finite(best.get("value")),
        "val_loss": finite(best.get("val_loss")),
        "val_acc": finite(best.get("val_acc")),
        "train_loss": finite(best_row["train_loss"]) if best_row is not None else None,
        "train_acc": finite(best_row["train_acc"]) if best_row is not None else None,
        "values": [{"key": k, "name": axis_name(k), "value": best_params.get(k)} for k in keys],
    }

    higher = bool(best.get("higher_is_better", metric != "val_loss"))
    runner = best.get("runner_up") or None
    margin = finite(best.get("margin"))
    noise: dict[str, Any] = {}
    if runner is not None:
        runner = {
            "params": runner.get("params", {}),
            "label_tex": params_tex(runner.get("params", {}), keys),
            "value": finite(runner.get("value")),
        }
        runner_row = find_row(runner["params"])
        runner["val_loss"] = finite(runner_row["val_loss"]) if runner_row is not None else None
        runner["val_acc"] = finite(runner_row["val_acc"]) if runner_row is not None else None
        runner["tied"] = margin is not None and margin == 0
        tiebreak = "val_acc" if metric == "val_loss" else "val_loss"
        runner["tie_digits"] = distinguishing_digits(best_ctx[tiebreak], runner[tiebreak])
        differing = [k for k in keys if not same_value(runner["params"].get(k), best_params.get(k))]
        runner["differs_in"] = [axis_name(k) for k in differing]
        runner["adjacent"] = len(differing) == 1 and _adjacent(axes, differing[0], best_params, runner["params"])
    if metric == "val_acc" and margin is not None and runner is not None and n_val:
        p1, p2 = best_ctx["value"] or 0.0, runner["value"] or 0.0
        se = difference_se(p1, n_val, p2, n_val)
        noise = {
            "images": round(margin * n_val),
            "se": se,
            "ratio": margin / se if se > 0 else None,
            "significant": se > 0 and margin > 2 * se,
        }
    elif metric == "val_loss" and margin is not None and best_ctx["value"]:
        noise = {"relative": margin / best_ctx["value"], "significant": margin / best_ctx["value"] > 0.05}
    paired = best.get("paired")
    if paired:
        paired = {**paired, "discordant": paired["only_first"] + paired["only_second"],
                  "significant": paired["p_value"] < 0.05}
    seeds = best.get("seeds")
    best_ctx["fit"] = fit_verdict(best.get("train_clean"), best_ctx["val_acc"], n_val)

    edges = []
    for key in best.get("on_edge", []) or []:
        values = next((a["values"] for a in axes if a["key"] == key), [])
        numeric = [finite(v) for v in values if finite(v) is not None]
        value = best_params.get(key)
        side = "largest" if numeric and finite(value) == max(numeric) else "smallest"
        edges.append({"key": key, "name": axis_name(key), "value": value, "side": side,
                      "beyond": "larger" if side == "largest" else "smaller"})

    ties = [{"params": t, "label_tex": params_tex(t, keys)} for t in best.get("tied_with", []) or []]
    diverged = [{"params": d, "label_tex": params_tex(d, keys)} for d in best.get("diverged", []) or []]

    fixed = []
    for key in HANDOUT_KEYS:
        if key not in keys:
            fixed.append({"key": key, "name": axis_name(key), "value": get_key(config, key)})
    seconds = [finite(s) for s in grid.get("seconds", pd.Series(dtype=float))]
    return {
        "method": "grid",
        "axes": axes,
        "seed_axis": any(a["key"] == "train.seed" for a in axes),
        "model_axis": any(a["key"].startswith("model.") for a in axes),
        "keys": keys,
        "two_axes": cols_axis is not None,
        "rows_axis": rows_axis,
        "cols_axis": cols_axis,
        "table": table,
        "metric": metric,
        "metric_name": METRIC_NAMES.get(metric, metric),
        "higher_is_better": higher,
        "reason": str(config["search"].get("reason") or "").strip(),
        "reason_misses": reason_misses(str(config["search"].get("reason") or ""), keys),
        "best": best_ctx,
        "runner_up": runner,
        "margin": margin,
        "noise": noise,
        "paired": paired,
        "paired_missing": best.get("paired_missing") or "the cells' per-image predictions are not available",
        "seeds": seeds,
        "edges": edges,
        "ties": ties,
        "diverged": diverged,
        "n_cells": int(best.get("n_cells", len(grid))),
        "n_diverged": int(best.get("n_diverged", len(diverged))),
        "fixed": fixed,
        "optimizer": get_key(config, "optimizer.name", "sgd"),
        "eval_batch_size": get_key(config, "train.eval_batch_size"),
        "epochs": get_key(config, "train.epochs"),
        "epochs_searched": "train.epochs" in keys,
        "total_seconds": sum(s for s in seconds if s is not None),
    }


def _adjacent(axes, key, a: Mapping, b: Mapping) -> bool:
    values = next((ax["values"] for ax in axes if ax["key"] == key), [])
    index = [i for i, v in enumerate(values) if same_value(v, a.get(key)) or same_value(v, b.get(key))]
    return len(index) == 2 and abs(index[0] - index[1]) == 1


def final_context(config: Mapping, metrics: Mapping, history: pd.DataFrame, data: Mapping, search: Mapping) -> dict:
    train_on = get_key(config, "final.train_on", "train+val")
    n_images = data["n_train"] + (data["n_val"] if train_on == "train+val" else 0)
    last = history.iloc[-1]
    best_idx = history["test_acc"].idxmax()
    min_loss_idx = history["test_loss"].idxmin()
    test_acc = finite(metrics.get("test_acc"))
    val_acc = search["best"]["val_acc"]
    last_loss, min_loss = finite(last["test_loss"]), finite(history.loc[min_loss_idx, "test_loss"])
    return {
        "test_acc": test_acc,
        "test_loss": finite(metrics.get("test_loss")),
        # the initial weights (θ0) on the test set: a model that learned nothing scores ln C
        "initial_test_loss": finite(metrics.get("initial_test_loss")),
        "initial_test_acc": finite(metrics.get("initial_test_acc")),
        "chance_loss": math.log(data["n_classes"]),
        "initial_tolerance": INITIAL_LOSS_TOLERANCE,
        "n_test": int(metrics.get("n_test", data["n_test"])),
        "correct": round(test_acc * int(metrics.get("n_test", data["n_test"]))) if test_acc is not None else None,
        "train_on": train_on,
        "n_images": n_images,
        "epochs": int(last["epoch"]),
        "last_train_acc": finite(last["train_acc"]),
        "last_train_loss": finite(last["train_loss"]),
        "best_epoch": int(history.loc[best_idx, "epoch"]),
        "best_epoch_acc": finite(history.loc[best_idx, "test_acc"]),
        "min_loss_epoch": int(history.loc[min_loss_idx, "epoch"]),
        "min_loss": min_loss,
        "loss_rose": bool(last_loss is not None and min_loss and last_loss > 1.2 * min_loss
                          and int(history.loc[min_loss_idx, "epoch"]) < int(last["epoch"])),
        "val_acc": val_acc,
        "test_minus_val": (test_acc - val_acc) if test_acc is not None and val_acc is not None else None,
        "difference_se": difference_se(test_acc, int(metrics.get("n_test", data["n_test"])), val_acc, data["n_val"]),
        "seconds": float(history["seconds"].sum()) if "seconds" in history else None,
        "device": metrics.get("device", "not recorded"),
        # a random or staged search's label rounds its drawn values (the same as the final's)
        "params_tex": (search["best"]["label_tex"] if search.get("method", "grid") != "grid"
                       else params_tex(metrics.get("params", search["best"]["params"]), search["keys"])),
    }


def fit_verdict(train_clean: Mapping | None, val_acc: float | None, n_val: int) -> dict | None:
    """The gap between the chosen cell's accuracy on its own training part (evaluated like
    validation: eval mode, no augmentation, final weights) and on validation, in either
    direction, against the validation accuracy's standard error."""
    if not train_clean or val_acc is None or not n_val:
        return None
    train_acc = float(train_clean["acc"])
    gap = train_acc - val_acc
    se = math.sqrt(max(val_acc * (1 - val_acc), 1e-12) / n_val)
    direction = "higher" if gap > 2 * se else "lower" if gap < -2 * se else "same"
    return {"train_acc": train_acc, "train_loss": float(train_clean["loss"]), "gap": gap, "se": se,
            "direction": direction}


def reason_misses(reason: str, keys: Sequence[str]) -> list[str]:
    """The axes the stated reason never names (by key, by its last part, or by its name in
    words, e.g. optimizer.lr, lr or "learning rate"): a reason written for other axes and
    left in the config when they changed would otherwise be quoted as this grid's."""
    if not reason.strip():
        return []
    text = " ".join(reason.lower().split())
    missing = []
    for key in keys:
        words = {key.lower(), key.split(".")[-1].lower(), axis_name(key).lower()}
        if key == "train.seed":
            words.add("seed")
        if key == "train.epochs":
            words.add("epoch")
        if not any(re.search(rf"(?<![a-z_]){re.escape(word)}", text) for word in words):
            missing.append(axis_name(key))
    return missing


def difference_se(p: float | None, n: int, q: float | None, m: int) -> float | None:
    """Standard error of the difference of two accuracies on independent sets of n and m images."""
    if p is None or q is None or not n or not m:
        return None
    return math.sqrt(p * (1 - p) / n + q * (1 - q) / m)
