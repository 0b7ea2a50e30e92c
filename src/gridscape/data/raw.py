"""The common shape every dataset reader returns, before normalisation statistics are added."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class RawData(NamedTuple):
    """Official train/test split: uint8 images (N, C, H, W), int64 labels, class names in label order."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    classes: list[str]
