"""Statistics of a trained model's weights, read straight from its ``model.safetensors``.

The LeNet-5 lab claims that L1 regularisation gives sparse weights and L2 does not: L2 shrinks
every weight in proportion to its size, so weights get small but rarely reach zero, whereas L1
pulls each weight towards zero by a constant step and drives many of them there. This module
shows the claim from the saved files instead of asserting it: per weight tensor and over the
whole network, the fraction of near-zero weights (|w| < ``NEAR_ZERO``) next to the usual size
statistics. It reads the files with ``safetensors.numpy`` and never imports torch, so a report
job can run it on a machine (or in an environment) without the training stack.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from safetensors.numpy import load_file

NEAR_ZERO = 1e-3
COLUMNS = ("parameter", "numel", "mean_abs", "std", "frac_abs_lt_1e-3", "frac_abs_lt_1e-2", "l1_norm", "l2_norm")
ALL = "all"  # the name of the row computed over every weight of the model at once

_THRESHOLDS = {"frac_abs_lt_1e-3": NEAR_ZERO, "frac_abs_lt_1e-2": 1e-2}
_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[str | int, ...]:
    """Sort key comparing runs of digits as integers, so 'layer.2' sorts before 'layer.10'.

    ``re.split`` with a capturing group alternates text and digits starting with text, so two
    keys always compare text with text and numbers with numbers.
    """
    return tuple(int(part) if i % 2 else part for i, part in enumerate(_DIGITS.split(name)))


def _ordered(names: Sequence[str], order: Sequence[str] | None) -> list[str]:
    if order is None:
        return sorted(names, key=natural_key)
    available = set(names)
    missing = [name for name in order if name not in available]
    if missing:
        raise ValueError(f"weights named in `order` are not in the file (or are not weights): {missing}")
    listed = list(dict.fromkeys(order))
    rest = sorted(available.difference(listed), key=natural_key)
    return listed + rest


def read_weights(path: str | os.PathLike, order: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """The weight tensors (ndim > 1: conv kernels and linear matrices) of a safetensors file.

    Biases, BatchNorm parameters and buffers (ndim <= 1) are left out: they are not what
    weight decay sparsifies, and a few hundred scalars would only blur the statistics.

    Order of the result: neither the file's key order nor its data offsets follow the network
    (``save_file`` sorts tensors by dtype and name), so without ``order`` the weights come in
    natural name order (digit runs compared as integers: ``a.2.weight`` before ``a.10.weight``).
    That is network order for ``nn.Sequential`` models whose blocks share a prefix. Pass
    ``order`` (e.g. ``list(model.state_dict())``) for the true order: names in it that are not
    weights (biases, buffers) are skipped, weights not listed follow in natural order, and a
    name absent from the file raises ValueError.
    """
    tensors = load_file(str(path))
    weights = {name: array for name, array in tensors.items() if array.ndim > 1}
    if order is not None:
        # A full state_dict listing names biases and buffers too; they are not errors.
        order = [name for name in order if name in weights or name not in tensors]
    return {name: weights[name] for name in _ordered(list(weights), order)}


def _row(parameter: str, values: np.ndarray) -> dict[str, object]:
    flat = np.asarray(values, dtype=np.float64).ravel()
    if flat.size == 0:
        raise ValueError(f"weight tensor {parameter!r} has no entries")
    magnitude = np.abs(flat)
    row: dict[str, object] = {
        "parameter": parameter,
        "numel": int(flat.size),
        "mean_abs": float(magnitude.mean()),
        "std": float(flat.std(ddof=0)),
    }
    for column, threshold in _THRESHOLDS.items():
        row[column] = float(np.mean(magnitude < threshold))
    row["l1_norm"] = float(magnitude.sum())
    row["l2_norm"] = float(np.sqrt(np.sum(flat * flat)))
    return row


def weight_stats(weights: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """One row per tensor (in the mapping's order), then an ``all`` row over every weight.

    The ``all`` row pools the entries of all tensors, so large layers count in proportion to
    their size: it is the network's fraction of near-zero weights, not a mean of per-layer
    fractions. Computed in float64; ``std`` is the population standard deviation.
    """
    if not weights:
        raise ValueError("no weight tensors to summarise (empty mapping)")
    if ALL in weights:
        raise ValueError(f"a tensor named {ALL!r} would be confused with the summary row")
    rows = [_row(name, array) for name, array in weights.items()]
    pooled = np.concatenate([np.asarray(array, dtype=np.float64).ravel() for array in weights.values()])
    rows.append(_row(ALL, pooled))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def study_weight_stats(
    models: Mapping[str, str | Path], orders: Mapping[str, Sequence[str]] | None = None
) -> pd.DataFrame:
    """``weight_stats`` of several models, stacked, with the experiment name as first column;
    ``orders`` gives a model's parameter names in network order (see ``read_weights``)."""
    if not models:
        raise ValueError("no models to summarise (empty mapping)")
    frames = []
    for name, path in models.items():
        frame = weight_stats(read_weights(path, (orders or {}).get(name)))
        frame.insert(0, "experiment", name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def order_of_gradient_flow(frame: pd.DataFrame) -> list[str]:
    """The parameter names of a gradient_flow.csv in network order (its ``order`` column)."""
    ordered = frame.sort_values(["order", "epoch"], kind="stable")["parameter"]
    return list(dict.fromkeys(ordered))


def order_of_model_summary(frame: pd.DataFrame) -> list[str]:
    """The weight names of a model_summary.csv (its modules with parameters, in network order)."""
    return [f"{module}.weight" for module in frame.loc[frame["params"] > 0, "module"]]
