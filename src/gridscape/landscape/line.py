"""1-D slices: the loss along δ through θ*, and the straight path from θ0 to θ*.

The interpolation θ(t) = (1 − t) θ0 + t θ* moves the parameters and the floating-point
buffers together (the reference code's ``states`` mode), so BatchNorm running statistics
follow; integer buffers (``num_batches_tracked``) keep θ*'s value. The formula is evaluated
as written, so t = 0 gives θ0 and t = 1 gives θ* exactly. Outside [0, 1] it extrapolates, and
a BatchNorm running variance extrapolated linearly can turn negative (θ0's is 1, θ*'s often
far smaller): it is clamped at 0, the smallest variance there is, so the normalisation stays
finite (it divides by sqrt(0 + eps)) where the reference code gives NaN.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from .evaluate import EvalSet, evaluate_points, evaluate_span, method_for
from .grid import with_exact_kept_count
from .span import Span, like

T_RANGE = (-0.5, 1.5)  # the reference scripts' interpolation range


def line_alphas(alpha: Mapping, points: int) -> np.ndarray:
    """``points`` evenly spaced alphas over the alpha axis' range, the one nearest 0 moved to
    exactly 0 (so θ* is on the line; see ``with_exact_kept_count``)."""
    return with_exact_kept_count(np.linspace(float(alpha["min"]), float(alpha["max"]), int(points)), [0.0])


def interpolation_ts(points: int, low: float = T_RANGE[0], high: float = T_RANGE[1]) -> np.ndarray:
    """``points`` evenly spaced t in [low, high], the ones nearest 0 and 1 moved to exactly
    t = 0 (θ0) and t = 1 (θ*): ``landscape.line_points`` points, as configured (five or more)."""
    return with_exact_kept_count(np.linspace(low, high, int(points)), [0.0, 1.0])


def line_along(
    model: nn.Module, data: EvalSet, delta: Mapping[str, Tensor], alphas: Sequence[float], method: str = "auto"
) -> pd.DataFrame:
    """Loss and accuracy at θ* + α δ (β = 0), columns alpha, loss, acc."""
    alphas = np.asarray(alphas, dtype=np.float64)
    result = evaluate_points(model, data, delta, None, alphas, None, method)
    return pd.DataFrame({"alpha": alphas, "loss": result.loss, "acc": result.acc})


def interpolate(
    model: nn.Module, data: EvalSet, start: Mapping[str, Tensor], ts: Sequence[float], method: str = "auto"
) -> pd.DataFrame:
    """Loss and accuracy at θ(t) = (1 − t) ``start`` + t θ*, θ* = the model's own state.

    ``start`` is a full ``state_dict`` (θ0). ``method`` as ``landscape.method``: the first
    layer computed twice per batch (θ0, θ*) where ``auto`` or ``first_layer`` allow it, else
    point by point (``compile`` and ``vmap``, which keep the buffers fixed, included). The
    model is restored to θ* afterwards.
    """
    state = model.state_dict(keep_vars=False)
    if set(start) != set(state):
        missing, extra = sorted(set(state) - set(start)), sorted(set(start) - set(state))
        raise ValueError(f"the start state does not match the model (missing {missing}, extra {extra})")
    own = dict(model.named_parameters(remove_duplicate=False))
    own.update(model.named_buffers(remove_duplicate=False))
    # the model's own tensors (first_layer finds its layer by identity), each once: a tied
    # weight listed twice would be multiplied by (1 - t) twice
    names, seen = [], set()
    for k, v in state.items():
        if v.is_floating_point() and id(own[k]) not in seen:
            seen.add(id(own[k]))
            names.append(k)
    tensors = [own[k] for k in names]
    ts = np.asarray(ts, dtype=np.float64).ravel()
    with torch.inference_mode():
        end = [t.detach().clone() for t in tensors]
        begin = like(tensors, [start[k] for k in names])
    span = Span(tensors, [begin, end], np.stack([1.0 - ts, ts], axis=1), end,
                clamped=[slot for slot, k in enumerate(names) if k.endswith("running_var")])
    method = method_for(method, model, data)
    result = evaluate_span(model, data, span, method if method == "first_layer" else "loop")
    return pd.DataFrame({"t": ts, "loss": result.loss, "acc": result.acc}, columns=["t", "loss", "acc"])
