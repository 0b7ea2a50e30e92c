"""The model registry: each entry builds a network from (input shape, class count, options)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import torch
from torch import nn

from ..config import MODEL_OPTIONS
from .lenet import LeNet5
from .mlp import MLP
from .resnet import ResNet
from .vgg import VGG


@dataclass(frozen=True)
class ModelEntry:
    build: Callable[..., nn.Module]
    options: tuple[str, ...]  # the keys of the config's model section this model reads


MODELS: dict[str, ModelEntry] = {
    "lenet5": ModelEntry(LeNet5, MODEL_OPTIONS["lenet5"]),
    "vgg": ModelEntry(VGG, MODEL_OPTIONS["vgg"]),
    "resnet": ModelEntry(ResNet, MODEL_OPTIONS["resnet"]),
    "mlp": ModelEntry(MLP, MODEL_OPTIONS["mlp"]),
}


def build_model(model_config: Mapping, in_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    """Build the model named in ``model_config`` (the study's ``model`` section)."""
    name = model_config["name"]
    if name not in MODELS:
        raise KeyError(f"config key model.name: unknown model {name!r}; expected one of {sorted(MODELS)}")
    entry = MODELS[name]
    options = {key: model_config[key] for key in entry.options if key in model_config}
    model = entry.build(in_shape=tuple(in_shape), num_classes=num_classes, **options)
    initialise(model, model_config.get("init", "default"))
    return model


INITIALISATIONS = ("default", "kaiming_normal")


@torch.no_grad()
def initialise(model: nn.Module, init: str) -> None:
    """``model.init``: 'default' keeps PyTorch's initialisation; 'kaiming_normal' redraws every
    convolution and linear weight from N(0, 2 / fan_in) (He et al. 2015, torch's
    ``kaiming_normal_`` for ReLU), in the order of ``model.modules()``, from torch's global
    generator (seeded by ``train.seed``). Biases keep their default, as the LeNet-5 lab does."""
    if init == "default":
        return
    if init != "kaiming_normal":
        raise ValueError(f"config key model.init: unknown initialisation {init!r}; expected one of {INITIALISATIONS}")
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
