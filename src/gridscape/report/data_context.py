"""The data, network and augmentation sections' context: image counts from ``class_counts.csv``,
the layer table from ``model_summary.csv``, the augmentations from the config."""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from gridscape.config.options import AUGMENTATION_KEYS
from gridscape.data.augment import headers
from gridscape.kinds import kind_of
from gridscape.kinds.base import run_values
from gridscape.kinds.search_methods import searched_entry
from gridscape.data.registry import DATASETS

from . import augmentations
from .latex import escape_latex, join_words
from .helpers import MAX_CLASS_ROWS, MODEL_TITLES, DATASET_TITLES, DATASET_ORIGINS, get_key


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
        # the binary release and torchvision's (the Python release) hold the same images and labels
        "torchvision_class": {"cifar10": "CIFAR10", "cifar100": "CIFAR100"}.get(name),
        "normalization": (config.get("train") or {}).get("normalization", "dataset"),
        "pixel_searched": "pixel" in searched_entry(config, "train.normalization").get("values", []),
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


def network_context(config: Mapping, layers: pd.DataFrame, forward: Mapping) -> dict:
    rows = []
    for _, row in layers.iterrows():
        rows.append({
            "module": str(row["module"]),
            "type": str(row["type"]) if not pd.isna(row["type"]) else "",
            "description": str(row["description"]),
            "output_shape": "" if pd.isna(row["output_shape"]) else str(row["output_shape"]),
            "params": int(row["params"]),
            **{key: None if key not in row or pd.isna(row[key]) else int(row[key]) for key in ("receptive_field", "jump")},
        })
    with_params = [r for r in rows if r["params"] > 0]
    biggest = max(with_params, key=lambda r: r["params"]) if with_params else None
    total = int(forward.get("parameters", sum(r["params"] for r in rows)))
    types = [r["type"] for r in rows]
    return {
        "n_conv": sum(t.startswith("Conv") for t in types),
        "n_linear": sum(t == "Linear" for t in types),
        "n_pool": sum("Pool" in t for t in types),
        # the MLP's dropout, as its layers say it ("dropout p=0.2"): the final model's own value
        "dropout": next((float(r["description"].removeprefix("dropout p=")) for r in rows if r["type"] == "Dropout"), 0.0),
        "hidden_size": next((int(r["output_shape"].split("x")[-1]) for r in rows if r["type"] == "Linear"), None),
        "in_features": next((int(r["description"].split(",")[1].split("→")[0]) for r in rows if r["type"] == "Linear"), None),
        "batch_norm": any(t.startswith("BatchNorm") for t in types),
        "init": get_key(config, "model.init", "default"),
        "activation_type": next((r["type"] for r in rows if r["description"].endswith("activation")), ""),
        # a pooling layer straight before an activation (LeNet-5 with ReLU, models.lenet.POOL_FIRST)
        "pool_first": any("Pool" in a["type"] and b["description"].endswith("activation") for a, b in zip(rows, rows[1:])),
        "model": get_key(config, "model.name", "lenet5"),
        "title": MODEL_TITLES.get(get_key(config, "model.name", "lenet5"), get_key(config, "model.name", "lenet5")),
        # "an MLP" (em-el-pee), "a LeNet-5", "a VGG", "a ResNet"
        "article": "an" if get_key(config, "model.name", "lenet5") == "mlp" else "a",
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




def augment_context(config: Mapping, final_params: Mapping | None = None) -> dict:
    """``final_params``: the final model's chosen values (best.json), for a search that
    switches augmentations on and off."""
    name = config["dataset"]["name"]
    verdicts = augmentations.verdicts(name)
    chosen = get_key(config, "figures.augmentation", "hflip")
    chosen_verdict = augmentations.verdict_of(name, chosen, int(get_key(config, "train.crop_padding", 4)))
    used = headers(config["train"], run_values(config, kind_of(config).runs(config), AUGMENTATION_KEYS))
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
        "chosen": {"name": chosen, "description": chosen_verdict.description, "verdict": chosen_verdict.verdict,
                   "reason": chosen_verdict.reason, "in_handout": chosen in augmentations.HANDOUT_ORDER},
        "used_in_training": used,
        "searched": list(searched_entry(config, "train.augmentation").get("subsets_of", [])),
        "final_augmentation": list((final_params or {}).get("train.augmentation", config["train"]["augmentation"])),
        "kind": augmentations.traits_for(name).kind,
    }
