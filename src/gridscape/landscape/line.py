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

from gridscape.train import evaluate

from .evaluate import EvalSet, evaluate_points
from .grid import with_exact_kept_count

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
    zero = {name: torch.zeros_like(t) for name, t in delta.items()}
    alphas = np.asarray(alphas, dtype=np.float64)
    result = evaluate_points(model, data, delta, zero, alphas, np.zeros_like(alphas), method)
    return pd.DataFrame({"alpha": alphas, "loss": result.loss, "acc": result.acc})


def interpolate(
    model: nn.Module, data: EvalSet, start: Mapping[str, Tensor], ts: Sequence[float]
) -> pd.DataFrame:
    """Loss and accuracy at θ(t) = (1 − t) ``start`` + t θ*, θ* = the model's own state.

    ``start`` is a full ``state_dict`` (θ0). The model is restored to θ* afterwards.
    """
    state = model.state_dict(keep_vars=False)
    if set(start) != set(state):
        missing, extra = sorted(set(state) - set(start)), sorted(set(start) - set(state))
        raise ValueError(f"the start state does not match the model (missing {missing}, extra {extra})")
    names = [k for k, v in state.items() if v.is_floating_point()]
    targets = [state[k] for k in names]
    variances = [t for k, t in zip(names, targets) if k.endswith("running_var")]
    was_training = model.training
    model.eval()
    rows = []
    with torch.inference_mode():
        end = [t.detach().clone() for t in targets]
        begin = [torch.empty_like(t).copy_(start[k]) for k, t in zip(names, targets)]
        try:
            for t in np.asarray(ts, dtype=np.float64):
                torch._foreach_copy_(targets, begin)
                torch._foreach_mul_(targets, 1.0 - float(t))
                torch._foreach_add_(targets, end, alpha=float(t))
                if variances and not 0.0 <= t <= 1.0:
                    torch._foreach_clamp_min_(variances, 0.0)
                loss, acc = evaluate(model, data, data.batch_size)
                rows.append({"t": float(t), "loss": loss, "acc": acc})
        finally:
            torch._foreach_copy_(targets, end)
            model.train(was_training)
    return pd.DataFrame(rows, columns=["t", "loss", "acc"])
