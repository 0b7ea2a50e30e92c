"""The training loop's objective: classification is the old loop bit for bit, reconstruction
trains an autoencoder with the same loop, and a bad objective name is a clear error."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from gridscape.data.loader import TensorData
from gridscape.models import build_model
from gridscape.objective import CLASSIFICATION, RECONSTRUCTION_L1, RECONSTRUCTION_MSE, objective_by_name
from gridscape.train import evaluate, evaluate_metrics, make_optimizer, seed_everything, train

# Hand-written rather than config.validate's output, so these tests read only the loop.
OPTIMIZER = {"name": "sgd", "lr": 0.05, "momentum": 0.5, "weight_decay": 1e-3, "schedule": "constant"}


def train_config(**overrides):
    return {"epochs": 3, "batch_size": 32, "eval_batch_size": 64, "seed": 3, "augmentation": [],
            "channels_last": True, **overrides}


def random_images(n, shape, seed, classes=3):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
    labels = rng.integers(0, classes, n)
    return TensorData.from_arrays(images, labels, [0.4], [0.3], torch.device("cpu"))


def old_evaluate(model, data, batch_size):
    """``train.evaluate`` before objectives: cross-entropy and accuracy, hard-wired."""
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64)
    correct = torch.zeros((), dtype=torch.int64)
    with torch.inference_mode():
        for images, labels in data.batches(batch_size):
            logits = model(images)
            loss_sum += nn.functional.cross_entropy(logits, labels, reduction="sum").double()
            correct += (logits.argmax(dim=1) == labels).sum()
    model.train(was_training)
    return float(loss_sum) / len(data), int(correct) / len(data)


def old_train(model, train_data, eval_data, optimizer_config, config):
    """The oracle: ``train.train``'s body before objectives (less progress bar, gradient flow
    and logging), with keep_best on."""
    model = model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model, optimizer_config)
    generator = torch.Generator().manual_seed(int(config["seed"]))
    history, best_epoch, best_state = [], None, None
    for epoch in range(1, config["epochs"] + 1):
        lr = optimizer.param_groups[0]["lr"]
        model.train()
        losses, sizes, predictions, targets = [], [], [], []
        for images, labels in train_data.batches(config["batch_size"], generator, ()):
            logits = model(images)
            loss = nn.functional.cross_entropy(logits, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.detach())
            sizes.append(labels.shape[0])
            predictions.append(logits.detach().argmax(dim=1))
            targets.append(labels)
        loss_sum = 0.0
        for value, size in zip(torch.stack(losses).tolist(), sizes):
            loss_sum += value * size
        correct = int((torch.cat(predictions) == torch.cat(targets)).sum())
        eval_loss, eval_acc = old_evaluate(model, eval_data, config["eval_batch_size"])
        history.append({"epoch": epoch, "train_loss": loss_sum / len(train_data),
                        "train_acc": correct / len(train_data), "val_loss": eval_loss, "val_acc": eval_acc, "lr": lr})
        best_acc = -1.0 if best_epoch is None else history[best_epoch - 1]["val_acc"]
        if math.isfinite(eval_loss) and eval_acc > best_acc:
            best_epoch = epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return history, best_epoch, best_state


def without_seconds(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def test_classification_is_the_old_loop_bit_for_bit():
    """Default, explicit CLASSIFICATION and the old body: the same weights, history (keys in
    the same order), best epoch and evaluation, bit for bit. 200 images in batches of 32 leave
    a short last batch; random labels keep the accuracy moving between epochs."""
    train_data, eval_data = random_images(200, (1, 28, 28), 0), random_images(70, (1, 28, 28), 1)
    seed_everything(0)
    models = [build_model({"name": "lenet5", "activation": "relu"}, (1, 28, 28), 3) for _ in range(3)]
    for twin in models[1:]:
        twin.load_state_dict(models[0].state_dict())
    config = train_config()
    default = train(models[0], train_data, eval_data, OPTIMIZER, config, progress=False, keep_best=True)
    explicit = train(models[1], train_data, eval_data, OPTIMIZER, config, progress=False, keep_best=True,
                     objective=CLASSIFICATION)
    history, best_epoch, best_state = old_train(models[2], train_data, eval_data, OPTIMIZER, config)

    assert len({row["train_loss"] for row in history}) == 3  # three different epochs, not one repeated
    for result, model in ((default, models[0]), (explicit, models[1])):
        assert without_seconds(result.history) == history
        assert [list(row) for row in without_seconds(result.history)] == [list(row) for row in history]
        assert result.best_epoch == best_epoch
        assert all(torch.equal(result.best_state[k], v) for k, v in best_state.items())
        for (name, p), q in zip(model.named_parameters(), models[2].parameters()):
            assert torch.equal(p, q), name
        assert evaluate(model, eval_data, 64) == old_evaluate(models[2], eval_data, 64)
        assert evaluate(model, eval_data, 64, CLASSIFICATION) == old_evaluate(models[2], eval_data, 64)
    loss, acc = old_evaluate(models[2], eval_data, 64)
    assert evaluate_metrics(models[0], eval_data, 64) == {"loss": loss, "acc": acc}


def autoencoder(features, hidden=8):
    return nn.Sequential(nn.Flatten(), nn.Linear(features, hidden), nn.Tanh(), nn.Linear(hidden, features))


def prototype_images(n, seed):
    """Three bright bands plus noise: images an 8-unit bottleneck can learn to reconstruct."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    images = rng.integers(0, 40, (n, 1, 6, 6)).astype(np.uint8)
    for c in range(3):
        images[labels == c, :, 2 * c : 2 * c + 2, :] += 200
    return TensorData.from_arrays(images, labels, [0.4], [0.3], torch.device("cpu"), channels_last=False)


def test_reconstruction_trains_an_autoencoder_with_the_same_loop():
    data = prototype_images(96, 2)
    data.dtype = torch.float64  # so the evaluation can be checked to 1e-12
    seed_everything(0)
    model = autoencoder(36).double()
    config = train_config(epochs=6, batch_size=16, channels_last=False)
    optimizer = {**OPTIMIZER, "name": "adam", "lr": 0.01, "weight_decay": 0.0}
    result = train(model, data, data, optimizer, config, progress=False, keep_best=True, objective=RECONSTRUCTION_L1)

    assert result.status == "ok"
    assert [list(row) for row in result.history] == [["epoch", "train_loss", "val_loss", "lr", "seconds"]] * 6
    losses = [row["val_loss"] for row in result.history]
    assert losses[-1] < 0.8 * losses[0]
    assert result.best_epoch == 1 + int(np.argmin(losses))  # no accuracy: the lowest loss

    x = data.normalise(data.images)
    with torch.no_grad():
        by_hand = (model(x).reshape(x.shape) - x).abs().mean().item()
        squared = ((model(x).reshape(x.shape) - x) ** 2).mean().item()
    assert evaluate_metrics(model, data, 40, RECONSTRUCTION_L1) == {"loss": pytest.approx(by_hand, abs=1e-12)}
    assert evaluate(model, data, 40, RECONSTRUCTION_L1) == (pytest.approx(by_hand, abs=1e-12),)
    assert evaluate_metrics(model, data, 40, RECONSTRUCTION_MSE)["loss"] == pytest.approx(squared, abs=1e-12)


def test_objective_by_name():
    assert objective_by_name("classification") is CLASSIFICATION
    assert objective_by_name("reconstruction_l1") is RECONSTRUCTION_L1
    with pytest.raises(ValueError) as error:
        objective_by_name("regression")
    assert str(error.value) == (
        "unknown objective 'regression'; known objectives: classification, reconstruction_l1, reconstruction_mse"
    )
