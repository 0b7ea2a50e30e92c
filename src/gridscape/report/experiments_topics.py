"""Which sections a named-experiments report has, and their numbers: the report follows what
the study varies. A study of initialisations gets a section on the loss before training and
the first epoch; one of BatchNorm or activations, a section on how smooth the validation curve
is and what each change gains; one of L1 and weight decay, a section on the weights' sparsity
(``weight_stats.csv``). The VGG coursework's story (a network stuck at the loss of a uniform
guess, its gradient flow, the BatchNorm and residual fixes) is told only when a run is stuck or
the block variant or depth varies.

Every difference between two runs is set against the standard error of a difference of two
accuracies on the validation set, so that a 0.3-point gap on 5,000 images is called noise.
"""

from __future__ import annotations

import math
from itertools import combinations
from typing import Any, Mapping, Sequence

import pandas as pd

from gridscape.config.keys import format_value, get_key
from gridscape.kinds.base import Run
from gridscape.weight_stats import ALL, NEAR_ZERO

from .helpers import finite
from .search_context import difference_se

# the settings each section is about; a section appears when one of its keys varies
TOPIC_KEYS = {
    "initialisation": ("model.init",),
    "normalisation": ("model.batch_norm", "model.activation"),
    "regularisation": ("optimizer.l1", "optimizer.weight_decay"),
    "depth": ("model.block", "model.blocks_per_stage", "model.num_stages"),
}
# a difference is called real when it exceeds this many standard errors
NOISE_Z = 2.0
# an initial loss this close to ln C is "at the loss of a uniform guess" (the lab's check)
INITIAL_LOSS_TOLERANCE = 0.05


def settings_of(config: Mapping, runs: Sequence[Run]) -> dict[str, dict[str, Any]]:
    """Each run's effective value of every key any run sets: {run name: {key: value}}."""
    keys = sorted({key for run in runs for key in run.params})
    return {run.name: {key: get_key(run.apply(config), key) for key in keys} for run in runs}


def varied_keys(settings: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The keys whose value differs between runs, in key order."""
    values = list(settings.values())
    keys = values[0].keys() if values else []
    return [key for key in keys if len({format_value(v[key]) for v in values}) > 1]


def one_key_pairs(rows: Sequence[Mapping], settings: Mapping[str, Mapping[str, Any]], n_val: int) -> list[dict]:
    """Pairs of runs that differ in exactly one setting: the validation accuracy each reached,
    the difference (second minus first), its standard error and whether it exceeds noise."""
    pairs = []
    for first, second in combinations(rows, 2):
        a, b = settings[first["name"]], settings[second["name"]]
        differing = [key for key in a if format_value(a[key]) != format_value(b[key])]
        if len(differing) != 1:
            continue
        key = differing[0]
        va, vb = finite(first["val_acc"]), finite(second["val_acc"])
        se = difference_se(va, n_val, vb, n_val) if va is not None and vb is not None else None
        difference = vb - va if se is not None else None
        pairs.append({
            "key": key, "first": first["label"], "second": second["label"],
            "first_value": format_value(a[key]), "second_value": format_value(b[key]),
            "first_acc": va, "second_acc": vb, "difference": difference, "se": se,
            "z": difference / se if se else None,
            "real": bool(se) and abs(difference) > NOISE_Z * se,
            "first_name": first["name"], "second_name": second["name"],
        })
    return pairs


def smoothness(history: pd.DataFrame) -> float | None:
    """Mean |change| of the validation accuracy from one epoch to the next (None for one epoch)."""
    values = history["val_acc"].astype(float).to_numpy()
    if len(values) < 2:
        return None
    return float(abs(values[1:] - values[:-1]).mean())


def initial_rows(rows: Sequence[Mapping], histories: Mapping[str, pd.DataFrame], chance_loss: float) -> list[dict]:
    """Per run: the loss before any step against ln C, and the first epoch's accuracies."""
    out = []
    for row in rows:
        first = histories[row["name"]].iloc[0]
        initial_val = finite(row.get("initial_val_loss"))
        out.append({
            "label": row["label"],
            "initial_train_loss": finite(row.get("initial_train_loss")),
            "initial_val_loss": initial_val,
            "initial_val_acc": finite(row.get("initial_val_acc")),
            "off_chance": None if initial_val is None else initial_val - chance_loss,
            "near_chance": initial_val is not None and abs(initial_val - chance_loss) <= INITIAL_LOSS_TOLERANCE,
            "first_train_acc": float(first["train_acc"]),
            "first_val_acc": float(first["val_acc"]),
        })
    return out


def weight_rows(rows: Sequence[Mapping], settings: Mapping[str, Mapping[str, Any]], stats: pd.DataFrame,
                config: Mapping) -> list[dict]:
    """Per run: its penalties and its weights' sparsity (the ``all`` row of weight_stats.csv)."""
    overall = stats[stats["parameter"] == ALL].set_index("experiment")
    out = []
    for row in rows:
        run_settings = settings[row["name"]]
        l1 = run_settings.get("optimizer.l1", config["optimizer"].get("l1", 0.0))
        decay = run_settings.get("optimizer.weight_decay", config["optimizer"]["weight_decay"])
        weights = overall.loc[row["name"]] if row["name"] in overall.index else None
        out.append({
            "label": row["label"], "l1": float(l1), "weight_decay": float(decay),
            "near_zero": None if weights is None else float(weights["frac_abs_lt_1e-3"]),
            "mean_abs": None if weights is None else float(weights["mean_abs"]),
            "val_acc": finite(row["val_acc"]),
            "gap": _gap(row),
        })
    return out


def _gap(row: Mapping) -> float | None:
    train, val = finite(row["last_train_acc"]), finite(row["last_val_acc"])
    return None if train is None or val is None else train - val


def sparsity_claim(weights: Sequence[Mapping]) -> dict | None:
    """The L1-penalised runs against the others (weight decay or none): which has the larger
    fraction of near-zero weights, from the files."""
    with_l1 = [w for w in weights if w["l1"] > 0 and w["near_zero"] is not None]
    without = [w for w in weights if w["l1"] == 0 and w["near_zero"] is not None]
    if not with_l1 or not without:
        return None
    sparsest_l1 = max(with_l1, key=lambda w: w["near_zero"])
    densest_other = max(without, key=lambda w: w["near_zero"])
    return {"l1": sparsest_l1, "other": densest_other, "l1_sparser": sparsest_l1["near_zero"] > densest_other["near_zero"]}


def topics(
    config: Mapping, runs: Sequence[Run], rows: Sequence[Mapping], histories: Mapping[str, pd.DataFrame],
    weight_stats: pd.DataFrame, n_val: int, chance_loss: float,
) -> dict:
    """The report's sections chosen by what varies, each with its numbers."""
    settings = settings_of(config, runs)
    varied = varied_keys(settings)
    pairs = one_key_pairs(rows, settings, n_val)
    shown = {topic: any(key in varied for key in keys) for topic, keys in TOPIC_KEYS.items()}
    shown["depth"] = shown["depth"] or any(r["stuck"] for r in rows)
    for row in rows:
        row["smoothness"] = smoothness(histories[row["name"]])
    initial = initial_rows(rows, histories, chance_loss)
    weights = weight_rows(rows, settings, weight_stats, config)
    by_key = {key: [p for p in pairs if p["key"] == key] for key in varied}
    in_sections = {key for topic, keys in TOPIC_KEYS.items() if shown[topic] and topic != "depth" for key in keys}
    return {
        "shown": shown,
        "varied": varied,
        "pairs": pairs,
        "pairs_by_key": by_key,
        "other_pairs": [p for p in pairs if p["key"] not in in_sections],
        "initial": initial,
        "initial_range": _range([r["initial_val_loss"] for r in initial]),
        "initial_off": [r for r in initial if r["initial_val_loss"] is not None and not r["near_chance"]],
        "initial_tolerance": INITIAL_LOSS_TOLERANCE,
        "weights": weights,
        "sparsity": sparsity_claim(weights),
        "near_zero_threshold": NEAR_ZERO,
        "noise_z": NOISE_Z,
        "n_val": n_val,
    }


def _range(values: Sequence[float | None]) -> dict | None:
    present = [v for v in values if v is not None and math.isfinite(v)]
    return {"low": min(present), "high": max(present)} if present else None
