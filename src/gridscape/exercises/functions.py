"""The 1-D loss functions of question 1, with the gradient an optimiser sees.

Every function works on a float or on a numpy array (element-wise), so one optimiser loop
serves a single trajectory and a whole scan over bump heights at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

BUILTIN = ("relu", "sigmoid", "abs")
TYPES = ("bump", *BUILTIN)


def _out(result: np.ndarray, x: Any) -> Any:
    """A float for a scalar argument, an array for an array argument."""
    return float(result) if np.ndim(x) == 0 else result


@dataclass(frozen=True)
class Function:
    """A scalar loss f(x) and its (sub)gradient."""

    name: str

    def value(self, x):
        return _out(self._value(np.asarray(x, dtype=float)), x)

    def grad(self, x):
        return _out(self._grad(np.asarray(x, dtype=float)), x)

    def _value(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _grad(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError


@dataclass(frozen=True)
class Bump(Function):
    """The loss of the handout's Figure 1, which the seed does not include (an assumption).

    The shape is taken from the public 2022 CS5242 notebook on the same problem (see
    /work/shared/reference/seeds-002-004.md, section 1.3): starting at O (w = 0) the loss falls
    to a local minimum at w = L, then a bump of height h and width 2h follows:

    * f(w) = L − w            for w ≤ L          (slope −1)
    * f(w) = w − L            on (L, L + h]      (slope +1)
    * f(w) = 2h + L − w       on (L + h, L + 2h] (slope −1)
    * f(w) = h + L/2 − w/2    after L + 2h       (slope −1/2)

    At a kink the gradient is the slope of the piece on the left (each interval is closed on
    the right); the trajectories of the handout never land exactly on a kink. ``h`` may be an
    array (one bump per element) for the escape scan.
    """

    L: float = 1.0
    h: Any = 0.5

    @property
    def top(self):
        """Where the bump peaks: an optimiser past this point has escaped the local minimum."""
        return self.L + np.asarray(self.h, dtype=float)

    def _pieces(self, x: np.ndarray) -> list[np.ndarray]:
        h = np.asarray(self.h, dtype=float)
        return [x <= self.L, x <= self.L + h, x <= self.L + 2 * h]

    def _value(self, x):
        h, L = np.asarray(self.h, dtype=float), self.L
        return np.select(self._pieces(x), [L - x, x - L, 2 * h + L - x], h + L / 2 - x / 2)

    def _grad(self, x):
        return np.select(self._pieces(x), [-1.0, 1.0, -1.0], -0.5)


@dataclass(frozen=True)
class ReLU(Function):
    def _value(self, x):
        return np.maximum(x, 0.0)

    def _grad(self, x):
        return np.where(x > 0, 1.0, 0.0)  # torch: relu'(0) = 0


@dataclass(frozen=True)
class Sigmoid(Function):
    def _value(self, x):
        return 1.0 / (1.0 + np.exp(-x))

    def _grad(self, x):
        s = self._value(x)
        return s * (1.0 - s)  # torch's sigmoid backward: grad * s * (1 - s)


@dataclass(frozen=True)
class Abs(Function):
    def _value(self, x):
        return np.abs(x)

    def _grad(self, x):
        return np.sign(x)  # torch: |x|'(0) = sign(0) = 0


def make_function(spec: Mapping) -> Function:
    """``{type: bump, L: 1.0, h: 0.5}``, ``{type: relu}``, ``{type: sigmoid}`` or ``{type: abs}``."""
    kind = spec.get("type")
    if kind == "bump":
        unknown = set(spec) - {"type", "L", "h"}
        if unknown:
            raise ValueError(f"bump function: unknown keys {sorted(unknown)}; expected L and h")
        L, h = float(spec.get("L", 1.0)), spec.get("h", 0.5)
        if np.any(np.asarray(h, dtype=float) <= 0):
            raise ValueError(f"bump function: h must be positive, got {h!r}")
        return Bump("bump", L=L, h=h if np.ndim(h) else float(h))
    classes = {"relu": ReLU, "sigmoid": Sigmoid, "abs": Abs}
    if kind not in classes:
        raise ValueError(f"unknown function type {kind!r}; expected one of {', '.join(TYPES)}")
    if set(spec) - {"type"}:
        raise ValueError(f"function {kind!r} takes no parameters, got {sorted(set(spec) - {'type'})}")
    return classes[kind](kind)
