"""The final model: retrained with the best values on train (+ val), then tested once. Both
steps read the resolved settings of ``final/config.json`` (see ``resolve``)."""

from __future__ import annotations

import json
from contextlib import nullcontext
from typing import Mapping

import pandas as pd
import torch

from gridscape import io
from gridscape.checkpoint import CheckpointPlace, open_checkpoint
from gridscape.device import resolve_device
from gridscape.study import (
    TrainedModel, applied_statistics, final_subsets, load_dataset, load_model, model_statistics, normalisation_path,
    read_split, to_tensors, train_on_split, write_statistics,
)
from gridscape.train import evaluate

from .resolve import NORMALISATION_KEY


def run_final(
    final: Mapping, data_path: str, split_path: str, model_path: str, init_path: str, history_path: str,
    checkpoint: CheckpointPlace | None = None,
) -> TrainedModel:
    """Retrain with the best values on train (+ val) and write θ0, θ* and the history; with
    a ``checkpoint`` place, resume from and write checkpoints there."""
    config, params, train_on = final["config"], dict(final["params"]), final["train_on"]
    checkpointer = open_checkpoint(checkpoint, final, [data_path, split_path])
    data = load_dataset(data_path, config["dataset"]["name"])
    with checkpointer or nullcontext():
        trained = train_on_split(
            config, data, read_split(split_path), final_subsets(train_on), "test", checkpointer=checkpointer,
            record_initial=False,  # evaluate_final measures θ0 on the test set from init.safetensors
        )
    if trained.result.status != "ok":
        raise RuntimeError(
            f"the final model diverged with the best values {params} (loss "
            f"{trained.result.history[-1]['train_loss']}) when trained on {train_on}; "
            "see the train_final log, and consider the runner-up values or a smaller learning rate"
        )
    meta = {"params": json.dumps(params)}
    io.write_safetensors(init_path, trained.initial_state, meta)
    io.write_safetensors(model_path, trained.model.state_dict(), meta)
    if config["train"]["normalization"] == "pixel" or NORMALISATION_KEY in params:
        # the statistics every later step normalises with (pixel), or, where the search chose
        # another normalisation, those it applies, for the file the workflow then expects
        write_statistics(normalisation_path(model_path), applied_statistics(config["train"], data, trained.statistics),
                         {**meta, "normalization": config["train"]["normalization"], "train_on": train_on})
    io.write_csv(history_path, pd.DataFrame(trained.result.history))
    if checkpointer is not None:
        checkpointer.clear()
    return trained


def run_evaluate(final: Mapping, data_path: str, model_path: str, metrics_path: str, init_path: str | None = None) -> dict:
    """Test loss and accuracy of the final model, with the count of test images; with
    ``init_path`` (θ0) also those of its initial weights, initial_test_loss and _acc."""
    config = final["config"]
    device = resolve_device(config["device"])
    data = load_dataset(data_path, config["dataset"]["name"])
    test = to_tensors(data, "test", None, device, config["train"], model_statistics(config["train"], model_path))
    batch_size = int(config["train"]["eval_batch_size"])
    initial = {}
    if init_path is not None:
        initial_loss, initial_acc = evaluate(load_model(config, data, init_path, device), test, batch_size)
        initial = {"initial_test_loss": initial_loss, "initial_test_acc": initial_acc}
    loss, acc = evaluate(load_model(config, data, model_path, device), test, batch_size)
    metrics = {
        "test_loss": loss,
        "test_acc": acc,
        **initial,
        "n_test": len(test),
        "params": dict(final["params"]),
        "device": str(device),
        "threads": torch.get_num_threads(),
    }
    io.write_json(metrics_path, metrics)
    return metrics
