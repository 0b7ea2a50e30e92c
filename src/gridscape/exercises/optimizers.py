"""Gradient descent and Adam on a 1-D function, recording every quantity of every step."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .functions import Function

OPTIMIZERS = ("gd", "adam")
COLUMNS = ["t", "g", "m", "v", "m_hat", "v_hat", "x", "f"]
TRACES = ("g", "m", "v", "m_hat", "v_hat", "x")


def run(function: Function, optimizer: str, lr: float, x0, steps: int,
        beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> dict[str, np.ndarray]:
    """Arrays of shape (steps + 1, *shape of x0) for g, m, v, m_hat, v_hat and x.

    Row 0 holds x0 (the other quantities NaN); GD leaves m to v_hat NaN. ``x0`` may be an
    array together with an array-valued function (the escape scan runs all heights at once).
    Adam follows Kingma & Ba's Algorithm 1, as the handout prints it and torch computes it:
    m_hat = m / (1 − β1^t), v_hat = v / (1 − β2^t), x ← x − lr · m_hat / (√v_hat + ε).
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; expected one of {', '.join(OPTIMIZERS)}")
    if steps < 0:
        raise ValueError(f"steps must be non-negative, got {steps}")
    x = np.array(x0, dtype=float)
    x = np.broadcast_to(x, np.shape(function.grad(x))).copy()
    out = {name: np.full((steps + 1, *x.shape), np.nan) for name in TRACES}
    out["x"][0] = x
    m, v = np.zeros_like(x), np.zeros_like(x)
    # ε = 0 with a zero gradient gives 0/0: NaN is the honest answer, not a warning.
    with np.errstate(divide="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            g = np.asarray(function.grad(x), dtype=float)
            out["g"][t] = g
            if optimizer == "gd":
                x = x - lr * g
            else:
                m = beta1 * m + (1 - beta1) * g
                v = beta2 * v + (1 - beta2) * g * g
                m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
                x = x - lr * m_hat / (np.sqrt(v_hat) + eps)
                for name, value in (("m", m), ("v", v), ("m_hat", m_hat), ("v_hat", v_hat)):
                    out[name][t] = value
            out["x"][t] = x
    return out


def trajectory(function: Function, optimizer: str, lr: float, x0: float, steps: int,
               beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> pd.DataFrame:
    """One run as a table with columns ``t, g, m, v, m_hat, v_hat, x, f``."""
    if np.ndim(x0) != 0:
        raise ValueError("trajectory takes a scalar x0")
    traces = run(function, optimizer, lr, float(x0), steps, beta1, beta2, eps)
    frame = pd.DataFrame({"t": np.arange(steps + 1), **traces})
    frame["f"] = function.value(frame["x"].to_numpy())
    return frame[COLUMNS]


def torch_adam_max_diff(function: Function, lr: float, x0: float, steps: int,
                        beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> float:
    """The largest |x_mine − x_torch| over all steps, torch.optim.Adam on a float64 scalar.

    The gradient is set by hand from ``function.grad`` so that only the optimisers differ.
    torch updates m by ``lerp`` and divides in another order, so the two agree to a few ulps,
    not bit for bit.
    """
    import torch

    mine = trajectory(function, "adam", lr, x0, steps, beta1, beta2, eps)["x"].to_numpy()
    param = torch.tensor(float(x0), dtype=torch.float64, requires_grad=True)
    adam = torch.optim.Adam([param], lr=lr, betas=(beta1, beta2), eps=eps)
    theirs = [float(x0)]
    for _ in range(steps):
        param.grad = torch.tensor(function.grad(param.item()), dtype=torch.float64)
        adam.step()
        theirs.append(param.item())
    return float(np.max(np.abs(mine - np.asarray(theirs)))) if steps else 0.0
