"""Random directions in weight space, filter-normalised as in Li et al. (2018).

A direction is a mapping from parameter name (as in ``model.named_parameters()``, which are
``state_dict`` names) to a tensor of the parameter's shape. Each direction is drawn from its
own seeded CPU ``torch.Generator``, so it depends on the seed and the parameter shapes only,
not on the global RNG, the device or how the model was built. Buffers (BatchNorm running
statistics) are never part of a direction.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping

import torch
from torch import Tensor, nn

from gridscape import io

NORMALIZATIONS = ("filter", "layer", "none")
IGNORE_RULES = ("biasbn", "none")
EPS = 1e-10  # the reference's guard: d_i *= ||w_i|| / (||d_i|| + 1e-10)

Direction = dict[str, Tensor]


def parameters_of(model: nn.Module) -> dict[str, Tensor]:
    """The model's parameters by name, detached, on the CPU (float copies, model untouched)."""
    return {name: p.detach().cpu().clone() for name, p in model.named_parameters()}


def _rescale(d: Tensor, w: Tensor) -> Tensor:
    """``d`` with the Frobenius norm of ``w`` (computed in float64)."""
    d64, w64 = d.double(), w.double()
    return d64 * (torch.linalg.vector_norm(w64) / (torch.linalg.vector_norm(d64) + EPS))


def normalize_direction(d: Tensor, w: Tensor, normalization: str) -> Tensor:
    """Rescale one parameter's direction ``d`` against the weights ``w``.

    'filter': every slice along dim 0 gets the norm of the same slice of ``w`` (a
    one-dimensional tensor is one filter); 'layer': the whole tensor gets the norm of ``w``;
    'none': ``d`` unchanged. Norms are taken in float64; the result has ``d``'s dtype.
    """
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"config key landscape.normalization: {normalization!r}; expected one of {NORMALIZATIONS}")
    if d.shape != w.shape:
        raise ValueError(f"direction shape {tuple(d.shape)} differs from the parameter's {tuple(w.shape)}")
    if normalization == "none":
        return d.clone()
    if normalization == "layer" or d.dim() <= 1:
        return _rescale(d, w).to(d.dtype)
    d64, w64 = d.double().flatten(1), w.double().flatten(1)
    scale = torch.linalg.vector_norm(w64, dim=1) / (torch.linalg.vector_norm(d64, dim=1) + EPS)
    return (d64 * scale[:, None]).reshape(d.shape).to(d.dtype)


def random_direction(
    weights: Mapping[str, Tensor], seed: int, normalization: str = "filter", ignore: str = "biasbn"
) -> Direction:
    """A Gaussian direction for ``weights`` (name -> tensor), drawn on the CPU from ``seed``.

    Every parameter is drawn, in the mapping's order, whether it is ignored or not, so the
    entries of the multi-dimensional parameters do not depend on the ignore rule. With
    ``ignore='biasbn'`` parameters of fewer than two dimensions get an exact zero.
    """
    if ignore not in IGNORE_RULES:
        raise ValueError(f"config key landscape.ignore: {ignore!r}; expected one of {IGNORE_RULES}")
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    direction: Direction = {}
    for name, w in weights.items():
        w = w.detach().cpu()
        d = torch.randn(w.shape, generator=generator, dtype=torch.float32).to(w.dtype)
        if w.dim() <= 1 and ignore == "biasbn":
            direction[name] = torch.zeros_like(w)
        else:
            direction[name] = normalize_direction(d, w, normalization).contiguous()
    return direction


def cosine(a: Mapping[str, Tensor], b: Mapping[str, Tensor]) -> float:
    """cos of the angle between two directions seen as single vectors (float64)."""
    if list(a) != list(b):
        raise ValueError("the two directions have different parameter names")
    dot = sum(float((a[k].double() * b[k].double()).sum()) for k in a)
    na = math.sqrt(sum(float(a[k].double().square().sum()) for k in a))
    nb = math.sqrt(sum(float(b[k].double().square().sum()) for k in b))
    return dot / (na * nb) if na > 0 and nb > 0 else float("nan")


def filter_norms(t: Tensor) -> Tensor:
    """Norm of every slice along dim 0 (a 0/1-D tensor is one filter), float64."""
    t = t.detach().double()
    if t.dim() <= 1:
        return torch.linalg.vector_norm(t).reshape(1)
    return torch.linalg.vector_norm(t.flatten(1), dim=1)


def norm_facts(weights: Mapping[str, Tensor], delta: Direction, eta: Direction) -> dict[str, dict]:
    """Per parameter: shape, filters, min/max filter norm of θ*, and whether it is perturbed."""
    facts = {}
    for name, w in weights.items():
        norms = filter_norms(w)
        facts[name] = {
            "shape": list(w.shape),
            "filters": int(norms.numel()),
            "perturbed": bool(delta[name].abs().sum() > 0 or eta[name].abs().sum() > 0),
            "theta_norm": float(torch.linalg.vector_norm(w.double())),
            "theta_filter_norm_min": float(norms.min()),
            "theta_filter_norm_max": float(norms.max()),
            "delta_norm": float(torch.linalg.vector_norm(delta[name].double())),
            "eta_norm": float(torch.linalg.vector_norm(eta[name].double())),
        }
    return facts


def save_directions(path: str | Path, delta: Direction, eta: Direction, metadata: Mapping[str, str] | None = None) -> None:
    """One safetensors file with ``delta.<name>`` and ``eta.<name>`` for every parameter."""
    if list(delta) != list(eta):
        raise ValueError("delta and eta must cover the same parameter names")
    tensors = {f"delta.{k}": v for k, v in delta.items()}
    tensors.update({f"eta.{k}": v for k, v in eta.items()})
    io.write_safetensors(path, tensors, metadata)


def load_directions(path: str | Path, names: list[str] | None = None) -> tuple[Direction, Direction]:
    """(delta, eta) from ``save_directions``' file, in the order of ``names`` when given.

    With ``names`` (the model's parameter names) the file must hold exactly those names.
    """
    tensors = io.read_safetensors(path)
    delta = {k[len("delta."):]: v for k, v in tensors.items() if k.startswith("delta.")}
    eta = {k[len("eta."):]: v for k, v in tensors.items() if k.startswith("eta.")}
    if set(delta) != set(eta) or len(delta) + len(eta) != len(tensors):
        raise ValueError(f"{path}: expected tensors named delta.<name> and eta.<name> for the same names")
    if names is not None:
        if set(names) != set(delta):
            missing, extra = sorted(set(names) - set(delta)), sorted(set(delta) - set(names))
            raise ValueError(f"{path}: directions do not match the model's parameters (missing {missing}, extra {extra})")
        delta = {k: delta[k] for k in names}
        eta = {k: eta[k] for k in names}
    return delta, eta
