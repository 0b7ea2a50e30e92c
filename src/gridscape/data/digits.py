"""scikit-learn's bundled 8x8 digits, made to look like a small image dataset.

It needs no download, which makes it the dataset for quick runs and tests. Images are scaled
from 0..16 to 0..255 and upsampled bilinearly to 32x32 so that models built for 32x32 inputs
apply unchanged. It has no official test set, so a fixed stratified 80/20 split plays that role.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from gridscape.data.raw import RawData

SIZE = (32, 32)
TEST_SIZE = 0.2
SPLIT_SEED = 0


def read_digits(files: Mapping[str, Path]) -> RawData:
    """Deterministic train/test split of the 1797 digits; ``files`` is empty (nothing to read)."""
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import StratifiedShuffleSplit

    bunch = load_digits()
    small = torch.from_numpy(bunch.images.astype(np.float64) * (255.0 / 16.0))[:, None]
    large = torch.nn.functional.interpolate(small, size=SIZE, mode="bilinear", align_corners=False).numpy()
    images = np.clip(np.rint(large), 0, 255).astype(np.uint8)
    labels = bunch.target.astype(np.int64)

    splitter = StratifiedShuffleSplit(n_splits=1, test_size=TEST_SIZE, random_state=SPLIT_SEED)
    train, test = next(splitter.split(np.zeros(len(labels)), labels))
    train, test = np.sort(train), np.sort(test)  # keep the original order within each split
    classes = [str(name) for name in bunch.target_names]
    return RawData(images[train], labels[train], images[test], labels[test], classes)
