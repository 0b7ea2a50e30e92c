"""The model registry: each entry builds a network from (input shape, class count, options)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from torch import nn

from ..config import MODEL_OPTIONS
from .lenet import LeNet5
from .vgg import VGG


@dataclass(frozen=True)
class ModelEntry:
    build: Callable[..., nn.Module]
    options: tuple[str, ...]  # the keys of the config's model section this model reads


MODELS: dict[str, ModelEntry] = {
    "lenet5": ModelEntry(LeNet5, MODEL_OPTIONS["lenet5"]),
    "vgg": ModelEntry(VGG, MODEL_OPTIONS["vgg"]),
}


def build_model(model_config: Mapping, in_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    """Build the model named in ``model_config`` (the study's ``model`` section)."""
    name = model_config["name"]
    if name not in MODELS:
        raise KeyError(f"config key model.name: unknown model {name!r}; expected one of {sorted(MODELS)}")
    entry = MODELS[name]
    options = {key: model_config[key] for key in entry.options if key in model_config}
    return entry.build(in_shape=tuple(in_shape), num_classes=num_classes, **options)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
