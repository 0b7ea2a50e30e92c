"""The training job of random and staged search: a few trials of one stage trained one after
another in one job (``search.trials_per_job``), each exactly as if alone: its own config from
its plan row, seeded from ``train.seed``, trained on the split's train part and validated every
epoch. Each trial's history.csv and metrics.json go under the job's folder."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd
import torch

from gridscape import io
from gridscape.config.keys import with_values
from gridscape.study import load_dataset, read_split, train_on_split

from .best import cell_summary
from .space import run_params

log = logging.getLogger(__name__)


def trial_config(config: Mapping, space: Mapping[str, Any], row: Mapping[str, Any]) -> tuple[dict, dict]:
    """The whole config one trial trains with (the stage's epochs, then the plan row's values
    on top), and the values its row sets."""
    values = run_params(space["params"], row)
    return with_values(with_values(config, {"train.epochs": int(space["epochs"])}), values), values


def run_trials(
    config: Mapping, space_path: str, plan_path: str, trials: Sequence[str], data_path: str, split_path: str,
    out_dir: str,
) -> list[dict]:
    """Train ``trials`` (names in the stage's plan) and write ``out_dir/<trial>/history.csv``
    and ``metrics.json`` (the trial's trials.csv values, its settings under ``params``, and
    its loss and accuracy before the first step). The folder appears whole or not at all."""
    space = io.read_json(space_path)
    plan = io.read_csv_exact(plan_path).set_index("trial", drop=False)
    unknown = [name for name in trials if name not in plan.index]
    if unknown:
        raise ValueError(f"{plan_path} has no row for the trials {', '.join(unknown)}")
    data = load_dataset(data_path, config["dataset"]["name"])
    split = read_split(split_path)
    summaries = []
    with io.atomic_directory(out_dir) as tmp_dir:
        for name in trials:
            settings, values = trial_config(config, space, plan.loc[name])
            log.info("trial %s (stage %d, %d epochs): %s", name, space["stage"], settings["train"]["epochs"], values)
            trained = train_on_split(settings, data, split, ["train"], "val")
            result = trained.result
            seconds = sum(row["seconds"] for row in result.history)
            summary = {
                "trial": name, "stage": int(space["stage"]),
                **cell_summary({}, result.history, result.status, seconds),
                "epochs_run": len(result.history),
            }
            trial_dir = Path(tmp_dir) / name
            io.write_csv(trial_dir / "history.csv", pd.DataFrame(result.history))
            io.write_json(trial_dir / "metrics.json", {
                **summary, "params": values, **result.initial,
                "threads": torch.get_num_threads(), "device": str(next(trained.model.parameters()).device)})
            summaries.append(summary)
            log.info("trial %s: %s %s", name, result.status, {k: summary[k] for k in ("val_loss", "val_acc")})
    return summaries
