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
from .data.split import per_class_subset, read_split, subset_indices  # noqa: F401 - read_split re-exported
from .device import resolve_device
from .gradient_flow import GradientFlow
from .models import build_model
from .checkpoint import Checkpointer
from .train import TrainResult, seed_everything, train

log = logging.getLogger(__name__)


def load_dataset(path: str | Path, dataset_name: str) -> PreparedData:
    spec = DATASETS[dataset_name]
    return load_prepared(Path(path), expected_shape=spec.in_shape, num_classes=spec.num_classes)


def training_indices(split: pd.DataFrame, subsets: Sequence[str]) -> np.ndarray:
    return np.sort(np.concatenate([subset_indices(split, s) for s in subsets]))


def final_subsets(train_on: str) -> list[str]:
    """The split subsets the final model is trained on: ``final.train_on`` of the config."""
    return ["train", "val"] if train_on == "train+val" else ["train"]


# train.normalization 'pixel': the DS405B handout's standardisation, std + 1e-5
PIXEL_EPS = 1e-5
NORMALISATION_FILE = "normalisation.safetensors"  # beside the final model: final/normalisation.safetensors
Statistics = tuple[np.ndarray, np.ndarray]  # mean and std images, (C, H, W) float32 on the [0, 1] scale


def pixel_statistics(data: PreparedData, indices: np.ndarray, chunk: int = 4096) -> Statistics:
    """The mean image and standard-deviation image of the training images ``indices`` of
    ``data``, on the [0, 1] scale of the other normalisations (pixel / 255): mean = (1/N) sum x_i,
    std = sqrt((1/N) sum (x_i - mean)^2) + 1e-5 (the population deviation, as the handout
    writes it), each of shape (C, H, W). Two passes in float64, ``chunk`` images at a time (the
    whole CIFAR-10 training part in float64 would be 1.1 GB); float32 results."""
    indices = np.asarray(indices)
    if len(indices) == 0:
        raise ValueError("train.normalization pixel: no training images to compute the statistics of")
    total = np.zeros(data.train_images.shape[1:], dtype=np.float64)
    for start in range(0, len(indices), chunk):
        total += data.train_images[indices[start : start + chunk]].sum(axis=0, dtype=np.float64)
    mean = total / len(indices) / 255.0
    squares = np.zeros_like(total)
    for start in range(0, len(indices), chunk):
        x = data.train_images[indices[start : start + chunk]].astype(np.float64) / 255.0
        squares += ((x - mean) ** 2).sum(axis=0)
    std = np.sqrt(squares / len(indices)) + PIXEL_EPS
    return mean.astype(np.float32), std.astype(np.float32)


def training_statistics(train_config: Mapping, data: PreparedData, indices: np.ndarray) -> Statistics | None:
    """The statistics a model trained on ``indices`` is normalised with: the pixel statistics
    of those images under ``train.normalization`` 'pixel', else None (the others need none)."""
    return pixel_statistics(data, indices) if train_config["normalization"] == "pixel" else None


def applied_statistics(train_config: Mapping, data: PreparedData, statistics: Statistics | None = None) -> Statistics:
    """The mean and std images (C, H, W) that ``to_tensors`` applies: the pixel ``statistics``,
    or the per-channel ones of 'dataset' (zeros and ones of 'none') repeated over the pixels."""
    if train_config["normalization"] == "pixel":
        if statistics is None:
            raise ValueError("train.normalization pixel: the statistics of the training images are needed")
        return statistics
    shape = data.train_images.shape[1:]
    if train_config["normalization"] == "dataset":
        mean, std = np.asarray(data.mean, np.float32), np.asarray(data.std, np.float32)
    else:
        mean, std = np.zeros(shape[0], np.float32), np.ones(shape[0], np.float32)
    return np.broadcast_to(mean[:, None, None], shape).copy(), np.broadcast_to(std[:, None, None], shape).copy()


def normalisation_path(model_path: str | Path) -> Path:
    """Where the statistics of a model's normalisation lie: beside its weights."""
    return Path(model_path).with_name(NORMALISATION_FILE)


def write_statistics(path: str | Path, statistics: Statistics, metadata: Mapping[str, str] | None = None) -> None:
    """``mean`` and ``std`` (C, H, W) float32 tensors in a safetensors file."""
    mean, std = statistics
    io.write_safetensors(path, {"mean": torch.from_numpy(np.ascontiguousarray(mean, np.float32)),
                                "std": torch.from_numpy(np.ascontiguousarray(std, np.float32))}, metadata)


def read_statistics(path: str | Path) -> Statistics:
    tensors = io.read_safetensors(path)
    if set(tensors) != {"mean", "std"} or tensors["mean"].shape != tensors["std"].shape or tensors["mean"].dim() != 3:
        raise ValueError(f"{path}: expected the tensors mean and std of one shape (C, H, W), got "
                         f"{ {name: tuple(t.shape) for name, t in tensors.items()} }")
    return tensors["mean"].numpy(), tensors["std"].numpy()


def model_statistics(train_config: Mapping, model_path: str | Path) -> Statistics | None:
    """The pixel statistics saved beside the model at ``model_path`` under 'pixel', else None."""
    return read_statistics(normalisation_path(model_path)) if train_config["normalization"] == "pixel" else None


def statistics_digest(statistics: Statistics) -> str:
    """A short fingerprint of pixel statistics (sha256 of the mean's then the std's float32
    bytes, 16 hex digits), recorded in a grid cell's metrics.json."""
    import hashlib

    mean, std = statistics
    digest = hashlib.sha256(np.ascontiguousarray(mean, np.float32).tobytes())
    digest.update(np.ascontiguousarray(std, np.float32).tobytes())
    return digest.hexdigest()[:16]


def to_tensors(
    data: PreparedData, part: str, indices: np.ndarray | None, device: torch.device, train_config: Mapping,
    statistics: Statistics | None = None,
) -> TensorData:
    """The train (by split indices) or test images of ``data`` as one device-resident tensor,
    normalised and laid out as the study's ``train`` section says. Under 'pixel' the mean and
    std images of the images the model was trained on (``statistics``, from
    ``pixel_statistics``) normalise every part alike; 'dataset' and 'none' take none."""
    images = data.train_images if part == "train" else data.test_images
    labels = data.train_labels if part == "train" else data.test_labels
    if indices is not None:
        images, labels = images[indices], labels[indices]
    normalization = train_config["normalization"]
    if (statistics is not None) != (normalization == "pixel"):
        wanted = "the pixel statistics of the training images" if normalization == "pixel" else "no pixel statistics"
        raise ValueError(f"config key train.normalization: {normalization!r} takes {wanted}")
    if normalization == "pixel":
        mean, std = statistics
    elif normalization == "dataset":
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
    statistics: Statistics | None = None  # its pixel normalisation (train.normalization pixel)


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
    statistics = training_statistics(config["train"], data, indices)
    train_data = to_tensors(data, "train", indices, device, config["train"], statistics)
    if eval_on == "val":
        eval_data = to_tensors(data, "train", subset_indices(split, "val"), device, config["train"], statistics)
    else:
        eval_data = to_tensors(data, "test", None, device, config["train"], statistics)
    log.info("training on %d images (%s), evaluating on %d (%s)", len(train_data), "+".join(train_subsets), len(eval_data), eval_on)
    gradient_flow = GradientFlow(model) if record_gradients else None
    result = train(
        model, train_data, eval_data, config["optimizer"], config["train"], eval_name=eval_on,
        gradient_flow=gradient_flow, keep_best=keep_best, checkpointer=checkpointer, record_initial=record_initial,
    )
    return TrainedModel(model, initial_state, result, gradient_flow, indices, train_data, statistics)


def load_model(config: Mapping, data: PreparedData, model_path: str, device: torch.device) -> nn.Module:
    """The model of ``config`` with the weights of ``model_path`` (safetensors; nothing unpickled)."""
    model = new_model(config, data)
    model.load_state_dict(io.read_safetensors(model_path), strict=True)
    model = model.to(device)
    if config["train"]["channels_last"]:
        model = model.to(memory_format=torch.channels_last)
    return model.eval()
