"""Named experiments: one training run each, its gradient flow and its test, and the results table.

A study that lists ``experiments.runs`` compares a few hand-picked settings (VGG_08 against
VGG_38 with and without BatchNorm and residual connections, in the MLP coursework) instead of
searching a grid. Each experiment trains on the train split, is validated every epoch, and the
model of the epoch that ``experiments.test_epoch`` names is tested once.
"""

from __future__ import annotations

import json
import logging
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd
import torch

from . import io
from .checkpoint import CheckpointPlace, open_checkpoint
from .kinds.base import Run
from .device import resolve_device
from .models import count_parameters
from .study import load_dataset, read_split, to_tensors, train_on_split
from .train import evaluate
# the results table lives in a torch-free module (its job starts fast); re-exported here
from .experiment_results import (  # noqa: F401
    INITIAL_METRICS, METRICS, RESULT_COLUMNS, TRAIN_EVAL_METRICS, check_table_against_histories, results_table,
)

log = logging.getLogger(__name__)

def chosen_epoch(history: Sequence[Mapping[str, Any]], best_epoch: int | None, rule: str) -> int:
    """The epoch whose model is tested: the best by validation accuracy, or the last one."""
    if rule == "best_val_acc" and best_epoch is not None:
        return best_epoch
    return len(history)


def run_experiment(
    config: Mapping, experiment: Run, data_path: str, split_path: str,
    history_path: str, gradient_flow_path: str, model_path: str, metrics_path: str,
    checkpoint: CheckpointPlace | None = None,
) -> dict:
    """Train, record and test one experiment; write its four files, and in a study that draws
    subsets (``experiments.train_indices``, set by the workflow) the images it trained on,
    train_indices.csv beside them.
    Returns its metrics. With a ``checkpoint`` place, the training resumes from and writes
    checkpoints there."""
    run_config = experiment.apply(config)
    rule = run_config["experiments"]["test_epoch"]
    checkpointer = open_checkpoint(
        checkpoint, {"experiment": experiment.name, "params": experiment.params, "config": config}, [data_path, split_path]
    )
    data = load_dataset(data_path, run_config["dataset"]["name"])
    with checkpointer or nullcontext():
        trained = train_on_split(
            run_config, data, read_split(split_path), ["train"], "val",
            record_gradients=True, keep_best=rule == "best_val_acc", checkpointer=checkpointer,
        )
    history = trained.result.history
    epoch = chosen_epoch(history, trained.result.best_epoch, rule)
    if rule == "best_val_acc" and trained.result.best_epoch is None:
        rule = "last"  # no epoch had a finite validation loss: say what was tested
        log.warning("experiment %s: no epoch had a finite validation loss; testing the last one", experiment.name)
    model = trained.model
    if epoch != len(history):
        model.load_state_dict(trained.result.best_state)
    device = resolve_device(run_config["device"])
    test = to_tensors(data, "test", None, device, run_config["train"], trained.statistics)
    test_loss, test_acc = evaluate(model, test, int(run_config["train"]["eval_batch_size"]))
    train_eval_loss, train_eval_acc = evaluate(model, trained.train_data, int(run_config["train"]["eval_batch_size"]))
    chosen, last = history[epoch - 1], history[-1]
    metrics = {
        "experiment": experiment.name,
        "label": experiment.label,
        "settings": dict(experiment.params),
        "lr": run_config["optimizer"]["lr"],
        "parameters": count_parameters(model),
        "status": trained.result.status,
        "epochs_run": len(history),
        "test_epoch_rule": rule,
        "test_epoch": epoch,
        **{m: chosen[m] for m in METRICS},
        "test_loss": test_loss,
        "test_acc": test_acc,
        **{f"last_{m}": last[m] for m in METRICS},
        **trained.result.initial,
        "n_train": len(trained.train_data),
        "train_eval_loss": train_eval_loss,
        "train_eval_acc": train_eval_acc,
        "seconds": trained.result.seconds,
        "n_test": len(test),
        "device": str(device),
        "threads": torch.get_num_threads(),
    }
    meta = {"experiment": experiment.name, "epoch": str(epoch), "settings": json.dumps(experiment.params)}
    # beside metrics.json, so that the rule's script (a rerun trigger) stays as it was
    indices_path = Path(metrics_path).with_name("train_indices.csv") if config["experiments"].get("train_indices") else None
    paths = [history_path, gradient_flow_path, model_path, metrics_path, *([indices_path] if indices_path else [])]
    with io.atomic_paths(paths) as written:
        h, g, m, j = written[:4]
        io.write_csv(h, pd.DataFrame(history))
        io.write_csv(g, trained.gradient_flow.frame())
        io.write_safetensors(m, model.state_dict(), meta)
        io.write_json(j, metrics)
        if indices_path:
            io.write_csv(written[4], pd.DataFrame({"index": trained.train_indices,
                                                   "label": data.train_labels[trained.train_indices]}))
    if checkpointer is not None:
        checkpointer.clear()
    return metrics
