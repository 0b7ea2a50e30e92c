"""The named experiments' results table (results.csv), checked against their histories.
Torch-free: the job that writes it starts in well under a second."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import pandas as pd

METRICS = ("train_loss", "train_acc", "val_loss", "val_acc")
INITIAL_METRICS = ("initial_train_loss", "initial_train_acc", "initial_val_loss", "initial_val_acc")
# the training images and the tested model on them in eval mode without augmentation: the
# honest training accuracy for a gap to the test accuracy (the history's is a running mean
# under augmentation while the weights move)
TRAIN_EVAL_METRICS = ("n_train", "train_eval_loss", "train_eval_acc")
# columns added later come last: the columns before them keep their places
RESULT_COLUMNS = (
    "experiment", "label", "lr", "parameters", "status", "epochs_run", "test_epoch",
    *METRICS, "test_loss", "test_acc", *(f"last_{m}" for m in METRICS), "seconds", "device", *INITIAL_METRICS,
    *TRAIN_EVAL_METRICS,
)



def results_table(metrics: Sequence[Mapping[str, Any]], labels: Sequence[str] | None = None) -> pd.DataFrame:
    """results.csv: one row per experiment, in the config's order; ``labels`` (the config's
    current ones) replace those recorded at training time."""
    # a metrics.json written before the later columns existed has none: NaN, not a crash
    later = (*INITIAL_METRICS, *TRAIN_EVAL_METRICS)
    table = pd.DataFrame(
        [{column: row.get(column, math.nan) if column in later else row[column] for column in RESULT_COLUMNS}
         for row in metrics],
        columns=RESULT_COLUMNS,
    )
    if labels is not None:
        table["label"] = list(labels)
    return table


def check_table_against_histories(table: pd.DataFrame, histories: Mapping[str, pd.DataFrame]) -> None:
    """Each row's numbers are those of its history at the tested and the last epoch."""
    for _, row in table.iterrows():
        history = histories[row["experiment"]]
        for prefix, epoch in (("", int(row["test_epoch"])), ("last_", len(history))):
            for metric in METRICS:
                expected, got = float(history[metric].iloc[epoch - 1]), float(row[prefix + metric])
                if not (expected == got or (math.isnan(expected) and math.isnan(got))):
                    raise ValueError(
                        f"results of {row['experiment']}: {prefix}{metric} {got} differs from its history "
                        f"({expected} at epoch {epoch})"
                    )
