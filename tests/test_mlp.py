"""The DS405B assignment 2's pieces (seed 002, issue 16): the MLP, the resized crop, the
per-pixel standardisation with the training images' statistics, and the final model's
predictions for a few random test images."""

from __future__ import annotations

import inspect
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from gridscape import io
from gridscape.config import ConfigError, load_schema, validate
from gridscape.config.schema import defaults_of
from gridscape.data.augment import AUGMENTATION_NAMES, DESCRIPTIONS, _resized_crop, apply_augmentations
from gridscape.data.prepared import PreparedData
from gridscape.data.split import stratified_split, subset_indices
from gridscape.models import build_model, count_parameters
from gridscape.models.mlp import MLP
from gridscape.study import (
    PIXEL_EPS, model_statistics, normalisation_path, pixel_statistics, read_statistics, to_tensors, train_on_split,
    write_statistics,
)

CPU = torch.device("cpu")
REPO = Path(__file__).resolve().parents[1]


def study(**sections):
    return {"study": "t", **sections}


def mlp(in_shape=(1, 28, 28), **options):
    torch.manual_seed(0)
    return build_model({"name": "mlp", **options}, in_shape, 10)


# --- the model -------------------------------------------------------------------------------


def test_the_handouts_baseline_mlp_784_128_10_has_101770_parameters():
    model = mlp(hidden_layers=1, hidden_size=128, activation="relu", dropout=0.0)
    assert count_parameters(model) == 784 * 128 + 128 + 128 * 10 + 10 == 101_770
    assert [type(m) for m in model] == [nn.Flatten, nn.Linear, nn.ReLU, nn.Linear]  # no dropout module at p = 0
    assert [name for name, _ in model.named_parameters()] == ["fc1.weight", "fc1.bias", "output.weight", "output.bias"]
    assert model(torch.randn(5, 1, 28, 28)).shape == (5, 10)


def test_mlp_stacks_hidden_layers_of_linear_activation_dropout():
    model = mlp((1, 32, 32), hidden_layers=3, hidden_size=64, activation="tanh", dropout=0.25)
    assert [type(m) for m in model] == [nn.Flatten, *[nn.Linear, nn.Tanh, nn.Dropout] * 3, nn.Linear]
    assert [m.p for m in model if isinstance(m, nn.Dropout)] == [0.25] * 3
    assert [(m.in_features, m.out_features) for m in model if isinstance(m, nn.Linear)] == [
        (1024, 64), (64, 64), (64, 64), (64, 10)]
    assert count_parameters(mlp(hidden_layers=0)) == 784 * 10 + 10  # logistic regression
    # the weights' names do not depend on the dropout: a model trained with it loads without
    assert set(mlp(hidden_layers=2, dropout=0.5).state_dict()) == set(mlp(hidden_layers=2).state_dict())


def test_mlp_defaults_are_the_schemas():
    """A job's params leave the MLP's keys out at their defaults (ADDED_KEYS): the class must
    then build what the schema's defaults describe."""
    defaults = defaults_of(load_schema())["model"]
    signature = inspect.signature(MLP).parameters
    for key in ("hidden_layers", "hidden_size", "activation", "dropout"):
        assert signature[key].default == defaults[key], key


def test_dropout_zeroes_units_in_training_only():
    model = mlp(hidden_layers=1, hidden_size=2000, dropout=0.5)
    x = torch.randn(4, 1, 28, 28)
    hidden = nn.Sequential(*list(model)[:4])  # flatten, fc1, relu, dropout
    model.eval()
    assert torch.equal(model(x), model(x))
    model.train()
    torch.manual_seed(1)
    before = nn.Sequential(*list(model)[:3])(x)
    after = hidden(x)
    alive = before > 0
    dropped = (after[alive] == 0).float().mean().item()
    assert 0.45 < dropped < 0.55
    assert torch.allclose(after[alive & (after != 0)], 2 * before[alive & (after != 0)])  # kept units scaled by 1/(1-p)


def test_kaiming_initialisation_applies_to_the_mlp():
    model = mlp((1, 32, 32), hidden_layers=1, hidden_size=512, init="kaiming_normal")
    assert model.fc1.weight.std().item() == pytest.approx(math.sqrt(2 / 1024), rel=0.02)
    assert model.output.weight.std().item() == pytest.approx(math.sqrt(2 / 512), rel=0.05)


@pytest.mark.parametrize(
    "config, key, expected",
    [
        (study(model={"name": "lenet5", "dropout": 0.2}), "model.dropout", "read only by model.name mlp"),
        (study(model={"name": "vgg", "hidden_size": 64}), "model.hidden_size", "read only by model.name mlp"),
        (study(model={"name": "resnet", "hidden_layers": 2}), "model.hidden_layers", "read only by model.name mlp"),
        (study(search={"axes": [{"key": "model.dropout", "values": [0.0, 0.2]}]}), "model.dropout", "model.name mlp"),
        (study(model={"name": "mlp", "block": "bn"}), "model.block", "read only by model.name vgg"),
        (study(model={"name": "mlp", "batch_norm": True}), "model.batch_norm", "read only by model.name lenet5"),
        (study(model={"name": "mlp", "hidden_layers": 17}), "model.hidden_layers", "maximum of 16"),
        (study(model={"name": "mlp", "hidden_size": 0}), "model.hidden_size", "minimum of 1"),
        (study(model={"name": "mlp", "dropout": 0.96}), "model.dropout", "maximum of 0.95"),
        (study(model={"name": "mlp", "hidden_layers": 1.5}), "model.hidden_layers", "integer"),
    ],
)
def test_bad_mlp_options_name_the_key(config, key, expected):
    with pytest.raises(ConfigError) as error:
        validate(config)
    message = str(error.value)
    assert key in message and expected in message, message


def test_mlp_reads_the_activation_and_its_own_keys():
    config = validate(study(model={"name": "mlp", "activation": "sigmoid", "hidden_layers": 2, "dropout": 0.4}))
    assert (config["model"]["activation"], config["model"]["hidden_layers"], config["model"]["hidden_size"]) == ("sigmoid", 2, 128)
    grid = validate(study(model={"name": "mlp"}, search={"axes": [
        {"key": "optimizer.lr", "values": [0.0001, 0.001, 0.01, 0.1]}, {"key": "model.dropout", "values": [0.0, 0.2, 0.4, 0.6]}]}))
    assert len(grid["search"]["axes"][1]["values"]) == 4  # the handout's 16-cell example


def test_mlp_is_never_fused():
    from gridscape.kinds.search import grid_cells
    from gridscape.search.packs import can_fuse, plan_packs

    config = validate(study(model={"name": "mlp", "dropout": 0.2}, search={"axes": [
        {"key": "optimizer.lr", "values": [0.01, 0.1]}, {"key": "optimizer.momentum", "values": [0.5, 0.9]}]}))
    assert not can_fuse(config)
    packs = plan_packs(config, grid_cells(config), fuse=True)
    assert len(packs) == 4 and all(len(pack.models) == 1 for pack in packs)
    lenet = validate(study(search=config["search"]))
    assert len(plan_packs(lenet, grid_cells(lenet), fuse=True)) == 1  # LeNet-5's four cells share one job


def test_mlp_keys_at_their_defaults_leave_the_training_params_as_they_were():
    import yaml

    from gridscape.config.triggers import training_settings

    defaults = defaults_of(load_schema())
    settings = training_settings(validate(yaml.safe_load((REPO / "config/config.yaml").read_text())), defaults)
    assert not {"hidden_layers", "hidden_size", "dropout"} & set(settings["model"])
    wide = training_settings(validate(study(model={"name": "mlp", "hidden_size": 256, "dropout": 0.2})), defaults)
    assert (wide["model"]["hidden_size"], wide["model"]["dropout"]) == (256, 0.2) and "hidden_layers" not in wide["model"]


def test_layer_table_of_the_mlp():
    from gridscape.report.model_summary import forward_check

    rows, check = forward_check(mlp(hidden_layers=2, hidden_size=32, dropout=0.1), (1, 28, 28), 10)
    assert [r["type"] for r in rows] == ["Flatten", *["Linear", "ReLU", "Dropout"] * 2, "Linear"]
    assert [r["output_shape"] for r in rows] == ["1x784", *["1x32"] * 6, "1x10"]
    assert rows[1]["description"] == "fully connected, 784 → 32" and rows[3]["description"] == "dropout p=0.1"
    assert sum(r["params"] for r in rows) == check["parameters"] == 784 * 32 + 32 + 32 * 32 + 32 + 330
    assert rows[1]["receptive_field"] == 28 and rows[1]["jump"] is None  # a linear layer sees the whole image
    assert check["ok"]


def test_landscape_directions_filter_normalise_each_row_of_the_linear_weights():
    from gridscape.landscape.directions import parameters_of, random_direction

    weights = parameters_of(mlp(hidden_layers=1, hidden_size=16))
    direction = random_direction(weights, seed=1, normalization="filter", ignore="biasbn")
    for name in ("fc1.weight", "output.weight"):
        assert torch.allclose(direction[name].norm(dim=1), weights[name].norm(dim=1), rtol=1e-5)
    assert not direction["fc1.bias"].any() and not direction["output.bias"].any()


# --- resized crop ------------------------------------------------------------------------------


def ramps(n=64, side=28):
    """Two channels: column index x 8 and row index x 8 (0..216), for reading off the crop."""
    ramp = torch.arange(side, dtype=torch.float32) * 8
    return torch.stack([ramp.expand(side, side), ramp[:, None].expand(side, side)]).expand(n, 2, side, side).clone()


def test_resized_crop_keeps_shape_gives_float_and_repeats_under_a_seed():
    images = torch.randint(0, 256, (16, 1, 28, 28), dtype=torch.uint8)
    a = apply_augmentations(images, ["resized_crop"], torch.Generator().manual_seed(3))
    b = apply_augmentations(images, ["resized_crop"], torch.Generator().manual_seed(3))
    c = apply_augmentations(images, ["resized_crop"], torch.Generator().manual_seed(4))
    assert a.shape == images.shape and a.dtype == torch.float32
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert 0 <= a.min() and a.max() <= 255


def test_resized_crop_of_the_whole_image_is_the_identity():
    images = torch.randint(0, 256, (8, 3, 28, 28), dtype=torch.uint8)
    same = _resized_crop(images, torch.Generator().manual_seed(0), scale=(1.0, 1.0), ratio=(1.0, 1.0))
    assert (same - images.float()).abs().max() < 1e-2


def test_resized_crop_zooms_by_the_side_of_the_crop():
    """A crop of a quarter of the area, square, has half the image's side: a ramp of slope 8
    comes back with slope 4 (inside: a crop at the image's edge samples its outer half-pixel
    from the edge pixel, as torchvision's resize does), and stays within the image's values."""
    images = ramps()
    out = _resized_crop(images, torch.Generator().manual_seed(0), scale=(0.25, 0.25), ratio=(1.0, 1.0))
    slopes_x = (out[:, 0, :, 1:] - out[:, 0, :, :-1])[:, :, 1:-1]
    slopes_y = (out[:, 1, 1:, :] - out[:, 1, :-1, :])[:, 1:-1, :]
    assert torch.allclose(slopes_x, torch.full_like(slopes_x, 4.0), atol=1e-3)
    assert torch.allclose(slopes_y, torch.full_like(slopes_y, 4.0), atol=1e-3)
    assert out.min() >= 0 and out.max() <= 27 * 8
    assert out[:, 0, 0, 0].unique().numel() > 10  # each image its own position


def test_resized_crop_draws_areas_of_half_to_all_and_ratios_of_three_quarters_to_four_thirds():
    images = ramps(n=500)
    out = apply_augmentations(images, ["resized_crop"], torch.Generator().manual_seed(0))
    # fractions of the image's sides, from the slopes inside (not the edge's half-pixels)
    width = (out[:, 0, :, 2:-1] - out[:, 0, :, 1:-2]).mean(dim=(1, 2)) / 8
    height = (out[:, 1, 2:-1, :] - out[:, 1, 1:-2, :]).mean(dim=(1, 2)) / 8
    area, ratio = width * height, width / height
    assert area.min() >= 0.5 - 1e-3 and area.max() <= 1 + 1e-3
    assert ratio.min() >= 3 / 4 - 1e-3 and ratio.max() <= 4 / 3 + 1e-3
    assert width.max() <= 1 + 1e-4 and height.max() <= 1 + 1e-4
    assert area.min() < 0.6 and ratio.min() < 0.8 and ratio.max() > 1.25  # the whole range is drawn


def test_resized_crop_is_listed_everywhere_augmentations_are():
    from gridscape.report.augmentations import verdict_of

    schema = load_schema()["properties"]
    assert "resized_crop" in AUGMENTATION_NAMES
    assert "resized_crop" in schema["train"]["properties"]["augmentation"]["items"]["enum"]
    assert "resized_crop" in schema["figures"]["properties"]["augmentation"]["enum"]
    assert "50 to 100 %" in DESCRIPTIONS["resized_crop"] and "3/4 to 4/3" in DESCRIPTIONS["resized_crop"]
    assert "scale (0.5, 1)" in schema["train"]["properties"]["augmentation"]["description"]
    assert verdict_of("cifar10", "resized_crop").verdict == "yes"
    assert verdict_of("fashion_mnist", "resized_crop").verdict == "with care"
    config = validate(study(train={"augmentation": ["hflip", "resized_crop"]}, figures={"augmentation": "resized_crop"}))
    assert config["train"]["augmentation"] == ["hflip", "resized_crop"]


# --- pixel normalisation -----------------------------------------------------------------------


def synthetic(n_train=60, n_test=20, seed=0) -> PreparedData:
    """Images of the digits' shape, classes 0..9, the validation-to-be part brighter."""
    rng = np.random.default_rng(seed)
    train = rng.integers(0, 200, (n_train, 1, 32, 32)).astype(np.uint8)
    test = rng.integers(0, 256, (n_test, 1, 32, 32)).astype(np.uint8)
    labels = np.arange(n_train) % 10
    return PreparedData(train, labels, test, np.arange(n_test) % 10, [str(c) for c in range(10)],
                        np.array([0.3]), np.array([0.25]))


def test_pixel_statistics_are_numpys_mean_and_population_std_plus_1e5():
    data = synthetic()
    indices = np.array([0, 3, 4, 8, 9, 15, 22, 23, 40])
    mean, std = pixel_statistics(data, indices, chunk=4)  # three chunks: the sums add up
    x = data.train_images[indices].astype(np.float64) / 255
    assert mean.shape == std.shape == (1, 32, 32) and mean.dtype == np.float32
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(std, x.std(axis=0, ddof=0) + 1e-5, rtol=1e-6)
    constant = synthetic()
    constant.train_images[:] = 7
    assert np.all(pixel_statistics(constant, indices)[1] == np.float32(PIXEL_EPS))


def test_validation_and_test_are_normalised_with_the_training_statistics():
    data = synthetic()
    data.train_images[20:40] = data.train_images[:20]  # the training part: 20 images, twice
    data.train_images[40:] = data.train_images[:20]  # validation: the same images ...
    data.train_images[40:, :, 16:] = data.train_images[40:, :, 16:] // 2 + 100  # ... brighter in the bottom half
    train, val = np.arange(40), np.arange(40, 60)
    statistics = pixel_statistics(data, train)
    config = {"normalization": "pixel", "channels_last": False}
    train_data = to_tensors(data, "train", train, CPU, config, statistics)
    val_data = to_tensors(data, "train", val, CPU, config, statistics)
    test_data = to_tensors(data, "test", None, CPU, config, statistics)
    assert train_data.mean.shape == (1, 1, 32, 32)
    for part in (val_data, test_data):
        assert torch.equal(part.mean, train_data.mean) and torch.equal(part.std, train_data.std)
    x = train_data.normalise(train_data.images).double()
    assert x.mean(dim=0).abs().max() < 1e-5 and (x.std(dim=0, unbiased=False) - 1).abs().max() < 1e-4
    v = val_data.normalise(val_data.images).double().mean(dim=0)[0]
    # mean 0 exactly where the validation images are the training images, not where they differ
    # (with their own statistics every pixel would average 0)
    assert v[:16].abs().max() < 1e-5 and v[16:].abs().min() > 0.1
    t = test_data.normalise(test_data.images).double().mean(dim=0)[0]
    assert t.abs().mean() > 0.1  # other images, the training statistics: not centred


def test_to_tensors_refuses_pixel_without_statistics_and_statistics_without_pixel():
    data = synthetic()
    statistics = pixel_statistics(data, np.arange(10))
    with pytest.raises(ValueError, match="train.normalization: 'pixel' takes the pixel statistics"):
        to_tensors(data, "test", None, CPU, {"normalization": "pixel", "channels_last": True})
    with pytest.raises(ValueError, match="'dataset' takes no pixel statistics"):
        to_tensors(data, "test", None, CPU, {"normalization": "dataset", "channels_last": True}, statistics)


@pytest.mark.parametrize("normalization", ["dataset", "none"])
def test_dataset_and_none_normalise_as_before(normalization):
    from gridscape.data.loader import TensorData

    data = synthetic()
    tensors = to_tensors(data, "train", np.arange(30), CPU, {"normalization": normalization, "channels_last": True})
    mean, std = (data.mean, data.std) if normalization == "dataset" else ([0.0], [1.0])
    before = TensorData.from_arrays(data.train_images[:30], data.train_labels[:30], mean, std, CPU, True)
    assert tensors.mean.shape == (1, 1, 1, 1)
    assert torch.equal(tensors.normalise(tensors.images), before.normalise(before.images))


def test_statistics_round_trip_through_their_file(tmp_path):
    statistics = pixel_statistics(synthetic(), np.arange(50))
    path = normalisation_path(tmp_path / "final" / "model.safetensors")
    assert path == tmp_path / "final" / "normalisation.safetensors"
    path.parent.mkdir()
    write_statistics(path, statistics, {"normalization": "pixel"})
    mean, std = read_statistics(path)
    assert np.array_equal(mean, statistics[0]) and np.array_equal(std, statistics[1])
    assert set(io.read_safetensors(path)) == {"mean", "std"}
    assert model_statistics({"normalization": "dataset"}, tmp_path / "final" / "model.safetensors") is None
    io.write_safetensors(path, {"mean": torch.zeros(1, 2, 2)})
    with pytest.raises(ValueError, match="expected the tensors mean and std"):
        read_statistics(path)


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    from gridscape.data import prepare

    root = tmp_path_factory.mktemp("digits")
    prepare("digits", [], root / "digits.npz")
    from gridscape.data import load_prepared

    data = load_prepared(root / "digits.npz")
    io.write_csv(root / "split.csv", stratified_split(data.train_labels, 0.2, 0))
    return root


def mlp_study(normalization="pixel", epochs=3, **extra):
    return validate(study(
        device="cpu", dataset={"name": "digits"}, split={"val_fraction": 0.2, "seed": 0},
        model={"name": "mlp", "hidden_layers": 1, "hidden_size": 128},
        optimizer={"name": "sgd", "lr": 0.01, "momentum": 0.9},
        train={"seed": 0, "batch_size": 64, "epochs": epochs, "normalization": normalization}, **extra))


def test_an_mlp_learns_the_digits_with_pixel_statistics_of_its_training_part(digits):
    from gridscape.study import load_dataset, read_split

    data, split = load_dataset(digits / "digits.npz", "digits"), read_split(digits / "split.csv")
    trained = train_on_split(mlp_study(), data, split, ["train"], "val")
    expected = pixel_statistics(data, subset_indices(split, "train"))
    assert all(np.array_equal(a, b) for a, b in zip(trained.statistics, expected))
    assert torch.equal(trained.train_data.mean, torch.from_numpy(expected[0] * np.float32(255)).view(1, 1, 32, 32))
    assert count_parameters(trained.model) == 1024 * 128 + 128 + 1290
    assert trained.result.history[-1]["val_acc"] > 0.9  # 0.948 after 3 epochs (10: 0.955)


def test_the_final_model_saves_its_pixel_statistics_and_every_later_step_uses_them(digits, tmp_path):
    from gridscape.final.predictions import COLUMNS, run_predict_test
    from gridscape.final.resolve import resolve_final
    from gridscape.final.steps import run_evaluate, run_final
    from gridscape.landscape.steps import setup
    from gridscape.study import load_dataset, load_model, read_split
    from gridscape.train import evaluate

    config = mlp_study(epochs=2)
    final = resolve_final(config, {"params": {"optimizer.lr": 0.01}}, "train+val")
    paths = {name: tmp_path / f"{name}.safetensors" for name in ("model", "init")}
    run_final(final, digits / "digits.npz", digits / "split.csv", paths["model"], paths["init"], tmp_path / "history.csv")
    data, split = load_dataset(digits / "digits.npz", "digits"), read_split(digits / "split.csv")
    saved = read_statistics(tmp_path / "normalisation.safetensors")
    # the final model trains on train + val: its statistics are those of all 1,437 images
    expected = pixel_statistics(data, np.sort(np.concatenate([subset_indices(split, "train"), subset_indices(split, "val")])))
    assert all(np.array_equal(a, b) for a, b in zip(saved, expected))
    metrics = run_evaluate(final, digits / "digits.npz", paths["model"], tmp_path / "metrics.json")
    test = to_tensors(data, "test", None, CPU, config["train"], expected)
    assert evaluate(load_model(config, data, paths["model"], CPU), test, 1000) == (metrics["test_loss"], metrics["test_acc"])
    assert metrics["test_acc"] > 0.85
    landscape = {"data": "test", "subset_size": None, "subset_seed": 0}
    s = setup(final, landscape, digits / "digits.npz", digits / "split.csv", paths["model"])
    assert torch.equal(s.tensors.mean, test.mean) and torch.equal(s.tensors.std, test.std)

    table = run_predict_test(final, digits / "digits.npz", paths["model"], tmp_path / "predictions.csv", 10)
    written = pd.read_csv(tmp_path / "predictions.csv", dtype={"label_name": str, "predicted_name": str})
    assert list(written.columns) == list(COLUMNS) == [
        "index", "label", "label_name", "predicted", "predicted_name", "probability", "correct"]
    assert list(written["index"]) == list(np.random.default_rng(0).choice(360, size=10, replace=False))
    assert list(written["label"]) == list(data.test_labels[written["index"]])
    model = load_model(config, data, paths["model"], CPU)
    logits = model(to_tensors(data, "test", written["index"].to_numpy(), CPU, config["train"], expected).normalise(
        torch.from_numpy(data.test_images[written["index"]])))
    probabilities = torch.softmax(logits.double(), 1)
    assert list(written["predicted"]) == probabilities.argmax(1).tolist()
    np.testing.assert_allclose(written["probability"], probabilities.max(1).values.detach().numpy(), rtol=1e-6)
    assert list(written["correct"]) == list(written["label"] == written["predicted"])
    assert list(written["label_name"]) == [str(c) for c in written["label"]]
    assert table["correct"].sum() == written["correct"].sum()


def test_only_pixel_studies_and_searches_over_the_normalisation_write_the_statistics(digits, tmp_path):
    from gridscape.final.resolve import resolve_final, saves_normalisation
    from gridscape.final.steps import run_final

    assert saves_normalisation(mlp_study("pixel")) and not saves_normalisation(mlp_study("dataset"))
    searched = mlp_study("dataset", search={"axes": [{"key": "train.normalization", "values": ["dataset", "pixel"]}]})
    assert saves_normalisation(searched)
    assert not saves_normalisation(validate(yaml_config("config/config.yaml")))
    for name, config, params in (
        ("plain", mlp_study("dataset", epochs=1), {"optimizer.lr": 0.01}),
        ("searched", mlp_study("dataset", epochs=1), {"train.normalization": "dataset"}),
    ):
        folder = tmp_path / name
        folder.mkdir()
        run_final(resolve_final(config, {"params": params}, "train"), digits / "digits.npz", digits / "split.csv",
                  folder / "model.safetensors", folder / "init.safetensors", folder / "history.csv")
        written = (folder / "normalisation.safetensors").exists()
        assert written == (name == "searched"), name
    # a search that chose 'dataset' records the per-channel statistics it applied, on every pixel
    mean, std = read_statistics(tmp_path / "searched" / "normalisation.safetensors")
    from gridscape.study import load_dataset

    data = load_dataset(digits / "digits.npz", "digits")
    assert mean.shape == (1, 32, 32) and np.all(mean == np.float32(data.mean[0])) and np.all(std == np.float32(data.std[0]))


def yaml_config(path):
    import yaml

    return yaml.safe_load((REPO / path).read_text())


# --- test predictions --------------------------------------------------------------------------


def test_test_images_are_drawn_without_replacement_in_draw_order():
    from gridscape.final.predictions import draw_test_images

    drawn = draw_test_images(360, 10, seed=42)
    assert list(drawn) == list(np.random.default_rng(42).choice(360, size=10, replace=False))
    assert len(set(drawn)) == 10 and list(drawn) != sorted(drawn)
    assert np.array_equal(drawn, draw_test_images(360, 10, seed=42))
    assert sorted(draw_test_images(5, 10, seed=0)) == [0, 1, 2, 3, 4]
    assert len(draw_test_images(360, 0, seed=0)) == 0


def test_predictions_table_takes_the_most_probable_class():
    from gridscape.final.predictions import predictions_table

    probabilities = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]])
    table = predictions_table(np.array([7, 3, 11]), np.array([1, 2, 2]), probabilities, ["cat", "dog", "ship"])
    assert table.to_dict("list") == {
        "index": [7, 3, 11], "label": [1, 2, 2], "label_name": ["dog", "ship", "ship"], "predicted": [1, 0, 2],
        "predicted_name": ["dog", "cat", "ship"], "probability": [0.7, 0.5, 0.6], "correct": [True, False, True]}
    empty = predictions_table(np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.zeros((0, 0)), ["a"])
    assert list(empty.columns) == list(table.columns) and len(empty) == 0


def test_prediction_figure_titles_each_image_and_counts_the_wrong_ones(tmp_path):
    from gridscape.plots.images import WRONG_COLOR, plot_predictions

    images = np.random.default_rng(0).integers(0, 256, (10, 1, 28, 28)).astype(np.uint8)
    labels, predicted = np.arange(10) % 3, np.array([0, 1, 2, 0, 0, 2, 0, 1, 1, 0])
    paths = [tmp_path / "test_predictions.png", tmp_path / "test_predictions.pdf"]
    info = plot_predictions(images, labels, predicted, np.full(10, 0.875), ["T-shirt", "Trouser", "Bag"], paths)
    assert all(path.stat().st_size > 0 for path in paths)
    assert info.notes == {"wrong": 2, "shown": 10}
    assert info.annotations[1] == "true: Trouser\npred: Trouser (88%)"
    assert info.annotations[4] == "true: Trouser\npred: T-shirt (88%)"
    assert WRONG_COLOR == "#D55E00"
    with pytest.raises(ValueError, match="no test images"):
        plot_predictions(images[:0], [], [], [], ["a"], paths)


def test_prediction_outputs_are_declared_with_captions_and_follow_the_count():
    from gridscape.kinds.final_outputs import PREDICTION_OUTPUTS

    table, figure = PREDICTION_OUTPUTS
    assert (table.path, table.figure, figure.path, figure.figure) == (
        "final/predictions.csv", False, "figures/test_predictions", True)
    for output in PREDICTION_OUTPUTS:
        assert (REPO / "workflow" / "report" / f"{output.caption}.rst").exists()
        assert output.category == "Final model"
    config = validate(study())
    assert config["figures"]["test_predictions"] == 10
    assert figure.expand(config) == ["figures/test_predictions"]
    assert figure.expand(validate(study(figures={"test_predictions": 0}))) == []
    assert table.expand(validate(study(figures={"test_predictions": 0}))) == []


@pytest.mark.parametrize("kind", ["experiments", "autoencoder"])
def test_other_kinds_refuse_test_predictions(kind):
    sections = {"experiments": {"experiments": {"runs": [{"name": "a"}]}},
                "autoencoder": {"autoencoder": {}, "train": {"normalization": "none"}}}[kind]
    with pytest.raises(ConfigError, match="figures.test_predictions: a study of kind"):
        validate(study(kind=kind, figures={"test_predictions": 5}, **sections))
    validate(study(kind=kind, **sections))  # left out: fine


def test_the_report_describes_the_mlp_from_its_layer_table():
    from gridscape.report.data_context import network_context
    from gridscape.report.experiments_context import describe_model
    from gridscape.report.latex import render_string
    from gridscape.report.model_summary import forward_check

    rows, check = forward_check(mlp(hidden_layers=3, hidden_size=64, activation="tanh", dropout=0.3), (1, 28, 28), 10)
    network = network_context({"model": {"name": "mlp"}}, pd.DataFrame(rows), check)
    assert (network["in_features"], network["hidden_size"], network["dropout"], network["n_linear"]) == (784, 64, 0.3, 4)
    template = (REPO / "workflow/report/sections/network.tex.j2").read_text()
    text = " ".join(render_string(template[: template.index(r"Table~\ref{tab:layers} lists every")], {"network": network}).split())
    assert "flattened to its 784 pixel values, which pass through three hidden layers" in text
    assert "64 units followed by a Tanh activation and dropout with $p = 0.3$" in text
    assert describe_model({"name": "mlp", "hidden_layers": 2, "hidden_size": 256, "dropout": 0.2})["variant"] == "2 × 256, dropout 0.2"
