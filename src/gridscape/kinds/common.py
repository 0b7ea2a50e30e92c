"""What every kind of study on a dataset shares: its config sections, the data's result files
and figures, and the report's two files."""

from __future__ import annotations

from typing import Mapping

from .base import figure, result


def augments(config: Mapping) -> bool:
    """The study trains with augmentation."""
    return bool(config["train"]["augmentation"])


# The sections a study that trains on a dataset reads.
# checkpoint: how often training jobs write their checkpoints (never a rerun trigger).
DATASET_SECTIONS = frozenset({"dataset", "split", "model", "optimizer", "train", "device", "figures", "checkpoint"})

DATA_OUTPUTS = (
    result("data/class_counts.csv", "class_counts_table", "Data", "Split", "images per class (table)"),
    figure("gallery", "Data", "Images", "training images"),
    figure("class_counts", "Data", "Split", "images per class (figure)"),
    figure("augmentation", "Data", "Augmentation", "augmented images"),
    figure("augmentation_training", "Data", "Augmentation", "training augmentations", when=augments),
)
REPORT_OUTPUTS = (
    result("report/report.tex"),
    result("report/report.pdf", "report_pdf", "Report", label="written report (PDF)"),
)
