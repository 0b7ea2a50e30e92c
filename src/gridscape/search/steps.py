"""The grid search's training job: one pack of cells trained in one job (fused where it can),
each cell's history and summary written under the pack's folder."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from gridscape import io
from gridscape.checkpoint import CheckpointPlace, open_checkpoint
from gridscape.data.loader import TensorData
from gridscape.data.split import subset_indices
from gridscape.device import resolve_device
from gridscape.kinds.base import Run
from gridscape.study import load_dataset, new_model, read_split, statistics_digest, to_tensors, training_statistics
from gridscape.train import TrainResult, evaluate, predict, train
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
    # train.normalization pixel: the statistics of the training part, for validation too
    statistics = training_statistics(base["train"], data, subset_indices(split, "train"))
    train_data = to_tensors(data, "train", subset_indices(split, "train"), device, base["train"], statistics)
    val_data = to_tensors(data, "train", subset_indices(split, "val"), device, base["train"], statistics)
    val_labels = data.train_labels[subset_indices(split, "val")]
    del data  # the loaded arrays (184 MB for CIFAR-10): the tensors hold what training reads
    log.info(
        "pack %s: %d cells, %d models trained together for %d epochs on %s (%d threads)",
        pack.name, len(pack.cells), len(models), base["train"]["epochs"], device, torch.get_num_threads(),
    )
    with checkpointer or nullcontext():
        if len(models) == 1:
            results = [train(models[0], train_data, val_data, base["optimizer"], base["train"], checkpointer=checkpointer)]
        else:
            results, states = train_fused(
                models, [c["optimizer"] for c in model_configs], [c["train"]["seed"] for c in model_configs],
                train_data, val_data, base["train"], checkpointer=checkpointer,
            )
    if len(models) == 1:
        states = [models[0].state_dict()]
    final = final_evaluation(pack, results, states, models, train_data, val_data, base["train"])
    # the pixel statistics' digest only where they exist: other cells' metrics stay as they were
    digest = {} if statistics is None else {"normalisation_digest": statistics_digest(statistics)}
    with io.atomic_directory(out_dir) as tmp_dir:
        rows = _write_pack_cells(pack, results, tmp_dir, {
            "models_in_pack": len(models), "threads": torch.get_num_threads(), "device": str(device), **digest},
            final, subset_indices(split, "val"), val_labels)
    if checkpointer is not None:
        checkpointer.clear()
    return rows


def final_evaluation(
    pack: GridJob, results: Sequence[TrainResult], states: Sequence[Mapping[str, torch.Tensor]],
    models: Sequence[nn.Module], train_data: TensorData, val_data: TensorData, train_config: Mapping,
) -> dict[int, dict]:
    """Per model whose cells end with the run (and did not diverge): its predicted class for
    every validation image, for the paired test of two cells on the same images, and its loss
    and accuracy on its own training part evaluated like validation (eval mode, no
    augmentation, final weights), the honest measure of a gap to validation. Cells of fewer
    epochs (an epochs axis) share a run that goes on, so their final weights are not kept."""
    last = max(pack.cell_epochs)
    wanted = {m for m, epochs in zip(pack.cell_model, pack.cell_epochs) if epochs == last}
    batch_size = int(train_config["eval_batch_size"])
    evaluated = {}
    for index in sorted(wanted):
        if results[index].status != "ok":
            continue
        model = models[index]
        model.load_state_dict(states[index])
        loss, acc = evaluate(model, train_data, batch_size)
        evaluated[index] = {"predicted": predict(model, val_data, batch_size).numpy(), "clean_train_loss": loss,
                            "clean_train_acc": acc}
    log.info("final evaluation of %d of %d models: validation predictions, training part in eval mode",
             len(evaluated), len(results))
    return evaluated


def _write_pack_cells(
    pack: GridJob, results: Sequence[TrainResult], out_dir: Path, facts: Mapping, final: Mapping[int, Mapping],
    val_index, val_labels,
) -> list[dict]:
    """Each cell's history (its model's run, cut at the cell's epochs), summary and, for a cell
    that ends with the run, its validation predictions (val_predictions.npz, empty otherwise)."""
    rows = []
    last = max(pack.cell_epochs)
    for cell, model_index, epochs in zip(pack.cells, pack.cell_model, pack.cell_epochs):
        result = results[model_index]
        history = result.history[:epochs]
        diverged = result.status == "diverged" and len(result.history) <= epochs
        seconds = sum(row["seconds"] for row in history)
        row = cell_summary(cell.params, history, "diverged" if diverged else "ok", seconds)
        cell_dir = Path(out_dir) / cell.name
        evaluated = final.get(model_index) if epochs == last else None
        extra = {"clean_train_loss": evaluated["clean_train_loss"], "clean_train_acc": evaluated["clean_train_acc"]} if evaluated else {}
        io.write_csv(cell_dir / "history.csv", pd.DataFrame(history))
        io.write_json(cell_dir / "metrics.json", {
            **row, "epochs_run": len(history), "pack": pack.name, **result.initial, **extra, **facts})
        io.write_npz(
            cell_dir / "val_predictions.npz",
            index=np.asarray(val_index if evaluated else [], dtype=np.int64),
            label=np.asarray(val_labels if evaluated else [], dtype=np.int64),
            predicted=np.asarray(evaluated["predicted"] if evaluated else [], dtype=np.int64),
        )
        rows.append(row)
    return rows
