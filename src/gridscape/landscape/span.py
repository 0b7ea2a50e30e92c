"""Points in weight space as weighted sums of a few weight sets, set on a model in place.

The landscape's grid is θ* + αδ + βη: weight sets (θ*, δ, η) with weights (1, α, β). The
interpolation is (1 − t) θ0 + t θ*: weight sets (θ0, θ*) with weights (1 − t, t). One
:class:`Span` describes both, so each evaluation method (``landscape.evaluate``) serves the
grid, the 1-D slice and the interpolation, and the first layer's linearity
(``landscape.first_layer``) applies to all three.

A point's tensors are computed as written, weight set by weight set: the first set is copied
(then multiplied by its weight unless that is 1), each later one added with its weight. So
θ* + 0·δ + 0·η is θ* bit for bit, and so are 0·θ0 + 1·θ* and 1·θ0 + 0·θ* for θ*'s and θ0's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch
from torch import Tensor


@dataclass
class Span:
    """``tensors`` (a model's own parameters and buffers, moved in place) and, per point k,
    sum_i ``weights[k, i]`` · ``bases[i]``; ``bases[i]`` is laid out like ``tensors``.
    ``home`` is what ``restore`` puts back. The slots in ``clamped`` (BatchNorm running
    variances) are clamped at 0 at a point with a negative weight, where a combination of
    valid variances can turn negative."""

    tensors: list[Tensor]
    bases: list[list[Tensor]]
    weights: np.ndarray  # (points, bases), float64
    home: list[Tensor]
    clamped: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.weights = np.asarray(self.weights, dtype=np.float64)
        if self.weights.ndim != 2 or self.weights.shape[1] != len(self.bases):
            raise ValueError(f"weights of shape {self.weights.shape} for {len(self.bases)} weight sets")

    def __len__(self) -> int:
        return int(self.weights.shape[0])

    def move(self, k: int, slots: Sequence[int] | None = None) -> None:
        """Set the tensors in ``slots`` (default: all) to point ``k``."""
        slots = range(len(self.tensors)) if slots is None else slots
        targets = [self.tensors[s] for s in slots]
        row = [float(w) for w in self.weights[k]]
        torch._foreach_copy_(targets, [self.bases[0][s] for s in slots])
        if row[0] != 1.0:
            torch._foreach_mul_(targets, row[0])
        for basis, weight in zip(self.bases[1:], row[1:]):
            torch._foreach_add_(targets, [basis[s] for s in slots], alpha=weight)
        if self.clamped and min(row) < 0.0:
            chosen = set(slots)
            variances = [self.tensors[s] for s in self.clamped if s in chosen]
            if variances:
                torch._foreach_clamp_min_(variances, 0.0)

    def combine(self, parts: Sequence[Tensor], k: int, out: Tensor) -> Tensor:
        """sum_i ``weights[k, i]`` · ``parts[i]`` into ``out``, in the order ``move`` uses."""
        row = [float(w) for w in self.weights[k]]
        if row[0] == 1.0 and len(parts) > 1:
            torch.add(parts[0], parts[1], alpha=row[1], out=out)
            later = zip(parts[2:], row[2:])
        else:
            torch.mul(parts[0], row[0], out=out)
            later = zip(parts[1:], row[1:])
        for part, weight in later:
            out.add_(part, alpha=weight)
        return out

    def restore(self) -> None:
        torch._foreach_copy_(self.tensors, self.home)


def like(tensors: Sequence[Tensor], values: Sequence[Tensor]) -> list[Tensor]:
    """Copies of ``values`` with the device, dtype and memory layout of ``tensors``."""
    return [torch.empty_like(t).copy_(v) for t, v in zip(tensors, values)]


def grid_span(params: Sequence[Tensor], delta: Sequence[Tensor], eta: Sequence[Tensor] | None,
              alphas: np.ndarray, betas: np.ndarray | None = None) -> Span:
    """θ* + α_k δ + β_k η on ``params`` (θ* = their values now); without ``eta``, θ* + α_k δ."""
    with torch.inference_mode():
        theta = [p.detach().clone() for p in params]
        bases = [theta, like(params, delta)] + ([] if eta is None else [like(params, eta)])
    columns = [np.ones(len(alphas)), np.asarray(alphas, dtype=np.float64)]
    if eta is not None:
        columns.append(np.asarray(betas, dtype=np.float64))
    return Span(list(params), bases, np.stack(columns, axis=1), theta)
