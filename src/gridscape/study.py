"""The steps of a study, each from input files to results: what the workflow's scripts call.

Each function takes plain paths and config mappings, so a step can be run and tested without
Snakemake. Files are written atomically by ``gridscape.io``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from . import io
from .config import Cell
from .data import DATASETS, PreparedData, load_prepared
from .data.loader import TensorData
from .data.split import subset_indices
from .device import resolve_device
from .gradient_flow import GradientFlow
from .models import build_model
from .search import Pack, cell_summary
from .train import TrainResult, evaluate, seed_everything, train
from .train_fused import train_fused

log = logging.getLogger(__name__)


def load_dataset(path: str | Path, dataset_name: str) -> PreparedData:
    spec = DATASETS[dataset_name]
    return load_prepared(Path(path), expected_shape=spec.in_shape, num_classes=spec.num_classes)


def read_split(path: str | Path) -> pd.DataFrame:
    return pd.read_csv(path)


def training_indices(split: pd.DataFrame, subsets: Sequence[str]) -> np.ndarray:
    return np.sort(np.concatenate([subset_indices(split, s) for s in subsets]))


def final_subsets(train_on: str) -> list[str]:
    """The split subsets the final model is trained on: ``final.train_on`` of the config."""
    return ["train", "val"] if train_on == "train+val" else ["train"]


def to_tensors(
    data: PreparedData, part: str, indices: np.ndarray | None, device: torch.device, train_config: Mapping
) -> TensorData:
    """The train (by split indices) or test images of ``data`` as one device-resident tensor,
    normalised and laid out as the study's ``train`` section says."""
    images = data.train_images if part == "train" else data.test_images
    labels = data.train_labels if part == "train" else data.test_labels
    if indices is not None:
        images, labels = images[indices], labels[indices]
    if train_config["normalization"] == "dataset":
        mean, std = data.mean, data.std
    else:  # pixels scaled to [0, 1]
        mean, std = np.zeros_like(data.mean), np.ones_like(data.std)
    return TensorData.from_arrays(images, labels, mean, std, device, bool(train_config["channels_last"]))


def new_model(config: Mapping, data: PreparedData) -> nn.Module:
    """The study's model, initialised from ``train.seed``."""
    seed_everything(int(config["train"]["seed"]))
    spec = DATASETS[config["dataset"]["name"]]
    return build_model(config["model"], spec.in_shape, len(data.classes))


@dataclass
class TrainedModel:
    model: nn.Module
    initial_state: dict[str, torch.Tensor]
    result: TrainResult
    gradient_flow: GradientFlow | None = None


def train_on_split(
    config: Mapping,
    data: PreparedData,
    split: pd.DataFrame,
    train_subsets: Sequence[str],
    eval_on: str,
    record_gradients: bool = False,
    keep_best: bool = False,
) -> TrainedModel:
    """Train the configured model on ``train_subsets`` of the split; evaluate each epoch on
    the validation part (``eval_on='val'``) or the official test set (``eval_on='test'``).
    See ``train.train`` for ``keep_best``; ``record_gradients`` records the gradient flow."""
    device = resolve_device(config["device"])
    log.info("device %s, %d threads, torch %s", device, torch.get_num_threads(), torch.__version__)
    model = new_model(config, data).to(device)
    initial_state = {k: v.detach().clone().cpu() for k, v in model.state_dict().items()}
    train_data = to_tensors(data, "train", training_indices(split, train_subsets), device, config["train"])
    if eval_on == "val":
        eval_data = to_tensors(data, "train", subset_indices(split, "val"), device, config["train"])
    else:
        eval_data = to_tensors(data, "test", None, device, config["train"])
    log.info("training on %d images (%s), evaluating on %d (%s)", len(train_data), "+".join(train_subsets), len(eval_data), eval_on)
    gradient_flow = GradientFlow(model) if record_gradients else None
    result = train(
        model, train_data, eval_data, config["optimizer"], config["train"], eval_name=eval_on,
        gradient_flow=gradient_flow, keep_best=keep_best,
    )
    return TrainedModel(model, initial_state, result, gradient_flow)


def run_pack(config: Mapping, pack: Pack, data_path: str, split_path: str, out_dir: str) -> list[dict]:
    """Train one pack of grid cells in one job; write each cell's history.csv and metrics.json
    under ``out_dir/<cell name>/``. Returns the cells' grid.csv rows."""
    data = load_dataset(data_path, config["dataset"]["name"])
    split = read_split(split_path)
    base = pack.cells[0].apply(config)
    base["train"]["epochs"] = max(pack.cell_epochs)
    model_configs = [Cell("model", values).apply(base) for values in pack.models]
    device = resolve_device(base["device"])
    models = [new_model(c, data).to(device) for c in model_configs]
    train_data = to_tensors(data, "train", subset_indices(split, "train"), device, base["train"])
    val_data = to_tensors(data, "train", subset_indices(split, "val"), device, base["train"])
    del data  # the loaded arrays (184 MB for CIFAR-10): the tensors hold what training reads
    log.info(
        "pack %s: %d cells, %d models trained together for %d epochs on %s (%d threads)",
        pack.name, len(pack.cells), len(models), base["train"]["epochs"], device, torch.get_num_threads(),
    )
    if len(models) == 1:
        results = [train(models[0], train_data, val_data, base["optimizer"], base["train"])]
    else:
        results, _ = train_fused(
            models, [c["optimizer"] for c in model_configs], [c["train"]["seed"] for c in model_configs],
            train_data, val_data, base["train"],
        )
    with io.atomic_directory(out_dir) as tmp_dir:
        return _write_pack_cells(pack, results, tmp_dir, {
            "models_in_pack": len(models), "threads": torch.get_num_threads(), "device": str(device)})


def _write_pack_cells(pack: Pack, results: Sequence[TrainResult], out_dir: Path, facts: Mapping) -> list[dict]:
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


def best_config(config: Mapping, best: Mapping) -> dict:
    """``config`` with the chosen grid values set."""
    return Cell(name="best", params=dict(best["params"])).apply(config)


def run_final(
    config: Mapping, best: Mapping, train_on: str, data_path: str, split_path: str,
    model_path: str, init_path: str, history_path: str,
) -> TrainedModel:
    """Retrain with the best values on train (+ val) and write θ0, θ* and the history."""
    final = best_config(config, best)
    data = load_dataset(data_path, final["dataset"]["name"])
    trained = train_on_split(final, data, read_split(split_path), final_subsets(train_on), "test")
    if trained.result.status != "ok":
        raise RuntimeError(
            f"the final model diverged with the best values {dict(best['params'])} (loss "
            f"{trained.result.history[-1]['train_loss']}) when trained on {train_on}; "
            "see the train_final log, and consider the runner-up values or a smaller learning rate"
        )
    meta = {"params": json.dumps(dict(best["params"]))}
    io.write_safetensors(init_path, trained.initial_state, meta)
    io.write_safetensors(model_path, trained.model.state_dict(), meta)
    io.write_csv(history_path, pd.DataFrame(trained.result.history))
    return trained


def load_model(config: Mapping, data: PreparedData, model_path: str, device: torch.device) -> nn.Module:
    """The model of ``config`` with the weights of ``model_path`` (safetensors; nothing unpickled)."""
    model = new_model(config, data)
    model.load_state_dict(io.read_safetensors(model_path), strict=True)
    model = model.to(device)
    if config["train"]["channels_last"]:
        model = model.to(memory_format=torch.channels_last)
    return model.eval()


def run_evaluate(config: Mapping, best: Mapping, data_path: str, model_path: str, metrics_path: str) -> dict:
    """Test loss and accuracy of the final model, with the count of test images."""
    final = best_config(config, best)
    device = resolve_device(final["device"])
    data = load_dataset(data_path, final["dataset"]["name"])
    model = load_model(final, data, model_path, device)
    test = to_tensors(data, "test", None, device, final["train"])
    loss, acc = evaluate(model, test, int(final["train"]["eval_batch_size"]))
    metrics = {
        "test_loss": loss,
        "test_acc": acc,
        "n_test": len(test),
        "params": dict(best["params"]),
        "device": str(device),
        "threads": torch.get_num_threads(),
    }
    io.write_json(metrics_path, metrics)
    return metrics
