"""The template context: every number the report prints, read from the study's result files.

Nothing here is typed in: sizes come from ``class_counts.csv``, the grid from ``grid.csv``
and ``best.json``, the final model from ``final/metrics.json`` and ``final/history.csv``, the
layer table from ``model_summary.csv``, the landscape from its JSON files. The justification
of the chosen values (margin over the runner-up and whether it exceeds sampling noise, grid
edges, ties, diverged cells) is computed here, so the templates only put it into words.

Strings that come from a config or a dataset are passed raw, and the templates escape them;
values whose key ends in ``_tex`` are already LaTeX (built from escaped parts).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd
import yaml

from gridscape import io
from gridscape.data.registry import DATASETS

from . import augmentations, provenance
from .latex import escape_latex, format_value, join_words

AXIS_NAMES = {
    "optimizer.lr": "learning rate",
    "optimizer.momentum": "momentum",
    "optimizer.weight_decay": "weight decay",
    "train.batch_size": "batch size",
    "train.epochs": "number of epochs",
    "train.seed": "random seed",
    "model.activation": "activation function",
}
METRIC_NAMES = {"val_acc": "validation accuracy", "val_loss": "validation loss"}
# The handout's five tunable hyperparameters, in its order.
HANDOUT_KEYS = ("train.seed", "optimizer.lr", "optimizer.momentum", "train.batch_size", "train.epochs")
LANDSCAPE_FIGURES = (
    "landscape_contour",
    "landscape_contourf",
    "landscape_heatmap",
    "landscape_surface3d",
    "landscape_line",
    "landscape_interpolation",
)
STUDY_FIGURES = ("gallery", "class_counts", "grid_val_loss", "grid_val_acc", "curves_grid", "curves_final", "augmentation")
ALL_FIGURES = (*STUDY_FIGURES, *LANDSCAPE_FIGURES)
MAX_CLASS_ROWS = 20
MODEL_TITLES = {"lenet5": "LeNet-5", "vgg": "VGG"}
DATASET_TITLES = {
    "cifar10": "CIFAR-10",
    "cifar100": "CIFAR-100",
    "mnist": "MNIST",
    "fashion_mnist": "Fashion-MNIST",
    "digits": "the handwritten digits of scikit-learn",
}
DATASET_ORIGINS = {
    "cifar10": "the official binary release, downloaded and checked against its published md5 sum",
    "cifar100": "the official binary release, downloaded and checked against its published md5 sum",
    "mnist": "the official IDX files, downloaded and checked against their published md5 sums",
    "fashion_mnist": "the official IDX files, downloaded and checked against their published md5 sums",
    "digits": (
        "the copy bundled with the library (no download): small greyscale scans, upsampled from 8 by 8 to "
        "32 by 32 pixels and cut by a fixed stratified split into training and test images"
    ),
}


@dataclass
class ReportInputs:
    """Where the result files are. Landscape paths may be None (landscape disabled)."""

    config: Mapping
    split: Path
    counts: Path
    grid: Path
    best: Path
    metrics: Path
    history: Path
    model_summary: Path
    forward_check: Path
    report_dir: Path
    figures_dir: Path
    benchmarks: Path | None = None
    repo: Path | None = None
    landscape: dict[str, Path | None] = field(default_factory=dict)
    snakemake_version: str | None = None


# --- small helpers -------------------------------------------------------------------------


def dig(data: Any, path: str, default: Any = None) -> Any:
    """``data['a']['b']`` for ``path='a.b'``, or ``default`` when any step is missing."""
    current = data
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return default
    return current if current is not None else default


def finite(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def get_key(config: Mapping, dotted: str, default: Any = None) -> Any:
    return dig(config, dotted, default)


def axis_name(key: str) -> str:
    return AXIS_NAMES.get(key, key)


def same_value(a: Any, b: Any) -> bool:
    """Axis values compare as numbers when both are numbers, otherwise as text."""
    if isinstance(a, bool) or isinstance(b, bool):
        return str(a).lower() == str(b).lower()
    fa, fb = finite(a), finite(b)
    if fa is not None and fb is not None:
        return fa == fb
    return str(a) == str(b)


def distinguishing_digits(a: Any, b: Any, start: int = 3, most: int = 8) -> int:
    """The fewest significant digits (from ``start``) at which ``a`` and ``b`` print differently."""
    from .latex import format_number

    for digits in range(start, most + 1):
        if format_number(a, digits) != format_number(b, digits):
            return digits
    return start


def params_tex(params: Mapping[str, Any], keys: Sequence[str]) -> str:
    """'learning rate 0.1, momentum 0.2' as LaTeX (names and values escaped)."""
    return ", ".join(f"{escape_latex(axis_name(k))} {format_value(params.get(k))}" for k in keys if k in params)


# --- the sections --------------------------------------------------------------------------


def data_context(config: Mapping, counts: pd.DataFrame, forward: Mapping) -> dict:
    name = config["dataset"]["name"]
    spec = DATASETS.get(name)
    counts = counts.copy()
    counts["class"] = counts["class"].astype(str)
    n_train, n_val, n_test = (int(counts[c].sum()) for c in ("train", "val", "test"))
    share = counts["val"] / (counts["train"] + counts["val"])
    per_class = [
        {"name": row["class"], "train": int(row["train"]), "val": int(row["val"]), "test": int(row["test"]),
         "val_share": float(row["val"] / (row["train"] + row["val"])) if row["train"] + row["val"] else None}
        for _, row in counts.iterrows()
    ]
    summary = []
    for column, label in (("train", "training"), ("val", "validation"), ("test", "test")):
        values = counts[column]
        summary.append({"part": label, "min": int(values.min()), "median": float(values.median()),
                        "max": int(values.max()), "total": int(values.sum())})
    full = counts["train"] + counts["val"]
    in_shape = list(forward.get("input_shape", [1, *(spec.in_shape if spec else (0, 0, 0))]))[1:]
    return {
        "name": name,
        "description": spec.description if spec else name,
        "display": DATASET_TITLES.get(name, name),
        "origin": DATASET_ORIGINS.get(name, "the dataset's official files"),
        "kind": augmentations.traits_for(name).kind if name in augmentations.DATASET_TRAITS else "images",
        "classes": list(counts["class"]),
        "n_classes": len(counts),
        "n_train": n_train,
        "n_val": n_val,
        "n_test": n_test,
        "n_train_set": n_train + n_val,
        "val_fraction": float(config["split"]["val_fraction"]),
        "val_fraction_measured": n_val / (n_train + n_val) if n_train + n_val else None,
        "split_seed": config["split"]["seed"],
        "val_share_min": float(share.min()),
        "val_share_max": float(share.max()),
        "class_min": int(full.min()),
        "class_max": int(full.max()),
        "balanced": bool(full.max() <= 1.1 * full.min()),
        "per_class": per_class,
        "compact": len(counts) > MAX_CLASS_ROWS,
        "summary": summary,
        "channels": in_shape[0] if in_shape else None,
        "height": in_shape[1] if len(in_shape) > 1 else None,
        "width": in_shape[2] if len(in_shape) > 2 else None,
        "gallery_size": get_key(config, "figures.gallery_size", 25),
    }


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
        se = math.sqrt(p1 * (1 - p1) / n_val + p2 * (1 - p2) / n_val)
        noise = {
            "images": round(margin * n_val),
            "se": se,
            "ratio": margin / se if se > 0 else None,
            "significant": se > 0 and margin > 2 * se,
        }
    elif metric == "val_loss" and margin is not None and best_ctx["value"]:
        noise = {"relative": margin / best_ctx["value"], "significant": margin / best_ctx["value"] > 0.05}

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
    epochs_values = grid["epochs_run"].tolist() if "epochs_run" in grid else []
    return {
        "axes": axes,
        "keys": keys,
        "two_axes": cols_axis is not None,
        "rows_axis": rows_axis,
        "cols_axis": cols_axis,
        "table": table,
        "metric": metric,
        "metric_name": METRIC_NAMES.get(metric, metric),
        "higher_is_better": higher,
        "reason": str(config["search"].get("reason") or "").strip(),
        "best": best_ctx,
        "runner_up": runner,
        "margin": margin,
        "noise": noise,
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
        "stopped_early": any(int(e) < int(get_key(config, "train.epochs", 0)) for e in epochs_values if finite(e) is not None)
        if "train.epochs" not in keys else False,
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
        "seconds": float(history["seconds"].sum()) if "seconds" in history else None,
        "device": metrics.get("device", "not recorded"),
        "params_tex": params_tex(metrics.get("params", search["best"]["params"]), search["keys"]),
    }


def network_context(config: Mapping, layers: pd.DataFrame, forward: Mapping) -> dict:
    rows = []
    for _, row in layers.iterrows():
        rows.append({
            "module": str(row["module"]),
            "type": str(row["type"]) if not pd.isna(row["type"]) else "",
            "description": str(row["description"]),
            "output_shape": "" if pd.isna(row["output_shape"]) else str(row["output_shape"]),
            "params": int(row["params"]),
        })
    with_params = [r for r in rows if r["params"] > 0]
    biggest = max(with_params, key=lambda r: r["params"]) if with_params else None
    total = int(forward.get("parameters", sum(r["params"] for r in rows)))
    types = [r["type"] for r in rows]
    return {
        "n_conv": sum(t.startswith("Conv") for t in types),
        "n_linear": sum(t == "Linear" for t in types),
        "n_pool": sum("Pool" in t for t in types),
        "activation_type": next((r["type"] for r in rows if r["description"].endswith("activation")), ""),
        # a pooling layer straight before an activation (LeNet-5 with ReLU, models.lenet.POOL_FIRST)
        "pool_first": any("Pool" in a["type"] and b["description"].endswith("activation") for a, b in zip(rows, rows[1:])),
        "model": get_key(config, "model.name", "lenet5"),
        "title": MODEL_TITLES.get(get_key(config, "model.name", "lenet5"), get_key(config, "model.name", "lenet5")),
        "activation": get_key(config, "model.activation", "relu"),
        "layers": rows,
        "total": total,
        "trainable": int(forward.get("trainable_parameters", total)),
        "biggest": biggest,
        "biggest_share": biggest["params"] / total if biggest and total else None,
        "forward": dict(forward),
        "input_shape": forward.get("input_shape", []),
        "output_shape": forward.get("output_shape", []),
    }


def augment_context(config: Mapping) -> dict:
    name = config["dataset"]["name"]
    verdicts = augmentations.verdicts(name)
    chosen = get_key(config, "figures.augmentation", "hflip")
    chosen_verdict = next(v for v in verdicts if v.name == chosen)
    used = list(get_key(config, "train.augmentation", []) or [])
    clauses = []
    for items, phrase in (
        ([v for v in verdicts if v.verdict == augmentations.YES], "reasonable"),
        ([v for v in verdicts if v.verdict == augmentations.CARE], "reasonable with care"),
        ([v for v in verdicts if v.verdict == augmentations.NO], "not reasonable"),
    ):
        if items:
            verb = "is" if len(items) == 1 else "are"
            clauses.append(f"{join_words([escape_latex(v.description) for v in items])} {verb} {phrase}")
    return {
        "summary_tex": (
            clauses[0] if len(clauses) == 1
            else f"{clauses[0]}, while {clauses[1]}" if len(clauses) == 2
            else "; ".join(clauses[:-1]) + "; and " + clauses[-1]
        ),
        "verdicts": [{"name": v.name, "description": v.description, "verdict": v.verdict, "reason": v.reason}
                     for v in verdicts],
        "reasonable": [v.description for v in verdicts if v.verdict == augmentations.YES],
        "care": [v.description for v in verdicts if v.verdict == augmentations.CARE],
        "unreasonable": [v.description for v in verdicts if v.verdict == augmentations.NO],
        "chosen": {"name": chosen, "description": chosen_verdict.description, "verdict": chosen_verdict.verdict},
        "used_in_training": used,
        "kind": augmentations.traits_for(name).kind,
    }


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
        bumps = sum(1 for a, b in zip(inside, inside[1:]) if b > a * (1 + 1e-9))
        interp_facts = {"t_min": finite(frame["t"].min()), "t_max": finite(frame["t"].max()),
                        "loss_init": finite(at0["loss"]), "loss_final": finite(at1["loss"]),
                        "acc_init": finite(at0.get("acc")), "acc_final": finite(at1.get("acc")),
                        "monotone": bumps == 0, "rises": bumps, "points": len(frame)}
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


class _ConfigDumper(yaml.SafeDumper):
    """Block style for mappings, flow style for lists of scalars, folded style for long text."""


def _represent_str(dumper: yaml.SafeDumper, text: str):
    if len(text) > 60 or "\n" in text:
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=">")
    return dumper.represent_scalar("tag:yaml.org,2002:str", text)


def _represent_list(dumper: yaml.SafeDumper, items: list):
    flow = all(not isinstance(item, (dict, list)) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)


_ConfigDumper.add_representer(str, _represent_str)
_ConfigDumper.add_representer(list, _represent_list)

# Characters per line of the appendix's typewriter block (\small on the report's text width).
CONFIG_WIDTH = 84


def config_yaml(config: Mapping) -> str:
    """The config as run, as YAML (keys in the order the study wrote them)."""
    return yaml.dump(
        _plain(config), Dumper=_ConfigDumper, sort_keys=False, width=CONFIG_WIDTH - 4,
        allow_unicode=True, default_flow_style=False,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def figure_paths(inputs: ReportInputs, landscape_enabled: bool) -> dict[str, str]:
    """Figure name -> path of its PDF relative to the report folder ('' when it does not exist)."""
    names = list(STUDY_FIGURES)
    if landscape_enabled:
        names += list(LANDSCAPE_FIGURES)
    out = {name: "" for name in ALL_FIGURES}
    for name in names:
        pdf = Path(inputs.figures_dir) / f"{name}.pdf"
        if pdf.exists():
            out[name] = Path(os.path.relpath(pdf, Path(inputs.report_dir))).as_posix()
    return out


def build_context(inputs: ReportInputs) -> dict:
    """Everything the templates print, from the result files named in ``inputs``."""
    config = inputs.config
    counts = pd.read_csv(inputs.counts, dtype={"class": str})
    grid = pd.read_csv(inputs.grid)
    best = io.read_json(inputs.best)
    metrics = io.read_json(inputs.metrics)
    history = pd.read_csv(inputs.history)
    layers = pd.read_csv(inputs.model_summary)
    forward = io.read_json(inputs.forward_check)

    data = data_context(config, counts, forward)
    search = search_context(config, grid, best, data["n_val"])
    final = final_context(config, metrics, history, data, search)
    landscape_enabled = bool(dig(config, "landscape.enabled", False))
    figures = figure_paths(inputs, landscape_enabled)
    return {
        "study": config["study"],
        "title": config.get("title") or config["study"],
        "config": config,
        "config_yaml": config_yaml(config),
        "data": data,
        "network": network_context(config, layers, forward),
        "search": search,
        "final": final,
        "augment": augment_context(config),
        "landscape": landscape_context(config, inputs.landscape or {}, figures, data["n_classes"]),
        "figures": figures,
        "provenance": provenance.provenance(
            config, inputs.repo or Path.cwd(), metrics, inputs.benchmarks or Path(inputs.report_dir).parent / "benchmarks",
            snakemake_version=inputs.snakemake_version,
        ),
    }


__all__ = ["ReportInputs", "build_context", "dig", "join_words"]
