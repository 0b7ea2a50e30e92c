"""Which grid cells share one training job (a pack): cells that differ only in a fusable key
train side by side as one network of grouped layers, and cells that differ only in epochs share
one run, recorded at each epoch count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from gridscape.config.keys import format_value
from gridscape.kinds.base import Run

# Axes whose cells can share one training job: models that differ only in these train side
# by side (fused), and the epochs axis costs only its largest value (a constant learning
# rate makes a shorter run a prefix of a longer one).
FUSABLE_KEYS = ("optimizer.lr", "optimizer.momentum", "optimizer.weight_decay", "train.seed")
PREFIX_KEYS = ("train.epochs",)
# built only of layers that gridscape.fused has grouped forms of; not the MLP, whose dropout
# draws its masks from each run's own seeded generator
FUSABLE_MODELS = ("lenet5",)


def can_fuse(config: Mapping) -> bool:
    """Fused training covers SGD at a constant rate without an L1 penalty on the models in
    FUSABLE_MODELS without BatchNorm (``fused`` has no grouped BatchNorm1d for the linear layers)."""
    optimizer, model = config["optimizer"], config["model"]
    return (
        model["name"] in FUSABLE_MODELS and not model.get("batch_norm", False)
        and optimizer["name"] == "sgd" and optimizer["schedule"] == "constant" and optimizer.get("l1", 0.0) == 0
    )


def can_share_epochs(config: Mapping) -> bool:
    """A shorter run is a prefix of a longer one only when the rate does not depend on the length."""
    return config["optimizer"]["schedule"] == "constant"


@dataclass(frozen=True)
class GridJob:
    """One training job of the grid (rule train_pack, folder search/packs/<name>): the models it
    trains and, per cell, which model and how many epochs."""

    name: str
    cells: tuple[Run, ...]
    models: tuple[dict, ...]  # each model's fusable axis values
    cell_model: tuple[int, ...]  # index into models, per cell
    cell_epochs: tuple[int, ...]


def plan_packs(config: Mapping, cells: Sequence[Run], fuse: bool) -> list[GridJob]:
    """Group the grid's cells into training jobs.

    With ``fuse`` all cells that agree on every axis except the fusable ones and the epochs
    share one job; without it, cells that differ only in epochs still share one (their runs
    are prefixes of each other), everything else gets its own. Cells whose model or optimiser
    cannot be fused (``can_fuse``) train one model per job; cells whose schedule depends on the
    epochs (``can_share_epochs``) do not share a run across epoch counts.
    """
    groups: dict[tuple, list[Run]] = {}
    for cell in cells:
        cell_config = cell.apply(config)
        shared_keys = (PREFIX_KEYS if can_share_epochs(cell_config) else ()) + (
            FUSABLE_KEYS if fuse and can_fuse(cell_config) else ()
        )
        key = tuple((k, format_value(v)) for k, v in cell.params.items() if k not in shared_keys)
        groups.setdefault(key, []).append(cell)
    packs = []
    for key, members in groups.items():
        models: list[dict] = []
        cell_model, cell_epochs = [], []
        for cell in members:
            model = {k: v for k, v in cell.params.items() if k in FUSABLE_KEYS}
            if model not in models:
                models.append(model)
            cell_model.append(models.index(model))
            cell_epochs.append(int(cell.apply(config)["train"]["epochs"]))
        name = "_".join(f"{k}~{v}" for k, v in key) or "all"
        packs.append(GridJob(name, tuple(members), tuple(models), tuple(cell_model), tuple(cell_epochs)))
    return packs
