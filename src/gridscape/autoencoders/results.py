"""autoencoders/results.csv: one row per run, from the runs' metrics.json (no torch here)."""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import pandas as pd

RESULT_COLUMNS = (
    "run", "architecture", "latent_size", "parameters", "epochs_run", "status", "train_loss", "test_loss",
    "test_loss_median", "dead_latents", "initial_train_loss", "initial_test_loss", "seconds", "n_train", "n_test",
    "device",
)


def results_table(metrics: Sequence[Mapping]) -> pd.DataFrame:
    """One row per run, in the order given (the config's)."""
    return pd.DataFrame([{column: row.get(column, math.nan) for column in RESULT_COLUMNS} for row in metrics],
                        columns=RESULT_COLUMNS)
