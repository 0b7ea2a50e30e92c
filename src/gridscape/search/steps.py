"""The grid search's training job: one pack of cells trained in one job (fused where it can),
each cell's history and summary written under the pack's folder."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd
import torch

from gridscape import io
from gridscape.checkpoint import CheckpointPlace, open_checkpoint
from gridscape.data.split import subset_indices
from gridscape.device import resolve_device
from gridscape.kinds.base import Run
from gridscape.study import load_dataset, new_model, read_split, to_tensors
from gridscape.train import TrainResult, train
from gridscape.train_fused import train_fused

from .best import cell_summary
from .packs import GridJob

log = logging.getLogger(__name__)


def run_pack(
    config: Mapping, pack: GridJob, data_path: str, split_path: str, out_dir: str,
    checkpoint: CheckpointPlace | None = None,
) -> list[dict]:
    """Train one pack of grid cells in one job; write each cell's history.csv and metrics.json
    under ``out_dir/<cell name>/``. Returns the cells' grid.csv rows. With a ``checkpoint``
    place the training resumes from, and writes, checkpoints there (see ``checkpoint``)."""
    checkpointer = open_checkpoint(checkpoint, {"pack": pack.name, "config": config}, [data_path, split_path])
    data = load_dataset(data_path, config["dataset"]["name"])
    split = read_split(split_path)
    base = pack.cells[0].apply(config)
    base["train"]["epochs"] = max(pack.cell_epochs)
    model_configs = [Run("model", values).apply(base) for values in pack.models]
    device = resolve_device(base["device"])
    models = [new_model(c, data).to(device) for c in model_configs]
    train_data = to_tensors(data, "train", subset_indices(split, "train"), device, base["train"])
    val_data = to_tensors(data, "train", subset_indices(split, "val"), device, base["train"])
    del data  # the loaded arrays (184 MB for CIFAR-10): the tensors hold what training reads
    log.info(
        "pack %s: %d cells, %d models trained together for %d epochs on %s (%d threads)",
        pack.name, len(pack.cells), len(models), base["train"]["epochs"], device, torch.get_num_threads(),
    )
    with checkpointer or nullcontext():
        if len(models) == 1:
            results = [train(models[0], train_data, val_data, base["optimizer"], base["train"], checkpointer=checkpointer)]
        else:
            results, _ = train_fused(
                models, [c["optimizer"] for c in model_configs], [c["train"]["seed"] for c in model_configs],
                train_data, val_data, base["train"], checkpointer=checkpointer,
            )
    with io.atomic_directory(out_dir) as tmp_dir:
        rows = _write_pack_cells(pack, results, tmp_dir, {
            "models_in_pack": len(models), "threads": torch.get_num_threads(), "device": str(device)})
    if checkpointer is not None:
        checkpointer.clear()
    return rows


def _write_pack_cells(pack: GridJob, results: Sequence[TrainResult], out_dir: Path, facts: Mapping) -> list[dict]:
    """Each cell's history (its model's run, cut at the cell's epochs) and summary."""
    rows = []
    for cell, model_index, epochs in zip(pack.cells, pack.cell_model, pack.cell_epochs):
        result = results[model_index]
        history = result.history[:epochs]
        diverged = result.status == "diverged" and len(result.history) <= epochs
        seconds = sum(row["seconds"] for row in history)
        row = cell_summary(cell.params, history, "diverged" if diverged else "ok", seconds)
        cell_dir = Path(out_dir) / cell.name
        io.write_csv(cell_dir / "history.csv", pd.DataFrame(history))
        io.write_json(cell_dir / "metrics.json", {**row, "epochs_run": len(history), "pack": pack.name, **facts})
        rows.append(row)
    return rows
