"""Config validation: defaults, and bad configs stopped with a message naming the key."""

import pytest

from gridscape.config import ConfigError, validate
from gridscape.kinds import kind_of
from gridscape.kinds.search import grid_cells


def study(**sections):
    return {"study": "t", **sections}


def test_defaults_are_the_handout_values():
    config = validate({"study": "acse8"})
    assert config["optimizer"] == {
        "name": "sgd", "lr": 0.01, "momentum": 0.5, "weight_decay": 0.0, "l1": 0.0, "schedule": "constant", "min_lr": 2e-5,
    }
    assert config["train"]["augmentation"] == [] and config["train"]["normalization"] == "dataset"
    # a search study holds the sections its kind reads, and only those
    assert config["kind"] == "search" and "experiments" not in config and "exercises" not in config
    assert config["train"]["batch_size"] == 64
    assert config["train"]["epochs"] == 30
    assert config["train"]["eval_batch_size"] == 1000
    assert config["train"]["seed"] == 42
    assert config["split"]["val_fraction"] == 0.1
    assert [a["key"] for a in config["search"]["axes"]] == ["optimizer.lr", "optimizer.momentum"]


def test_validate_does_not_modify_its_input():
    raw = {"study": "x"}
    validate(raw)
    assert raw == {"study": "x"}


@pytest.mark.parametrize(
    "config, key, expected",
    [
        (study(optimizer={"lr": 0}), "optimizer.lr", "> 0"),
        (study(optimizer={"lr": -1e-3}), "optimizer.lr", "> 0"),
        (study(optimizer={"momentum": 1.0}), "optimizer.momentum", "[0, 1)"),
        (study(optimizer={"momentum": -0.1}), "optimizer.momentum", "[0, 1)"),
        (study(split={"val_fraction": 0}), "split.val_fraction", "(0, 1)"),
        (study(split={"val_fraction": 1.5}), "split.val_fraction", "(0, 1)"),
        (study(dataset={"name": "imagenet"}), "dataset.name", "cifar10"),
        (study(model={"name": "resnet9000"}), "model.name", "lenet5"),
        (study(train={"batch_size": "64"}), "train.batch_size", "batch size"),
        (study(train={"epochs": 0}), "train.epochs", "epochs"),
        (study(optimiser={"lr": 0.1}), "optimiser", "known keys"),
        (study(train={"epoch": 3}), "train.epoch", "known keys"),
        ({"study": "../escape"}, "study", "plain identifier"),
        ({"study": "a/b"}, "study", "plain identifier"),
        ({"study": "has space"}, "study", "plain identifier"),
        ({"title": "no study"}, "<top level>", "'study' is a required property"),
        (study(device="gpu"), "device", "cuda"),
        (study(search={"axes": []}), "search.axes", "One or two grid axes"),
        (study(search={"axes": [{"key": k, "values": [1, 2]} for k in ("train.seed", "train.epochs", "train.batch_size")]}), "search.axes", "One or two grid axes"),
        (study(search={"axes": [{"key": "optimizer.lr", "values": []}]}), "search.axes[0].values", "values of the axis"),
        (study(search={"axes": [{"key": "optimizer.lr", "values": [0.1, 0.1]}]}), "search.axes[0].values", "values of the axis"),
        (study(search={"axes": [{"key": "dataset.name", "values": ["mnist"]}]}), "search.axes[0].key", "Dotted config key"),
        (study(search={"axes": [{"key": "optimizer.lr", "values": ["$(rm -rf ~)"]}]}), "search.axes[0].values[0]", "parts of file names"),
        (study(landscape={"alpha": {"num": 24}}), "landscape.alpha.num", "an odd number such as 25"),
        (study(landscape={"beta": {"min": -1.0, "max": 2.0, "num": 3}}), "landscape.beta.num", "miss beta = 0"),
        (study(landscape={"alpha": {"min": 1.0, "max": -1.0}}), "landscape.alpha", "min <= max"),
        (study(landscape={"delta_seed": 3, "eta_seed": 3}), "landscape.eta_seed", "two different seeds"),
        (study(landscape={"chunks": 0}), "landscape.chunks", "Number of jobs"),
        (study(landscape={"normalization": "unit"}), "landscape.normalization", "filter"),
        # wrong types
        (study(train={"epochs": 2.5}), "train.epochs", "not of type 'integer'"),
        (study(search={"axes": "optimizer.lr"}), "search.axes", "not of type 'array'"),
        (study(landscape={"enabled": "yes"}), "landscape.enabled", "not of type 'boolean'"),
        (study(title=123), "title", "not of type 'string'"),
        (study(train={"augmentation": "hflip"}), "train.augmentation", "not of type 'array'"),
        # out of range, unknown names
        (study(train={"augmentation": ["hflip", "blur"]}), "train.augmentation[1]", "'hflip', 'vflip'"),
        (study(search={"metric": "test_acc"}), "search.metric", "'val_acc', 'val_loss'"),
        (study(split={"seed": -1}), "split.seed", "less than the minimum of 0"),
        (study(landscape={"alpha": {"min": -1.0, "max": 1.0, "num": 0}}), "landscape.alpha.num", "minimum of 1"),
        (study(final={"train_on": "test"}), "final.train_on", "'train+val', 'train'"),
        (study(figures={"gallery_size": 0}), "figures.gallery_size", "minimum of 1"),
        (study(dataset={"mirror": "file:///x; rm -rf /"}), "dataset.mirror", "Base URL"),
        (study(dataset={"checksums": {"a.tar.gz": "xyz"}}), "dataset.checksums.a.tar.gz", "[0-9a-f]{32}"),
        # study names that would leave results/ or be awkward as a folder
        ({"study": "a..b"}, "study", "plain identifier"),
        ({"study": "x" * 65}, "study", "at most 64 characters"),
        # axes: naming no key, twice the same key, a list-valued key, values invalid for their key
        (study(search={"axes": [{"key": "optimizer.nesterov", "values": [True]}]}), "search.axes[0].key", "is not a key of the study"),
        (study(search={"axes": [{"key": "optimizer.lr", "values": [0.1]}, {"key": "optimizer.lr", "values": [0.2]}]}), "search.axes", "expected distinct keys"),
        (study(search={"axes": [{"key": "train.augmentation", "values": ["hflip"]}]}), "search.axes[0].key", "a key with a single value"),
        (study(search={"axes": [{"key": "optimizer.lr"}]}), "search.axes[0]", "'values' is a required property"),
        (study(search={"axes": [{"key": "optimizer.lr", "values": [0.1, -0.5]}]}), "search.axes[0].values[1]", "Learning rate, a number > 0"),
        (study(search={"axes": [{"key": "optimizer.lr", "values": ["1e-3"]}]}), "search.axes[0].values[0]", "YAML reads 1e-3 as text"),
        (study(search={"axes": [{"key": "model.activation", "values": ["relu", "mish"]}]}), "search.axes[0].values[1]", "Activation function"),
        (study(search={"axes": [{"key": "model.activation", "values": ["../x"]}]}), "search.axes[0].values[0]", "parts of file names"),
        # NaN passes every bound of the schema (it compares false), infinity is no setting
        (study(optimizer={"lr": float("nan")}), "optimizer.lr", "not a finite number"),
        (study(checkpoint={"every_minutes": float("nan")}), "checkpoint.every_minutes", "not a finite number"),
        (study(checkpoint={"every_minutes": float("inf")}), "checkpoint.every_minutes", "not a finite number"),
        (study(search={"axes": [{"key": "optimizer.lr", "values": [0.1, float("nan")]}]}), "search.axes[0].values[1]", "not a finite number"),
        (study(checkpoint={"every_minutes": -1}), "checkpoint.every_minutes", "minimum of 0"),
        # the course's residual block: only a residual VGG has it
        (study(model={"name": "vgg", "block": "plain", "residual": "after_sum"}), "model.residual", "expected model.block rc or bn_rc"),
        (study(model={"name": "lenet5", "residual": "after_sum"}), "model.residual", "vgg"),
        (study(model={"name": "vgg", "block": "rc", "residual": "sum"}), "model.residual", "identity"),
    ],
)
def test_bad_config_names_the_key(config, key, expected):
    with pytest.raises(ConfigError) as error:
        validate(config)
    message = str(error.value)
    assert f"config key {key}:" in message  # the key, exactly as the user would look it up
    assert expected in message


def test_grid_cells_row_major_with_readable_names():
    config = validate(study(search={"axes": [
        {"key": "optimizer.lr", "values": [0.1, 0.001]},
        {"key": "model.activation", "values": ["relu", "tanh", "gelu"]},
    ]}))
    cells = grid_cells(config)
    assert len(cells) == 6
    assert [c.params["optimizer.lr"] for c in cells] == [0.1, 0.1, 0.1, 0.001, 0.001, 0.001]
    assert cells[4].name == "optimizer.lr~0.001_model.activation~tanh"
    assert len({c.name for c in cells}) == 6
    applied = cells[4].apply(config)
    assert applied["optimizer"]["lr"] == 0.001 and applied["model"]["activation"] == "tanh"
    assert config["optimizer"]["lr"] == 0.01  # the base config is untouched


def test_repo_configs_are_valid():
    import yaml
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for path in sorted((root / "config").glob("*.yaml")):
        config = validate(yaml.safe_load(path.read_text()))
        kind = kind_of(config)
        assert config["kind"] == kind.name and set(config) <= kind.reads, path
        assert validate(config) == config, path  # validate accepts its own output
        if kind.name == "search":
            assert len(grid_cells(config)) >= 1, path


def test_schema_enums_list_exactly_the_registries():
    from gridscape.config import load_schema
    from gridscape.data.augment import AUGMENTATION_NAMES
    from gridscape.data.registry import DATASETS
    from gridscape.models import MODELS
    from gridscape.models.lenet import ACTIVATIONS

    props = load_schema()["properties"]
    assert props["dataset"]["properties"]["name"]["enum"] == list(DATASETS)
    assert props["model"]["properties"]["name"]["enum"] == list(MODELS)
    assert props["model"]["properties"]["activation"]["enum"] == list(ACTIVATIONS)
    assert props["train"]["properties"]["augmentation"]["items"]["enum"] == list(AUGMENTATION_NAMES)
    assert props["figures"]["properties"]["augmentation"]["enum"] == list(AUGMENTATION_NAMES)


@pytest.mark.parametrize("root", ["/etc", "../outside", "data/../../x"])
def test_dataset_root_stays_inside_the_working_directory(root):
    with pytest.raises(ConfigError, match="dataset.root"):
        validate(study(dataset={"root": root}))


def test_asymmetric_landscape_ranges_that_hit_zero_are_fine():
    config = validate(study(landscape={"alpha": {"min": -0.5, "max": 1.0, "num": 4}, "beta": {"min": 0.0, "max": 1.0, "num": 2}}))
    assert config["landscape"]["alpha"]["num"] == 4
