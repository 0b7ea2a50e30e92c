"""What every training stage shares: the prepared data and split as device tensors, the
study's model, and one training run on parts of the split (grid packs, named experiments and
the final model all start here). Functions take plain paths and config mappings, so each can
be run and tested without Snakemake."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from . import io
from .data import DATASETS, PreparedData, load_prepared
from .data.loader import TensorData
from .data.split import per_class_subset, subset_indices
from .device import resolve_device
from .gradient_flow import GradientFlow
from .models import build_model
from .checkpoint import Checkpointer
from .train import TrainResult, seed_everything, train

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
    train_indices: np.ndarray | None = None  # the images of the training set it was trained on
    train_data: TensorData | None = None


def train_on_split(
    config: Mapping,
    data: PreparedData,
    split: pd.DataFrame,
    train_subsets: Sequence[str],
    eval_on: str,
    record_gradients: bool = False,
    keep_best: bool = False,
    checkpointer: Checkpointer | None = None,
    record_initial: bool = True,
) -> TrainedModel:
    """Train the configured model on ``train_subsets`` of the split; evaluate each epoch on
    the validation part (``eval_on='val'``) or the official test set (``eval_on='test'``).
    See ``train.train`` for ``keep_best``, ``checkpointer`` and ``record_initial``; ``record_gradients`` records
    the gradient flow."""
    device = resolve_device(config["device"])
    log.info("device %s, %d threads, torch %s", device, torch.get_num_threads(), torch.__version__)
    model = new_model(config, data).to(device)
    initial_state = {k: v.detach().clone().cpu() for k, v in model.state_dict().items()}
    per_class = config["train"].get("per_class")
    if per_class is not None and list(train_subsets) != ["train"]:
        raise ValueError(f"config key train.per_class: a subset of the training part, not of {'+'.join(train_subsets)}")
    indices = (training_indices(split, train_subsets) if per_class is None
               else per_class_subset(split, int(per_class), int(config["train"]["seed"])))
    train_data = to_tensors(data, "train", indices, device, config["train"])
    if eval_on == "val":
        eval_data = to_tensors(data, "train", subset_indices(split, "val"), device, config["train"])
    else:
        eval_data = to_tensors(data, "test", None, device, config["train"])
    log.info("training on %d images (%s), evaluating on %d (%s)", len(train_data), "+".join(train_subsets), len(eval_data), eval_on)
    gradient_flow = GradientFlow(model) if record_gradients else None
    result = train(
        model, train_data, eval_data, config["optimizer"], config["train"], eval_name=eval_on,
        gradient_flow=gradient_flow, keep_best=keep_best, checkpointer=checkpointer, record_initial=record_initial,
    )
    return TrainedModel(model, initial_state, result, gradient_flow, indices, train_data)


def load_model(config: Mapping, data: PreparedData, model_path: str, device: torch.device) -> nn.Module:
    """The model of ``config`` with the weights of ``model_path`` (safetensors; nothing unpickled)."""
    model = new_model(config, data)
    model.load_state_dict(io.read_safetensors(model_path), strict=True)
    model = model.to(device)
    if config["train"]["channels_last"]:
        model = model.to(memory_format=torch.channels_last)
    return model.eval()
