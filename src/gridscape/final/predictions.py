"""The final model's predictions for a few random test images (the DS405B handout's "randomly
sample and display 10 test images with the predicted category of each"): final/predictions.csv,
which the test_predictions figure draws."""

from __future__ import annotations

import logging
import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from gridscape import io
from gridscape.study import load_dataset, load_model, model_statistics, to_tensors

log = logging.getLogger(__name__)

COLUMNS = ("index", "label", "label_name", "predicted", "predicted_name", "probability", "correct")


def draw_test_images(n_test: int, count: int, seed: int) -> np.ndarray:
    """``count`` distinct test-set indices (all of them when fewer exist), drawn by
    ``numpy.random.default_rng(seed)`` without replacement, in the order drawn."""
    if count < 0:
        raise ValueError(f"config key figures.test_predictions: {count}; expected 0 or more images")
    rng = np.random.default_rng(int(seed))
    return rng.choice(int(n_test), size=min(int(count), int(n_test)), replace=False).astype(np.int64)


@torch.inference_mode()
def class_probabilities(model: torch.nn.Module, data, batch_size: int) -> torch.Tensor:
    """Softmax of the model's outputs for every image of ``data``, in eval mode, in its order
    (float64, on the CPU)."""
    was_training = model.training
    model.eval()
    try:
        parts = [torch.softmax(model(images).double(), dim=1).cpu() for images, _ in data.batches(batch_size)]
        return torch.cat(parts) if parts else torch.zeros((0, 0), dtype=torch.float64)
    finally:
        model.train(was_training)


def predictions_table(indices: np.ndarray, labels: np.ndarray, probabilities: np.ndarray, classes) -> pd.DataFrame:
    """One row per image: its test index, true class, predicted class (the most probable),
    that class's softmax probability and whether it is right; ``COLUMNS`` in that order."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if len(indices) == 0:  # figures.test_predictions 0: the columns, no rows
        probabilities = np.zeros((0, len(classes)))
    predicted = probabilities.argmax(axis=1)
    labels = np.asarray(labels, dtype=np.int64)
    return pd.DataFrame({
        "index": np.asarray(indices, dtype=np.int64),
        "label": labels,
        "label_name": [str(classes[c]) for c in labels],
        "predicted": predicted.astype(np.int64),
        "predicted_name": [str(classes[c]) for c in predicted],
        "probability": probabilities[np.arange(len(predicted)), predicted],
        "correct": predicted == labels,
    }, columns=list(COLUMNS))


def run_predict_test(final: Mapping, data_path: str, model_path: str, predictions_path: str, count: int,
                     figure_paths: Sequence[str] = ()) -> pd.DataFrame:
    """Classify ``count`` test images drawn with the final model's ``train.seed`` (see
    ``draw_test_images``) with the final model, normalised as it was trained (its pixel
    statistics beside ``model_path`` under 'pixel'); write ``predictions_path`` and, given
    ``figure_paths``, the figure of the images with their classes. A few images: on the CPU,
    in the submitting host's job (a cluster job would start slower than it works)."""
    config = final["config"]
    device = torch.device("cpu")
    data = load_dataset(data_path, config["dataset"]["name"])
    indices = draw_test_images(len(data.test_labels), count, int(config["train"]["seed"]))
    images = to_tensors(data, "test", indices, device, config["train"], model_statistics(config["train"], model_path))
    model = load_model(config, data, model_path, device)
    probabilities = class_probabilities(model, images, int(config["train"]["eval_batch_size"])).numpy()
    table = predictions_table(indices, data.test_labels[indices], probabilities, data.classes)
    io.write_csv(predictions_path, table)
    log.info("%d test images, %d predicted correctly", len(table), int(table["correct"].sum()))
    if figure_paths:
        plot_test_predictions(data.test_images[indices], table, data.classes, figure_paths)
    return table


def plot_test_predictions(images: np.ndarray, table: pd.DataFrame, classes: Sequence[str], paths: Sequence[str]) -> None:
    """The test images of ``table`` (predictions.csv), each titled with its true and predicted class."""
    from gridscape.plots.images import plot_predictions

    info = plot_predictions(
        images, table["label"].to_numpy(), table["predicted"].to_numpy(), table["probability"].to_numpy(), classes,
        list(paths), ncols=min(5, len(table)) if len(table) <= 10 else math.ceil(math.sqrt(len(table))),
        title=f"Final model on {len(table)} random test images: {int(table['correct'].sum())} right",
    )
    log.info("test predictions: %d shown, %d wrong", info.notes["shown"], info.notes["wrong"])
