"""Which images the landscape is evaluated on, and the fixed random subset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from gridscape.data import PreparedData
from gridscape.study import final_subsets, training_indices


@dataclass(frozen=True)
class Selection:
    part: str  # 'train' (indices into the official training set) or 'test'
    indices: np.ndarray  # sorted dataset indices of the images used
    available: int  # images before taking a subset
    subset: bool  # True only when fewer images than available are used
    requested: int | None = None  # the configured subset_size (None: all images asked for)

    def frame(self, labels: np.ndarray) -> pd.DataFrame:
        """The subset_indices.csv table: dataset index, its label and the part it is from."""
        return pd.DataFrame({"index": self.indices, "label": np.asarray(labels)[self.indices], "part": self.part})

    def describe(self) -> dict:
        out = {"part": self.part, "n_images": int(len(self.indices)), "available": int(self.available), "subset": self.subset}
        if self.requested is not None:
            out["subset_size"] = int(self.requested)
        return out


def select(landscape: Mapping, data: PreparedData, split: pd.DataFrame, train_on: str) -> Selection:
    """The images of ``landscape.data``, reduced to ``subset_size`` drawn with ``subset_seed``.

    'train' is exactly what the final model was trained on (train, or train + val); 'test' is
    the official test set. The subset is a uniform draw without replacement, sorted. A
    ``subset_size`` of at least the available count uses every image: no subset then.
    """
    if landscape["data"] == "train":
        base = training_indices(split, final_subsets(train_on))
    elif landscape["data"] == "test":
        base = np.arange(len(data.test_labels))
    else:
        raise ValueError(f"config key landscape.data: {landscape['data']!r}; expected train or test")
    size = landscape.get("subset_size")
    size = None if size is None else int(size)
    if size is None or size >= len(base):
        return Selection(landscape["data"], base, len(base), False, size)
    rng = np.random.default_rng(int(landscape["subset_seed"]))
    positions = np.sort(rng.choice(len(base), size=size, replace=False))
    return Selection(landscape["data"], base[positions], len(base), True, size)
