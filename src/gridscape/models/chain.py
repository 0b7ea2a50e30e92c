"""A network as a chain of modules, and where its first weighted layer is in that chain.

A layer's output is linear in its own weights: conv(x, θ* + αδ + βη) = conv(x, θ*) +
α·conv(x, δ) + β·conv(x, η), the bias included. The loss landscape uses this to compute the
first layer once per batch of images for every point of its grid
(``gridscape.landscape.first_layer``). That needs the forward pass cut after its first
weighted layer, which only a model whose forward pass is a plain chain allows: an
``nn.Sequential`` (whose ``forward`` is Sequential's own), or a model with an ``as_chain()``
method that returns one computing exactly its ``forward``. Any other model is evaluated
whole, point by point.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

# Exactly these types, not subclasses: a subclass may compute something else in ``forward``.
LINEAR_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


@dataclass(frozen=True)
class FirstLayerSplit:
    """``model(x) == rest(first(prefix(x)))``; ``prefix`` has no parameters or buffers."""

    prefix: nn.Sequential
    first: nn.Module  # one of LINEAR_LAYERS
    rest: nn.Sequential


def chain_of(model: nn.Module) -> list[nn.Module] | None:
    """The modules ``model``'s forward pass applies one after another, nested plain
    Sequentials unrolled; None when the model does not say it is a chain."""
    if type(model).forward is nn.Sequential.forward:
        top = list(model)
    elif hasattr(model, "as_chain"):
        top = list(model.as_chain())
    else:
        return None
    modules: list[nn.Module] = []
    for module in top:
        modules.extend(chain_of(module) if type(module) is nn.Sequential else [module])
    return modules


def _owns_state(module: nn.Module) -> bool:
    return any(True for _ in module.parameters()) or any(True for _ in module.buffers())


def split_first_layer(model: nn.Module) -> FirstLayerSplit | None:
    """``model`` cut after its first weighted layer, or None where that cannot be done: no
    chain, the first module with parameters or buffers is not a convolution or linear layer
    (a BatchNorm first, say), or a later module shares one of its parameters (tied weights:
    the rest would have to move with each point while the first layer's outputs stay fixed)."""
    modules = chain_of(model)
    if modules is None:
        return None
    for index, module in enumerate(modules):
        if _owns_state(module):
            if type(module) not in LINEAR_LAYERS:
                return None
            rest = nn.Sequential(*modules[index + 1 :])
            own = {id(p) for p in module.parameters()}
            if any(id(p) in own for p in rest.parameters()):
                return None
            return FirstLayerSplit(nn.Sequential(*modules[:index]), module, rest)
    return None
