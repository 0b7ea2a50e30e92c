"""The data-size figure (NUS CS5242 assignment 2, question 5): the gap between training and test
accuracy against the number of training images on a log axis, with error bars over repeats,
beside the two accuracies. From experiments/scaling.csv; no torch."""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np
import pandas as pd

from gridscape.plots.style import OKABE_ITO, FigureInfo, new_figure, save_figure, styled

PathList = Sequence[str | os.PathLike]


def _errors(values: pd.Series) -> np.ndarray:
    return np.nan_to_num(values.to_numpy(dtype=float), nan=0.0)


@styled
def plot_scaling(table: pd.DataFrame, paths: PathList, chance: float) -> FigureInfo:
    """Left: train acc - test acc against n_train (log x), mean ± std; right: both accuracies."""
    fig = new_figure(10.0, 4.0)
    gap_ax, acc_ax = fig.subplots(1, 2)
    if table.empty:  # every run diverged: say so instead of failing the workflow
        for ax in (gap_ax, acc_ax):
            ax.text(0.5, 0.5, "no run finished", ha="center", va="center", transform=ax.transAxes)
        fig.suptitle("Accuracy against the amount of training data")
        return save_figure(fig, paths)
    n = table["n_train"].to_numpy(dtype=float)
    gap_ax.errorbar(n, 100 * table["gap_mean"], yerr=100 * _errors(table["gap_std"]), marker="o", capsize=3,
                    color=OKABE_ITO[5])
    gap_ax.axhline(0.0, color="0.4", linewidth=0.8)
    gap_ax.set_ylabel("training accuracy − test accuracy (points)")
    gap_ax.set_title("The generalisation gap")
    for column, label, colour in (("train_acc", "training (eval mode)", OKABE_ITO[0]), ("test_acc", "test", OKABE_ITO[1])):
        acc_ax.errorbar(n, 100 * table[f"{column}_mean"], yerr=100 * _errors(table[f"{column}_std"]), marker="o",
                        capsize=3, color=colour, label=label)
    acc_ax.axhline(100 * chance, color="0.4", linestyle=":", linewidth=1.0, label="chance")
    acc_ax.set_ylabel("accuracy (%)")
    acc_ax.set_title("Accuracy")
    acc_ax.legend()
    for ax in (gap_ax, acc_ax):
        ax.set_xscale("log")
        ax.set_xlabel("training images (log scale)")
        ax.grid(True)
    fig.suptitle("Accuracy against the amount of training data (mean ± standard deviation over repeats)")
    return save_figure(fig, paths)
