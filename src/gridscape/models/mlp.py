"""A fully connected network (multi-layer perceptron) for the DS405B assignment 2 (seed 002):
the image flattened, ``hidden_layers`` blocks of linear layer, activation and dropout, and a
linear layer to the class scores."""

from __future__ import annotations

import math
from collections import OrderedDict

from torch import nn

from .lenet import ACTIVATIONS


class MLP(nn.Sequential):
    """flatten, hidden_layers x [Linear(hidden_size), activation, Dropout(dropout)], Linear(classes).

    The 784-128-10 network of the handout's baseline (1 hidden layer of 128 units on 28x28 grey
    images) has 784 * 128 + 128 + 128 * 10 + 10 = 101,770 parameters. ``hidden_layers`` 0 is
    multinomial logistic regression. The modules are named (``fc1``, ``act1``, ``drop1``, ...,
    ``output``), so the weights' names do not depend on the dropout: a dropout of 0 adds no
    module at all (no layer-table row, no random draw). Dropout draws from torch's global
    generator, seeded by ``train.seed``: such a model trains one per job, never fused
    (``search.packs.FUSABLE_MODELS``).
    """

    def __init__(
        self,
        in_shape: tuple[int, int, int],
        num_classes: int,
        hidden_layers: int = 1,
        hidden_size: int = 128,
        activation: str = "relu",
        dropout: float = 0.0,
    ):
        if hidden_layers < 0 or hidden_size < 1:
            raise ValueError(f"an MLP needs hidden_layers >= 0 and hidden_size >= 1, got {hidden_layers} and {hidden_size}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"config key model.dropout: {dropout}; expected a probability in [0, 1)")
        if activation not in ACTIVATIONS:
            raise ValueError(f"config key model.activation: {activation!r}; expected one of {', '.join(ACTIVATIONS)}")
        layers: OrderedDict[str, nn.Module] = OrderedDict(flatten=nn.Flatten())
        width = math.prod(in_shape)
        for index in range(1, hidden_layers + 1):
            layers[f"fc{index}"] = nn.Linear(width, hidden_size)
            layers[f"act{index}"] = ACTIVATIONS[activation]()
            if dropout > 0:
                layers[f"drop{index}"] = nn.Dropout(dropout)
            width = hidden_size
        layers["output"] = nn.Linear(width, num_classes)
        super().__init__(layers)
