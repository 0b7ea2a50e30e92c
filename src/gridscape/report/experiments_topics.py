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

import numpy as np
import pandas as pd

from gridscape.config.keys import format_value, get_key
from gridscape.kinds.base import Run
from gridscape.weight_stats import ALL, NEAR_ZERO

from .helpers import INITIAL_LOSS_TOLERANCE, finite
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
    """Pairs of runs that differ in exactly one setting and did not diverge: the validation
    accuracy each reached, the difference (second minus first), its standard error and whether
    it exceeds noise. The standard error treats the two accuracies as independent; measured on
    the same images they are positively correlated, so it overstates the noise (a conservative
    verdict)."""
    pairs = []
    for first, second in combinations([r for r in rows if not r.get("diverged")], 2):
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
    """Mean |change| of the validation accuracy from one epoch to the next over the second half
    of the run, after the first climb (which measures how fast a network learns, not how
    smooth its curve is); None with fewer than two epochs in that half or a non-finite value."""
    values = history["val_acc"].astype(float).to_numpy()[len(history) // 2:]
    if len(values) < 2 or not np.isfinite(values).all():
        return None
    return float(abs(values[1:] - values[:-1]).mean())


def smoothness_floor(accuracy: float, n_val: int) -> float:
    """The mean |change| between two epochs that the validation set's sampling alone gives a
    model of constant accuracy p: the difference of two accuracies on n images has standard
    deviation sqrt(2 p (1 - p) / n), and a normal's mean absolute value is sqrt(2 / pi) times it."""
    return math.sqrt(2 / math.pi) * math.sqrt(2 * accuracy * (1 - accuracy) / n_val)


def smoothness_verdicts(pairs: Sequence[Mapping], rows: Sequence[Mapping], n_val: int) -> list[dict]:
    """For each pair that differs only in BatchNorm: which curve fluctuates less in its second
    half, and whether the difference exceeds what the validation set's sampling gives."""
    by_label = {row["label"]: row for row in rows}
    verdicts = []
    for pair in pairs:
        a, b = by_label[pair["first"]], by_label[pair["second"]]
        with_bn, without = (b, a) if b["model"]["batch_norm"] else (a, b)
        if with_bn["smoothness"] is None or without["smoothness"] is None:
            continue
        accuracy = ((finite(with_bn["val_acc"]) or 0.0) + (finite(without["val_acc"]) or 0.0)) / 2
        floor = smoothness_floor(accuracy, n_val)
        difference = without["smoothness"] - with_bn["smoothness"]
        verdict = "smoother" if difference > floor else "rougher" if difference < -floor else "same"
        verdicts.append({"with_bn": with_bn["label"], "without": without["label"], "with_bn_value": with_bn["smoothness"],
                         "without_value": without["smoothness"], "floor": floor, "verdict": verdict})
    return verdicts


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
        if row.get("diverged"):
            continue
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
    pairs = [p for p in pairs if p["se"] is not None]
    by_key = {key: [p for p in pairs if p["key"] == key] for key in varied}
    # the discussion compares the learning rates (experiments_discussion), the sections their own keys
    in_sections = {"optimizer.lr"} | {key for topic, keys in TOPIC_KEYS.items() if shown[topic] and topic != "depth"
                                      for key in keys}
    return {
        "shown": shown,
        "varied": varied,
        "pairs": pairs,
        "pairs_by_key": by_key,
        "smoothness": smoothness_verdicts(by_key.get("model.batch_norm", []), rows, n_val),
        "activations": _grouped(rows, lambda row: row["model"].get("activation") or "the model's own"),
        "other_pairs": [p for p in pairs if p["key"] not in in_sections],
        "initial": initial,
        "initial_range": _range([r["initial_val_loss"] for r in initial]),
        "initial_missing": [r["label"] for r in initial if r["initial_val_loss"] is None],
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


def _grouped(rows: Sequence[Mapping], value_of) -> list[dict]:
    """The runs' labels grouped by a value, in the order values first appear."""
    groups: dict[str, list[str]] = {}
    for row in rows:
        groups.setdefault(value_of(row), []).append(row["label"])
    return [{"name": name, "labels": labels} for name, labels in groups.items()]
