"""Question 1.2: over a grid of bump heights h, does the optimiser climb over the bump?"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Mapping

import numpy as np
import pandas as pd

from .functions import Bump, make_function
from .optimizers import run


def decimals(value: float) -> int:
    """Digits after the decimal point of ``value`` as written (0.001 -> 3, 0.0025 -> 4, 1 -> 0)."""
    exponent = Decimal(repr(float(value))).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def h_grid(h_min: float, h_max: float, h_step: float) -> np.ndarray:
    """h_min, h_min + h_step, ... up to h_max, as exact decimals: an integer grid rounded to the
    digits of h_min and h_step, so that 0.41 is written 0.41 and not 0.41000000000000003."""
    if h_step <= 0 or h_min <= 0 or h_max < h_min:
        raise ValueError(f"escape h grid: need 0 < min <= max and step > 0, got min {h_min}, max {h_max}, step {h_step}")
    count = math.floor((h_max - h_min) / h_step + 1e-9) + 1
    digits = max(decimals(h_min), decimals(h_step))
    return np.round(h_min + h_step * np.arange(count), digits)


def escape_scan(function_spec: Mapping, optimizer: str, lr: float, eps: float, x0: float,
                h_min: float, h_max: float, h_step: float, steps: int,
                beta1: float = 0.9, beta2: float = 0.999) -> pd.DataFrame:
    """One row per bump height h: ``h, escaped, max_x, crossed_at``.

    ``escaped``: x ever exceeds the top of the bump, L + h (past it the loss falls again).
    ``max_x``: the largest x of the run; ``crossed_at``: the first step t with x_t > L + h,
    empty when it never does. All heights run at once, as one array-valued bump.
    """
    if function_spec.get("type") != "bump":
        raise ValueError(f"the escape scan needs a bump function, got type {function_spec.get('type')!r}")
    hs = h_grid(h_min, h_max, h_step)
    bump = make_function({**function_spec, "h": hs})
    assert isinstance(bump, Bump)
    xs = run(bump, optimizer, lr, np.full(hs.shape, float(x0)), steps, beta1, beta2, eps)["x"]
    above = xs > bump.top  # (steps + 1, len(hs))
    escaped = above.any(axis=0)
    crossed = pd.array(np.where(escaped, above.argmax(axis=0), 0), dtype="Int64")
    crossed[~escaped] = pd.NA
    return pd.DataFrame({"h": hs, "escaped": escaped, "max_x": np.nanmax(xs, axis=0), "crossed_at": crossed})


def h_max(scan: pd.DataFrame) -> float:
    """The largest h of the scan for which the optimiser escapes (NaN when it never does)."""
    escaped = scan.loc[scan["escaped"].astype(bool), "h"]
    return float(escaped.max()) if len(escaped) else math.nan
