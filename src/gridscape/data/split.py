"""The stratified train/validation split of the official training set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def stratified_split(labels: np.ndarray, val_fraction: float, seed: int) -> pd.DataFrame:
    """Indices of the training set, each marked 'train' or 'val', sorted by index.

    Uses sklearn's StratifiedShuffleSplit as the handout asks, so class proportions in the
    validation part match the training set's to within one image per class.
    """
    labels = np.asarray(labels)
    n_classes = len(np.unique(labels))
    n_val = int(np.ceil(val_fraction * len(labels)))
    if n_val < n_classes or len(labels) - n_val < n_classes:
        raise ValueError(
            f"config key split.val_fraction: {val_fraction} of {len(labels)} images leaves {n_val} for "
            f"validation and {len(labels) - n_val} for training, fewer than the {n_classes} classes; "
            f"expected each part to hold at least one image per class"
        )
    from sklearn.model_selection import StratifiedShuffleSplit  # here: it costs a second to import

    splitter = StratifiedShuffleSplit(n_splits=1, test_size=val_fraction, random_state=seed)
    train_index, val_index = next(splitter.split(np.zeros(len(labels)), labels))
    subset = np.empty(len(labels), dtype=object)
    subset[train_index] = "train"
    subset[val_index] = "val"
    return pd.DataFrame({"index": np.arange(len(labels)), "label": labels, "subset": subset})


def read_split(path: str | Path) -> pd.DataFrame:
    """split.csv as written by the split job: index, label, subset."""
    return pd.read_csv(path)


def subset_indices(split: pd.DataFrame, subset: str) -> np.ndarray:
    return split.loc[split["subset"] == subset, "index"].to_numpy()


def per_class_subset(split: pd.DataFrame, per_class: int, seed: int) -> np.ndarray:
    """``per_class`` images of every class drawn from the split's training part with
    ``default_rng(seed)``, sorted: the training set of a data-size experiment."""
    train = split.loc[split["subset"] == "train"]
    rng = np.random.default_rng(seed)
    chosen = []
    for label in sorted(train["label"].unique()):
        members = train.loc[train["label"] == label, "index"].to_numpy()
        if per_class > len(members):
            raise ValueError(
                f"config key train.per_class: {per_class} images of class {label}, whose training part holds "
                f"{len(members)}; expected at most {len(members)}"
            )
        chosen.append(rng.choice(members, size=per_class, replace=False))
    return np.sort(np.concatenate(chosen))


def class_counts(split: pd.DataFrame, test_labels: np.ndarray, classes: list[str]) -> pd.DataFrame:
    """Images per class in train, val and test: the table behind the split figure."""
    counts = pd.DataFrame({"class": classes})
    for subset in ("train", "val"):
        labels = split.loc[split["subset"] == subset, "label"].to_numpy()
        counts[subset] = np.bincount(labels, minlength=len(classes))
    counts["test"] = np.bincount(np.asarray(test_labels), minlength=len(classes))
    return counts
