"""The LeNet-5 lab's options (seed 003): BatchNorm, Swish, Kaiming initialisation, an L1
penalty, the flip probability and the padded crop; the initial loss of every run; and what
fused training accepts of them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from gridscape.config import ConfigError, validate
from gridscape.data.augment import Augmentation, apply_augmentations, augmentations_of
from gridscape.data.loader import TensorData
from gridscape.kinds.search import grid_cells
from gridscape.models import build_model, count_parameters
from gridscape.search.packs import can_fuse, plan_packs
from gridscape.train import seed_everything, train
from gridscape.train_fused import train_fused


def study(**sections):
    return {"study": "t", **sections}


def tiny_data(n=120, seed=0, classes=3):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    images = rng.integers(0, 60, (n, 3, 32, 32)).astype(np.uint8)
    for c in range(classes):  # class c is bright in its own band of rows
        images[labels == c, :, c * 9 : c * 9 + 9, :] += 150
    return TensorData.from_arrays(images, labels, [0.3] * 3, [0.3] * 3, torch.device("cpu"))


def lenet(**model):
    seed_everything(0)
    return build_model({"name": "lenet5", **model}, (3, 32, 32), 10)


def test_batch_norm_adds_452_parameters_to_lenet5():
    plain, with_bn = lenet(), lenet(batch_norm=True)
    assert count_parameters(plain) == 62_006
    assert count_parameters(with_bn) - count_parameters(plain) == 2 * (6 + 16 + 120 + 84) == 452
    norms = [m for m in with_bn.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    assert [m.num_features for m in norms] == [6, 16, 120, 84]
    assert with_bn(torch.randn(5, 3, 32, 32)).shape == (5, 10)


def test_kaiming_normal_weights_have_std_sqrt_two_over_fan_in():
    model = lenet(init="kaiming_normal")
    default = lenet()
    checked = 0
    for (name, weight), (_, before) in zip(model.named_parameters(), default.named_parameters()):
        if weight.ndim < 2:
            assert torch.equal(weight, before), f"{name}: biases keep their default initialisation"
            continue
        fan_in = weight[0].numel()
        expected = math.sqrt(2 / fan_in)
        assert abs(weight.mean().item()) < 0.1 * expected, name
        if weight.numel() >= 2000:  # enough draws for the sample std to be within 5 %
            assert weight.std().item() == pytest.approx(expected, rel=0.05), name
            checked += 1
        # the default (uniform on +-1/sqrt(fan_in)) has std 1/sqrt(3 fan_in): far from Kaiming's
        assert before.std().item() < 0.6 * expected
    assert checked >= 3


def test_swish_is_x_times_sigmoid_x():
    model = lenet(activation="swish")
    swish = [m for m in model.modules() if isinstance(m, nn.SiLU)]
    assert len(swish) == 4
    x = torch.linspace(-4, 4, 9)
    assert torch.allclose(swish[0](x), x * torch.sigmoid(x))


def test_augmentations_read_flip_p_and_crop_padding():
    config = validate(study(train={"augmentation": ["crop", "hflip"], "flip_p": 0.7, "crop_padding": 3}))
    crop, flip = augmentations_of(config["train"])
    assert (crop.name, crop.padding, flip.name, flip.probability) == ("crop", 3, "hflip", 0.7)
    assert "padded by 3 zero pixels" in crop.describe() and (crop.short(), flip.short()) == ("crop (pad 3)", "hflip (p 0.7)")


def test_padded_crop_shifts_every_image_by_at_most_its_padding():
    images = torch.randint(1, 256, (64, 1, 12, 12), dtype=torch.uint8)
    cropped = apply_augmentations(images, [Augmentation("crop", padding=2)], torch.Generator().manual_seed(0))
    offsets = set()
    for original, crop in zip(images, cropped):
        padded = torch.nn.functional.pad(original, (2, 2, 2, 2))
        matches = [(dy, dx) for dy in range(5) for dx in range(5) if torch.equal(padded[:, dy : dy + 12, dx : dx + 12], crop)]
        assert len(matches) == 1
        offsets.add(matches[0])
    assert {dy for dy, _ in offsets} == set(range(5))  # every shift from -2 to 2 occurs in 64 images


def test_crop_with_padding_4_is_crop4_draw_for_draw():
    images = torch.randint(0, 256, (32, 3, 16, 16), dtype=torch.uint8)
    a = apply_augmentations(images, ["crop4"], torch.Generator().manual_seed(5))
    b = apply_augmentations(images, [Augmentation("crop", padding=4)], torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


@pytest.mark.parametrize("flip_p", [0.2, 0.7])
def test_flip_probability_is_the_fraction_flipped(flip_p):
    images = torch.arange(4096 * 4, dtype=torch.float32).view(4096, 1, 2, 2)
    flipped = apply_augmentations(images, [Augmentation("hflip", probability=flip_p)], torch.Generator().manual_seed(1))
    fraction = (flipped != images).flatten(1).any(1).float().mean().item()
    assert fraction == pytest.approx(flip_p, abs=4 * math.sqrt(flip_p * (1 - flip_p) / 4096))


@pytest.mark.parametrize(
    "config, key, expected",
    [
        (study(train={"flip_p": 0.6}), "train.flip_p", "expected hflip or vflip in train.augmentation"),
        (study(train={"augmentation": ["crop4"], "crop_padding": 3}), "train.crop_padding", "expected crop in train.augmentation"),
        (study(search={"axes": [{"key": "train.flip_p", "values": [0.3, 0.6]}]}), "train.flip_p", "search cell flip_p=0.3"),
        (study(train={"flip_p": 0}), "train.flip_p", "0"),
        (study(train={"augmentation": ["crop"], "crop_padding": 17}), "train.crop_padding", "16"),
        (study(model={"name": "vgg", "batch_norm": True}), "model.batch_norm", "lenet5"),
        (study(model={"init": "xavier"}), "model.init", "kaiming_normal"),
        (study(optimizer={"l1": -1e-4}), "optimizer.l1", "minimum"),
        (study(model={"activation": "mish"}), "model.activation", "swish"),
        (study(kind="experiments", experiments={"runs": [{"name": "a", "set": {"train.crop_padding": 5}}]}),
         "train.crop_padding", "experiments.runs[0]"),
    ],
)
def test_bad_lab_options_name_the_key(config, key, expected):
    with pytest.raises(ConfigError) as error:
        validate(config)
    message = str(error.value)
    assert key in message and expected in message, message


def test_augment_grid_has_both_keys_as_axes_and_trains_a_job_per_cell():
    config = validate(study(
        train={"augmentation": ["crop", "hflip"]},
        search={"axes": [{"key": "train.flip_p", "values": [0.3, 0.4, 0.6, 0.7]},
                         {"key": "train.crop_padding", "values": [3, 6, 10]}]},
    ))
    cells = grid_cells(config)
    assert len(cells) == 12
    assert {(c.params["train.flip_p"], c.params["train.crop_padding"]) for c in cells} == {
        (p, pad) for p in (0.3, 0.4, 0.6, 0.7) for pad in (3, 6, 10)}
    assert len(plan_packs(config, cells, fuse=True)) == 12  # augmentation keys are not fusable


@pytest.mark.parametrize("model, optimizer, fusable", [
    ({}, {}, True),
    ({"activation": "swish", "init": "kaiming_normal"}, {}, True),
    ({"batch_norm": True}, {}, False),
    ({}, {"l1": 1e-4}, False),
])
def test_fused_training_takes_only_what_it_implements(model, optimizer, fusable):
    config = validate(study(model=model, optimizer=optimizer,
                            search={"axes": [{"key": "optimizer.lr", "values": [0.1, 0.01]}]}))
    assert can_fuse(config) is fusable
    packs = plan_packs(config, grid_cells(config), fuse=True)
    assert len(packs) == (1 if fusable else 2)


def test_fused_training_refuses_an_l1_penalty():
    config = validate(study(optimizer={"l1": 1e-4}))
    models = [lenet(), lenet()]
    with pytest.raises(ValueError, match="optimizer.l1"):
        train_fused(models, [config["optimizer"]] * 2, [0, 0], tiny_data(), tiny_data(seed=1), config["train"], progress=False)


@pytest.mark.parametrize("dtype", [torch.float64])
def test_fused_swish_and_kaiming_match_separate_runs(dtype):
    configs = [validate(study(model={"activation": "swish", "init": "kaiming_normal"},
                              optimizer={"lr": lr, "momentum": 0.5},
                              train={"batch_size": 24, "epochs": 2, "seed": 3})) for lr in (0.05, 0.01)]
    train_data, eval_data = (tiny_data(seed=s) for s in (0, 1))
    train_data.dtype = eval_data.dtype = dtype

    def model_of(config):
        seed_everything(config["train"]["seed"])
        return build_model(config["model"], (3, 32, 32), 3).to(dtype)

    separate = [train(model_of(c), train_data, eval_data, c["optimizer"], c["train"], progress=False) for c in configs]
    fused, _ = train_fused([model_of(c) for c in configs], [c["optimizer"] for c in configs], [3, 3],
                           train_data, eval_data, configs[0]["train"], progress=False)
    for alone, together in zip(separate, fused):
        for row_alone, row_together in zip(alone.history, together.history):
            assert row_together["train_loss"] == pytest.approx(row_alone["train_loss"], rel=1e-9)
            assert row_together["val_acc"] == pytest.approx(row_alone["val_acc"], abs=1e-12)
        for key, value in alone.initial.items():
            assert together.initial[key] == pytest.approx(value, rel=1e-9), key


def test_l1_penalty_is_the_gradient_of_l1_times_the_sum_of_abs_weights():
    """One SGD step with the penalty equals one step on the loss with l1 * sum |w| added."""
    config = validate(study(optimizer={"lr": 0.1, "momentum": 0.0, "l1": 0.01},
                            train={"batch_size": 120, "epochs": 1, "channels_last": False}))
    data = tiny_data()
    data.channels_last = False
    model, twin = lenet(), lenet()
    train(model, data, data, config["optimizer"], config["train"], progress=False)
    images, labels = next(data.batches(120, torch.Generator().manual_seed(int(config["train"]["seed"]))))
    weights = [p for p in twin.parameters() if p.ndim > 1]
    loss = nn.functional.cross_entropy(twin(images), labels) + 0.01 * sum(w.abs().sum() for w in weights)
    loss.backward()
    with torch.no_grad():
        for p in twin.parameters():
            p -= 0.1 * p.grad
    for (name, p), q in zip(model.named_parameters(), twin.parameters()):
        assert torch.allclose(p, q, rtol=1e-5, atol=1e-7), name
    # the biases took no penalty: their step is the data loss's alone, unlike the weights'
    alone = lenet()
    alone_loss = nn.functional.cross_entropy(alone(images), labels)
    alone_loss.backward()
    with torch.no_grad():
        for p in alone.parameters():
            p -= 0.1 * p.grad
    for (name, p), q in zip(model.named_parameters(), alone.parameters()):
        assert torch.allclose(p, q, rtol=1e-5, atol=1e-7) == (p.ndim == 1), name


def test_initial_metrics_are_those_of_the_untrained_model_near_ln_c():
    config = validate(study(train={"batch_size": 24, "epochs": 1}))
    data = tiny_data(classes=10, n=400)
    model = lenet()
    untrained_loss = nn.functional.cross_entropy(lenet().eval()(data.normalise(data.images)), data.labels).item()
    result = train(model, data, tiny_data(seed=1, classes=10, n=400), config["optimizer"], config["train"], progress=False)
    assert set(result.initial) == {"initial_train_loss", "initial_train_acc", "initial_val_loss", "initial_val_acc"}
    assert result.initial["initial_train_loss"] == pytest.approx(untrained_loss, rel=1e-6)
    assert abs(result.initial["initial_val_loss"] - math.log(10)) < 0.05
    assert result.history[0]["train_loss"] != result.initial["initial_train_loss"]


def test_the_lab_keys_at_their_defaults_retrain_nothing_that_existed_before():
    """Snakemake reruns a job whose params changed: the training params of a study that does
    not use the lab's keys are those it had before they existed, so its models are kept."""
    import yaml
    from pathlib import Path

    from gridscape.config import load_schema
    from gridscape.config.schema import defaults_of
    from gridscape.config.triggers import training_settings

    defaults = defaults_of(load_schema())
    repo = Path(__file__).resolve().parents[1]
    before = {
        "model": {"name", "activation", "num_filters", "num_stages", "blocks_per_stage", "block", "residual"},
        "optimizer": {"name", "lr", "momentum", "weight_decay", "schedule", "min_lr"},
        "train": {"seed", "batch_size", "epochs", "eval_batch_size", "augmentation", "normalization", "channels_last"},
    }
    for path in ("config/config.yaml", "config/mlp-cw2-cifar100.yaml"):
        settings = training_settings(validate(yaml.safe_load((repo / path).read_text())), defaults)
        assert {section: set(settings[section]) for section in before} == before, path
    lab = validate(yaml.safe_load((repo / "config/lab-lenet5-tuning.yaml").read_text()))
    settings = training_settings(lab, defaults)
    assert (settings["train"]["flip_p"], settings["train"]["crop_padding"]) == (0.6, 3)
    assert "l1" not in settings["optimizer"] and "batch_norm" not in settings["model"]
