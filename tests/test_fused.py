"""Fused training gives each model what its separate run gives; packs plan the grid's jobs."""

import dataclasses

import numpy as np
import pytest
import torch

from gridscape.config import validate
from gridscape.kinds.search import grid_cells
from gridscape.data.loader import TensorData
from gridscape.fused import FusionError, fuse, unfuse_state
from gridscape.models import build_model
from gridscape.search.packs import plan_packs
from gridscape.train import seed_everything, train
from gridscape.train_fused import train_fused


def tiny_data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    images = rng.integers(0, 60, (n, 1, 28, 28)).astype(np.uint8)
    for c in range(3):
        images[labels == c, :, c * 9 : c * 9 + 9, :] += 150
    return TensorData.from_arrays(images, labels, [0.3], [0.3], torch.device("cpu"))


def config_with(lr, momentum, seed, epochs=2, augmentation=()):
    return validate({
        "study": "t",
        "optimizer": {"lr": lr, "momentum": momentum},
        "train": {"seed": seed, "batch_size": 16, "epochs": epochs, "augmentation": list(augmentation)},
    })


def new_model(config):
    seed_everything(config["train"]["seed"])
    return build_model(config["model"], (1, 28, 28), 3)


# float64 shows that fused training does the same arithmetic as separate runs: they agree to
# 1e-9 however the models share their batches. In float32 they agree only as far as rounding
# lets them: a difference in the last bit can move a max-pool's choice, which then grows from
# step to step (after 12 augmented steps up to 5e-4 on one CPU, 1e-8 on another), so float32
# is checked on the unaugmented runs, whose differences stay at rounding level.
@pytest.mark.parametrize(
    "augmentation, seeds, dtype",
    [
        ((), (1, 1, 7), torch.float32),
        # seeds (3, 3, 3): one shared batch stream, read once by a dense first convolution
        ((), (3, 3, 3), torch.float32),
        ((), (1, 1, 7), torch.float64),
        (("hflip", "shift5"), (1, 1, 7), torch.float64),
        ((), (3, 3, 3), torch.float64),
    ],
)
def test_fused_training_matches_separate_runs(augmentation, seeds, dtype):
    exact = dtype == torch.float64
    loss_tolerance = dict(rel=1e-9, abs=1e-12) if exact else dict(rel=1e-4, abs=1e-5)
    state_tolerance = dict(rtol=1e-9, atol=1e-12) if exact else dict(rtol=1e-3, atol=1e-4)
    configs = [config_with(lr, m, seed, augmentation=augmentation) for (lr, m), seed in zip([(0.05, 0.0), (0.02, 0.8), (0.05, 0.5)], seeds)]
    train_data, eval_data = (dataclasses.replace(tiny_data(seed=s), dtype=dtype) for s in (0, 1))
    separate = []
    for config in configs:
        model = new_model(config).to(dtype)
        result = train(model, train_data, eval_data, config["optimizer"], config["train"], progress=False)
        separate.append((result, model.state_dict()))
    results, states = train_fused(
        [new_model(c).to(dtype) for c in configs], [c["optimizer"] for c in configs], [c["train"]["seed"] for c in configs],
        train_data, eval_data, configs[0]["train"], progress=False,
    )
    for (alone, alone_state), together, state in zip(separate, results, states):
        assert together.status == alone.status == "ok"
        assert len(together.history) == len(alone.history) == 2
        for row_alone, row_together in zip(alone.history, together.history):
            for key in ("train_loss", "val_loss"):
                assert row_together[key] == pytest.approx(row_alone[key], **loss_tolerance)
            for key in ("train_acc", "val_acc"):
                assert row_together[key] == pytest.approx(row_alone[key], abs=1e-12 if exact else 1.5 / 96)
        assert set(state) == set(alone_state)
        for name, tensor in alone_state.items():
            assert state[name].shape == tensor.shape and state[name].dtype == dtype
            assert torch.allclose(state[name], tensor, **state_tolerance), name


def test_fuse_then_unfuse_returns_each_model_exactly():
    models = [build_model({"name": "lenet5", "activation": "relu"}, (3, 32, 32), 10) for _ in range(3)]
    fused = fuse(models)
    x = torch.randn(4, 3, 32, 32)
    out = fused(x.repeat(1, 3, 1, 1))
    assert out.shape == (3, 4, 10)  # model-major
    for k, model in enumerate(models):
        assert torch.allclose(out[k], model(x), atol=1e-5)
        state = unfuse_state(fused, model, k, 3)
        assert all(torch.equal(state[n], t) for n, t in model.state_dict().items())


def test_unsupported_module_names_itself():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Dropout2d(0.1))
    with pytest.raises(FusionError, match="'1' \\(Dropout2d\\).*search.fuse: false"):
        fuse([model, model])


def test_a_diverging_model_does_not_disturb_the_others():
    configs = [config_with(1e4, 0.9, 1, epochs=3), config_with(0.05, 0.5, 1, epochs=3)]
    alone = new_model(configs[1])
    expected = train(alone, tiny_data(), tiny_data(1), configs[1]["optimizer"], configs[1]["train"], progress=False)
    results, _ = train_fused(
        [new_model(c) for c in configs], [c["optimizer"] for c in configs], [1, 1], tiny_data(), tiny_data(1),
        configs[0]["train"], progress=False,
    )
    assert results[0].status == "diverged" and len(results[0].history) < 3
    assert results[1].status == "ok" and len(results[1].history) == 3
    assert results[1].history[-1]["val_loss"] == pytest.approx(expected.history[-1]["val_loss"], rel=1e-4)


def test_a_shorter_run_is_exactly_the_prefix_of_a_longer_one():
    short = config_with(0.05, 0.5, 3, epochs=2)
    long = config_with(0.05, 0.5, 3, epochs=4)
    run = lambda c: train(new_model(c), tiny_data(), tiny_data(1), c["optimizer"], c["train"], progress=False).history
    strip = lambda history: [{k: v for k, v in row.items() if k != "seconds"} for row in history]
    assert strip(run(long)[:2]) == strip(run(short))


def test_packs_share_runs_across_fusable_and_epoch_axes():
    config = validate({"study": "t", "search": {"axes": [
        {"key": "train.epochs", "values": [10, 30, 50]}, {"key": "optimizer.lr", "values": [0.1, 0.01, 0.001]}]}})
    fused = plan_packs(config, grid_cells(config), fuse=True)
    assert [p.name for p in fused] == ["all"]
    assert len(fused[0].models) == 3 and sorted(set(fused[0].cell_epochs)) == [10, 30, 50]
    separate = plan_packs(config, grid_cells(config), fuse=False)
    assert [p.name for p in separate] == ["optimizer.lr~0.1", "optimizer.lr~0.01", "optimizer.lr~0.001"]
    assert all(len(p.models) == 1 and len(p.cells) == 3 for p in separate)


def test_batch_size_axis_splits_packs():
    config = validate({"study": "t", "search": {"axes": [
        {"key": "train.batch_size", "values": [64, 640]}, {"key": "optimizer.momentum", "values": [0.2, 0.5, 0.8]}]}})
    packs = plan_packs(config, grid_cells(config), fuse=True)
    assert [p.name for p in packs] == ["train.batch_size~64", "train.batch_size~640"]
    assert [len(p.models) for p in packs] == [3, 3]


def test_shared_input_fusion_equals_the_models():
    models = [build_model({"name": "lenet5", "activation": "relu"}, (3, 32, 32), 10) for _ in range(4)]
    fused = fuse(models, shared_input=True)
    assert fused.features[0].groups == 1 and fused.features[0].in_channels == 3
    x = torch.randn(5, 3, 32, 32)
    out = fused(x)
    for k, model in enumerate(models):
        assert torch.allclose(out[k], model(x), atol=1e-5)
        assert all(torch.equal(t, unfuse_state(fused, model, k, 4)[n]) for n, t in model.state_dict().items())
