"""The check of a whole study: its kind, the sections that kind reads, the schema, the kind's own
checks, and what only a whole run's settings show. Raised before any work."""

from __future__ import annotations

import copy
import math
from typing import Any, Iterator, Mapping

from gridscape.data.registry import DATASETS

from .errors import ConfigError
from .keys import get_or_none
from .options import AUGMENTATION_OPTIONS, check_options
from .schema import check_schema, defaults_of, fill_defaults, in_schema_order, load_schema


def validate(config: Mapping, schema: Mapping | None = None) -> dict:
    """Return a copy of ``config`` with its kind named and the defaults of the sections that
    kind reads filled in, its keys in the schema's order (``in_schema_order``), or raise
    ConfigError."""
    from gridscape.kinds import kind_of

    schema = load_schema() if schema is None else schema
    kind = kind_of(config)
    check_sections(config, kind, schema)
    check_finite(config)
    defaults = defaults_of(schema)
    if kind.uses_dataset:
        check_options(config, defaults)
    kind.check_written(config, defaults)
    checked = copy.deepcopy(dict(config))
    checked["kind"] = kind.name
    fill_defaults(checked, schema, only=kind.reads)
    check_schema(checked, schema)
    kind.check(checked, schema)
    runs = kind.runs(checked)
    for run in runs:
        check_run(run.apply(checked), run.where)
    if kind.uses_dataset:
        check_residual_form([run.apply(checked) for run in runs] or [checked])
    return in_schema_order(checked, schema)


def check_sections(raw: Mapping, kind, schema: Mapping) -> None:
    """A study holds only the sections its kind reads, and none of the keys it ignores."""
    for name in raw:
        if name not in kind.reads and name in schema["properties"]:
            raise ConfigError(
                f"config key {name}: a study of kind '{kind.name}' ({kind.description}) does not read it; "
                f"expected no '{name}' section (this kind reads: {', '.join(sorted(kind.sections))})"
            )
    defaults = defaults_of(schema)
    for key in kind.ignored_keys:
        value = get_or_none(raw, key)
        if value is not None and value != get_or_none(defaults, key):
            raise ConfigError(
                f"config key {key}: a study of kind '{kind.name}' does not use it; expected it left out"
            )


def numbers(node: Any, path: str = "") -> Iterator[tuple[str, float]]:
    """Every float of a config, with its dotted key."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from numbers(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from numbers(value, f"{path}[{index}]")
    elif isinstance(node, float):
        yield path, node


def check_finite(config: Mapping) -> None:
    """No NaN or infinity anywhere: YAML writes them (.nan, .inf) and the schema's bounds do
    not catch NaN, which compares false with everything."""
    for where, value in numbers(config):
        if not math.isfinite(value):
            raise ConfigError(f"config key {where}: {value} is not a finite number; expected a finite number")


def check_residual_form(configs: list[Mapping]) -> None:
    """``model.residual: after_sum`` shapes residual blocks: some run must have them."""
    shaped = [c for c in configs if "model" in c and c["model"]["name"] == "vgg"
              and c["model"].get("residual", "identity") != "identity"]
    if shaped and not any(c["model"]["block"] in ("rc", "bn_rc") for c in shaped):
        raise ConfigError(
            f"config key model.residual: {shaped[0]['model']['residual']!r} shapes residual blocks, but no run of "
            f"this study with it has any (model.block is {shaped[0]['model']['block']!r}); expected model.block "
            "rc or bn_rc in some run, or model.residual left out"
        )


def check_run(config: Mapping, where: str) -> None:
    """What only a whole run's settings show: a schedule that would raise the rate, a network
    deeper than the images allow. ``where`` names the experiment or grid cell."""
    optimizer = config["optimizer"]
    if optimizer["schedule"] == "cosine" and optimizer["min_lr"] >= optimizer["lr"]:
        raise ConfigError(
            f"config key optimizer.min_lr: {optimizer['min_lr']} is not below the learning rate {optimizer['lr']} "
            f"of {where}; expected the cosine schedule to end below where it starts"
        )
    check_augmentation_options(config, where)
    check_subset(config, where)
    if "model" not in config:  # a kind with networks of its own (autoencoders)
        return
    model = config["model"]
    _, height, width = DATASETS[config["dataset"]["name"]].in_shape
    if model["name"] == "vgg" and 2 ** model["num_stages"] > min(height, width):
        raise ConfigError(
            f"config key model.num_stages: {model['num_stages']} stages of {where} halve the "
            f"{height}x{width} images of {config['dataset']['name']} below one pixel; expected at most "
            f"{min(height, width).bit_length() - 1}"
        )


def check_augmentation_options(config: Mapping, where: str) -> None:
    """``train.flip_p`` and ``train.crop_padding`` set away from their defaults parameterise an
    augmentation that the run applies."""
    train = config["train"]
    for key, (readers, default) in AUGMENTATION_OPTIONS.items():
        value = train[key.split(".")[1]]
        if value != default and not set(readers) & set(train["augmentation"]):
            raise ConfigError(
                f"config key {key}: {value} is read only by the augmentation {' or '.join(readers)}, but {where} "
                f"augments with {list(train['augmentation'])}; expected {' or '.join(readers)} in train.augmentation, "
                f"or no {key}"
            )


def check_subset(config: Mapping, where: str) -> None:
    """``train.per_class`` fits the smallest class of the split's training part (its official
    size times 1 - val_fraction, rounded down: the split may give a class one image more)."""
    per_class = config["train"].get("per_class")
    if per_class is None:
        return
    spec = DATASETS[config["dataset"]["name"]]
    available = math.floor(spec.smallest_class * (1 - config["split"]["val_fraction"]))
    if per_class > available:
        raise ConfigError(
            f"config key train.per_class: {per_class} images per class for {where}, but the smallest class of "
            f"{spec.name}'s training part holds about {available} (of {spec.smallest_class}, with split.val_fraction "
            f"{config['split']['val_fraction']}); expected at most {available}"
        )
