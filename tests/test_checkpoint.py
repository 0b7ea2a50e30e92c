"""Checkpoints: a training loop stopped at any step boundary and resumed gives the weights,
history, gradient flow and best epoch of a run never stopped, bit for bit; a checkpoint from
other settings, code or inputs is refused, saying why; the file is one safetensors file."""

import json
import logging
import os
import signal

import pytest
import torch
from safetensors import safe_open

from gridscape.checkpoint import (
    FILE_NAME,
    STATE_KEY,
    Checkpointer,
    CheckpointPlace,
    StoppedForCheckpoint,
    fingerprint,
    open_checkpoint,
)
from gridscape.gradient_flow import GradientFlow
from gridscape.train import seed_everything, train
from gridscape.train_fused import train_fused
from test_fused import config_with, new_model, tiny_data

N_IMAGES, BATCH = 96, 16  # 6 steps an epoch
STEPS = N_IMAGES // BATCH


def data():
    return tiny_data(N_IMAGES, seed=0), tiny_data(48, seed=1)


def mlp():
    """Dropout draws from torch's global generator: its state must be in the checkpoint too."""
    seed_everything(5)
    return torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(784, 24), torch.nn.ReLU(), torch.nn.Dropout(0.3), torch.nn.Linear(24, 3)
    )


OPTIMIZERS = {
    "sgd-cosine": {"name": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4, "schedule": "cosine", "min_lr": 1e-4},
    "adam": {"name": "adam", "lr": 0.003, "momentum": 0.0, "weight_decay": 1e-4, "schedule": "constant", "min_lr": 0.0},
}
TRAIN = {"seed": 3, "batch_size": BATCH, "epochs": 3, "eval_batch_size": 32, "augmentation": ["hflip", "shift5"],
         "channels_last": False}


def place(tmp_path, every_minutes=0.0):
    return CheckpointPlace(tmp_path / "checkpoints" / "train_pack" / "p0", every_minutes)


def stop_at(checkpointer: Checkpointer, boundary: int) -> None:
    """Send this process SIGTERM at the ``boundary``-th step boundary the loop reaches, as
    SLURM does before a time limit: through the real signal handler."""
    due, seen = checkpointer.due, []

    def due_after_signal(epoch_end):
        seen.append(epoch_end)
        if len(seen) == boundary:
            os.kill(os.getpid(), signal.SIGTERM)
        return due(epoch_end)

    checkpointer.due = due_after_signal


def without_seconds(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def run_train(optimizer, checkpointer=None):
    model = mlp()
    flow = GradientFlow(model)
    train_data, eval_data = data()
    if checkpointer is None:
        result = train(model, train_data, eval_data, optimizer, TRAIN, progress=False, gradient_flow=flow, keep_best=True)
    else:
        with checkpointer:
            result = train(model, train_data, eval_data, optimizer, TRAIN, progress=False, gradient_flow=flow,
                           keep_best=True, checkpointer=checkpointer)
    return model, result, flow


# Boundaries: 3 is mid-epoch 1, 6 is the end of epoch 1 (its last step is not a mid-epoch
# boundary: the epoch-end checkpoint follows), 9 is mid-epoch 2 after one resumed epoch.
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("boundary, position", [(3, (1, 3)), (6, (2, 0)), (9, (2, 3))])
def test_a_stopped_and_resumed_run_equals_the_uninterrupted_one_bit_for_bit(tmp_path, caplog, optimizer, boundary, position):
    opt = OPTIMIZERS[optimizer]
    whole_model, whole, whole_flow = run_train(opt)
    stopped = Checkpointer(place(tmp_path), fingerprint({"run": 1}, []))
    stop_at(stopped, boundary)
    with pytest.raises(StoppedForCheckpoint) as stop:
        run_train(opt, stopped)
    assert stop.value.code == 128 + signal.SIGTERM
    with safe_open(str(stopped.path), framework="pt") as handle:
        state = json.loads(handle.metadata()[STATE_KEY])
    assert (state["position"]["epoch"], state["position"]["step"]) == position
    assert len(state["history"]) == position[0] - 1
    caplog.set_level(logging.INFO, logger="gridscape")
    model, result, flow = run_train(opt, Checkpointer(place(tmp_path), fingerprint({"run": 1}, [])))
    assert f"at epoch {position[0]}, step {position[1]} of {STEPS}" in caplog.text
    for name, tensor in whole_model.state_dict().items():
        assert torch.equal(model.state_dict()[name], tensor), name
    assert without_seconds(result.history) == without_seconds(whole.history)
    assert [list(row) for row in result.history] == [list(row) for row in whole.history]  # the CSV's column order
    assert len(result.history) == TRAIN["epochs"]
    assert flow.rows == whole_flow.rows
    assert result.best_epoch == whole.best_epoch
    for name, tensor in whole.best_state.items():
        assert torch.equal(result.best_state[name], tensor), name


@pytest.mark.parametrize("boundary", [2, 6, 8])
def test_fused_training_resumes_bit_for_bit(tmp_path, boundary):
    configs = [config_with(lr, m, seed, epochs=3, augmentation=("hflip",)) for lr, m, seed in
               [(0.05, 0.0, 1), (0.02, 0.8, 1), (0.05, 0.5, 7)]]
    train_data, eval_data = data()

    def run(checkpointer=None):
        return train_fused(
            [new_model(c) for c in configs], [c["optimizer"] for c in configs], [c["train"]["seed"] for c in configs],
            train_data, eval_data, configs[0]["train"], progress=False, checkpointer=checkpointer,
        )

    whole_results, whole_states = run()
    stopped = Checkpointer(place(tmp_path), fingerprint({"pack": 1}, []))
    stop_at(stopped, boundary)
    with pytest.raises(StoppedForCheckpoint), stopped:
        run(stopped)
    resumed = Checkpointer(place(tmp_path), fingerprint({"pack": 1}, []))
    with resumed:
        results, states = run(resumed)
    for whole_result, result in zip(whole_results, results):
        assert without_seconds(result.history) == without_seconds(whole_result.history)
        assert len(result.history) == 3
    for whole_state, state in zip(whole_states, states):
        for name, tensor in whole_state.items():
            assert torch.equal(state[name], tensor), name


def test_every_minutes_writes_mid_epoch_checkpoints(tmp_path):
    checkpointer = Checkpointer(place(tmp_path, every_minutes=1e-9), fingerprint({}, []))
    positions = []
    save = checkpointer.save
    checkpointer.save = lambda tensors, state: (positions.append(tuple(state["position"].values())), save(tensors, state))
    run_train(OPTIMIZERS["adam"], checkpointer)
    assert positions[:STEPS] == [(1, step) for step in range(1, STEPS)] + [(2, 0)]
    assert len(positions) == TRAIN["epochs"] * STEPS


def saved_checkpoint(tmp_path, settings=None, inputs=()):
    """A checkpoint after one epoch, for the fingerprint ``settings`` and ``inputs``."""
    checkpointer = Checkpointer(place(tmp_path), fingerprint(settings or {"lr": 0.05}, inputs))
    stop_at(checkpointer, STEPS)
    with pytest.raises(StoppedForCheckpoint):
        run_train(OPTIMIZERS["adam"], checkpointer)
    return checkpointer.path


def test_a_checkpoint_of_other_settings_is_refused_saying_why(tmp_path, caplog):
    path = saved_checkpoint(tmp_path)
    caplog.set_level(logging.INFO, logger="gridscape")
    _, result, _ = run_train(OPTIMIZERS["adam"], Checkpointer(place(tmp_path), fingerprint({"lr": 0.1}, [])))
    assert f"checkpoint {path} was written for other settings (the job's config changed): not used" in caplog.text
    assert "resuming" not in caplog.text
    assert len(result.history) == TRAIN["epochs"]


def test_a_checkpoint_of_other_inputs_is_refused_naming_the_file(tmp_path, caplog):
    split = tmp_path / "split.csv"
    split.write_text("index,subset\n0,train\n")
    saved_checkpoint(tmp_path, inputs=[split])
    split.write_text("index,subset\n0,val\n")
    caplog.set_level(logging.INFO, logger="gridscape")
    assert Checkpointer(place(tmp_path), fingerprint({"lr": 0.05}, [split])).load() is None
    assert f"other input files ({split})" in caplog.text


def test_a_checkpoint_of_other_code_is_refused(tmp_path, caplog):
    saved_checkpoint(tmp_path)
    other_code = {**fingerprint({"lr": 0.05}, []), "code": "0" * 64}
    caplog.set_level(logging.INFO, logger="gridscape")
    assert Checkpointer(place(tmp_path), other_code).load() is None
    assert "another version of gridscape's code or of torch" in caplog.text


def test_a_truncated_checkpoint_is_refused(tmp_path, caplog):
    path = saved_checkpoint(tmp_path)
    path.write_bytes(path.read_bytes()[:200])
    caplog.set_level(logging.INFO, logger="gridscape")
    assert Checkpointer(place(tmp_path), fingerprint({"lr": 0.05}, [])).load() is None
    assert "is unreadable" in caplog.text


def test_the_checkpoint_is_one_safetensors_file_and_clear_removes_its_folders(tmp_path):
    path = saved_checkpoint(tmp_path)
    assert path.name == FILE_NAME and sorted(p.name for p in path.parent.iterdir()) == [FILE_NAME]
    with safe_open(str(path), framework="pt") as handle:
        names = set(handle.keys())
    assert {"rng.torch", "rng.generator.0", "model.1.weight", "optimizer.0.exp_avg"} <= names
    Checkpointer(place(tmp_path), {}).clear()
    assert not (tmp_path / "checkpoints" / "train_pack").exists()
    assert (tmp_path / "checkpoints").exists()  # other jobs' folders live beside it


def test_without_a_place_there_is_no_checkpointer():
    assert open_checkpoint(None, {"a": 1}, []) is None


def test_the_settings_digest_ignores_key_order():
    assert fingerprint({"a": 1, "b": [1, 2]}, []) == fingerprint({"b": [1, 2], "a": 1}, [])
    assert fingerprint({"a": 1}, [])["settings"] != fingerprint({"a": 2}, [])["settings"]
