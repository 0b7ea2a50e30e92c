"""The model registry: each entry builds a network from (input shape, class count, options)."""

from __future__ import annotations

from typing import Callable, Mapping

from torch import nn

from .lenet import LeNet5

ModelBuilder = Callable[..., nn.Module]

MODELS: dict[str, ModelBuilder] = {
    "lenet5": LeNet5,
}


def build_model(model_config: Mapping, in_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    """Build the model named in ``model_config`` (the study's ``model`` section)."""
    name = model_config["name"]
    if name not in MODELS:
        raise KeyError(f"config key model.name: unknown model {name!r}; expected one of {sorted(MODELS)}")
    options = {key: value for key, value in model_config.items() if key != "name"}
    return MODELS[name](in_shape=tuple(in_shape), num_classes=num_classes, **options)
