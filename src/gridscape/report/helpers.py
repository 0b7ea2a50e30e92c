"""The names and small helpers every report context shares: titles of datasets, models and keys,
and exact reading of values from configs and result files."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from gridscape.kinds.search import SEARCH, has_landscape

from .latex import escape_latex, format_value

AXIS_NAMES = {
    "optimizer.lr": "learning rate",
    "optimizer.momentum": "momentum",
    "optimizer.weight_decay": "weight decay",
    "train.batch_size": "batch size",
    "train.epochs": "number of epochs",
    "train.seed": "random seed",
    "model.activation": "activation function",
    "model.batch_norm": "BatchNorm",
    "model.init": "initialisation",
    "optimizer.l1": "L1 penalty",
    "train.flip_p": "flip probability",
    "train.crop_padding": "crop padding",
    "train.normalization": "input normalisation",
    "train.augmentation": "augmentation",
    "model.hidden_layers": "number of hidden layers",
    "model.hidden_size": "hidden-layer width",
    "model.dropout": "dropout probability",
}
METRIC_NAMES = {"val_acc": "validation accuracy", "val_loss": "validation loss"}
# an initial loss this close to ln C is "at the loss of a uniform guess" (the LeNet-5 lab's check)
INITIAL_LOSS_TOLERANCE = 0.05
# The handout's five tunable hyperparameters, in its order.
HANDOUT_KEYS = ("train.seed", "optimizer.lr", "optimizer.momentum", "train.batch_size", "train.epochs")
# The search kind's figures, as its registry entry declares them (names under figures/).
ALL_FIGURES = tuple(o.path.removeprefix("figures/") for o in SEARCH.outputs if o.figure)
LANDSCAPE_FIGURES = tuple(
    o.path.removeprefix("figures/") for o in SEARCH.outputs if o.figure and o.when is has_landscape
)
MAX_CLASS_ROWS = 20
MODEL_TITLES = {"lenet5": "LeNet-5", "vgg": "VGG", "resnet": "ResNet", "mlp": "MLP"}
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


def figure_pdfs(names: Sequence[str], figures_dir: Path, report_dir: Path) -> dict[str, str]:
    """Figure name -> its PDF relative to the report folder ('' when it does not exist)."""
    out = {}
    for name in names:
        pdf = Path(figures_dir) / f"{name}.pdf"
        out[name] = Path(os.path.relpath(pdf, Path(report_dir))).as_posix() if pdf.exists() else ""
    return out
