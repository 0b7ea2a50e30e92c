"""Question 4: six torch layers re-implemented in numpy, and the comparison with torch.

Shapes follow the handout's "32×1 input, 3×1 filter" read as torch's 1-D layout: the input is
(N=1, C=1, L=length), the filter (out=1, in=1, kernel), and Linear takes the ``length`` values
as its features. The handout's ``.pt`` files are not in the seed; the inputs are drawn from a
seeded generator instead (and saved, so the numbers can be checked). Everything is float64,
so own and torch's results should agree to rounding (1e-12).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TOLERANCE = 1e-12
COLUMNS = ["op", "torch_shape", "mine_shape", "max_abs_diff", "match"]
OPS = ("MaxPool1d", "AvgPool1d", "conv1d", "Sigmoid", "BatchNorm1d", "Linear",
       "BatchNorm1d.running_mean", "BatchNorm1d.running_var")


def _windows(x: np.ndarray, kernel: int, stride: int) -> np.ndarray:
    """(N, C, L) -> (N, C, L_out, kernel): the pooling windows, no padding, floor mode."""
    length = (x.shape[-1] - kernel) // stride + 1
    index = stride * np.arange(length)[:, None] + np.arange(kernel)[None, :]
    return x[..., index]


def max_pool1d(x: np.ndarray, kernel: int = 2, stride: int = 1) -> np.ndarray:
    return _windows(x, kernel, stride).max(axis=-1)


def avg_pool1d(x: np.ndarray, kernel: int = 2, stride: int = 1) -> np.ndarray:
    # count_include_pad only matters with padding; here the divisor is always the kernel size
    return _windows(x, kernel, stride).sum(axis=-1) / kernel


def conv1d(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Cross-correlation as torch computes it (no flip): stride 1, no padding, no bias.
    x: (N, C_in, L), weight: (C_out, C_in, K) -> (N, C_out, L − K + 1)."""
    windows = _windows(x, weight.shape[-1], 1)  # (N, C_in, L_out, K)
    return np.einsum("nclk,ock->nol", windows, weight)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def batch_norm1d(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, running_mean: np.ndarray,
                 running_var: np.ndarray, momentum: float = 0.1, eps: float = 1e-5,
                 unbiased_running_var: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training-mode BatchNorm1d on (N, C, L): statistics per channel over N and L.

    Returns the output and the updated running mean and variance. The output divides by the
    biased variance, but torch's running variance is updated with the unbiased one (n − 1):
    ``unbiased_running_var=False`` shows what the classic mistake gives.
    """
    n = x.shape[0] * x.shape[2]
    mean = x.mean(axis=(0, 2))
    var = x.var(axis=(0, 2))  # biased (ddof 0), as the normalisation uses
    out = (x - mean[None, :, None]) / np.sqrt(var[None, :, None] + eps)
    out = out * gamma[None, :, None] + beta[None, :, None]
    batch_var = var * n / (n - 1) if unbiased_running_var else var
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * batch_var
    return out, new_mean, new_var


def linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """x: (N, in), weight: (out, in), bias: (out,) -> (N, out)."""
    return x @ weight.T + bias


def make_inputs(seed: int, length: int = 32, kernel: int = 3, linear_out: int = 10) -> dict[str, np.ndarray]:
    """The input, filter, BatchNorm affine parameters and Linear weights, all float64.

    Linear's weights are uniform in ±1/√in as torch initialises them; BatchNorm's scale and
    shift are drawn too (torch starts at 1 and 0, which would leave the affine step untested).
    """
    if length < max(2, kernel) or kernel < 1 or linear_out < 1:
        raise ValueError(f"ops: need length >= max(2, kernel), kernel >= 1, linear_out >= 1; "
                         f"got length {length}, kernel {kernel}, linear_out {linear_out}")
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(length)
    return {
        "input": rng.standard_normal((1, 1, length)),
        "filter": rng.standard_normal((1, 1, kernel)),
        "bn_weight": rng.uniform(0.5, 1.5, 1),
        "bn_bias": rng.uniform(-0.5, 0.5, 1),
        "linear_weight": rng.uniform(-bound, bound, (linear_out, length)),
        "linear_bias": rng.uniform(-bound, bound, linear_out),
    }


def mine(inputs: dict[str, np.ndarray], unbiased_running_var: bool = True) -> dict[str, np.ndarray]:
    """The own implementations' outputs, by op name."""
    x = inputs["input"]
    bn, mean, var = batch_norm1d(x, inputs["bn_weight"], inputs["bn_bias"], np.zeros(1), np.ones(1),
                                 unbiased_running_var=unbiased_running_var)
    return dict(zip(OPS, [max_pool1d(x), avg_pool1d(x), conv1d(x, inputs["filter"]), sigmoid(x), bn,
                          linear(x.reshape(1, -1), inputs["linear_weight"], inputs["linear_bias"]), mean, var]))


def torch_outputs(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The handout's torch calls, in float64, by op name."""
    import torch
    from torch import nn

    x = torch.from_numpy(inputs["input"])
    with torch.no_grad():
        bn = nn.BatchNorm1d(1, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, dtype=torch.float64)
        bn.weight.copy_(torch.from_numpy(inputs["bn_weight"]))
        bn.bias.copy_(torch.from_numpy(inputs["bn_bias"]))
        bn.train()
        fc = nn.Linear(inputs["linear_weight"].shape[1], inputs["linear_weight"].shape[0], bias=True, dtype=torch.float64)
        fc.weight.copy_(torch.from_numpy(inputs["linear_weight"]))
        fc.bias.copy_(torch.from_numpy(inputs["linear_bias"]))
        outputs = [
            nn.MaxPool1d(kernel_size=2, stride=1, padding=0, dilation=1)(x),
            nn.AvgPool1d(kernel_size=2, stride=1, padding=0, count_include_pad=True)(x),
            torch.nn.functional.conv1d(x, torch.from_numpy(inputs["filter"]), bias=None, stride=1, padding=0),
            nn.Sigmoid()(x),
            bn(x),
            fc(x.reshape(1, -1)),
            bn.running_mean,
            bn.running_var,
        ]
    return {name: out.detach().numpy().copy() for name, out in zip(OPS, outputs)}


def _shape(array: np.ndarray) -> str:
    return "x".join(str(d) for d in array.shape)


def compare(theirs: dict[str, np.ndarray], ours: dict[str, np.ndarray]) -> pd.DataFrame:
    rows = []
    for op in OPS:
        a, b = theirs[op], ours[op]
        same_shape = a.shape == b.shape
        diff = float(np.max(np.abs(a - b))) if same_shape else float("nan")
        rows.append({"op": op, "torch_shape": _shape(a), "mine_shape": _shape(b), "max_abs_diff": diff,
                     "match": bool(same_shape and diff <= TOLERANCE)})
    return pd.DataFrame(rows, columns=COLUMNS)


def compare_ops(seed: int, length: int = 32, kernel: int = 3, linear_out: int = 10) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The comparison table (one row per op, with BatchNorm's running statistics as two more)
    and the generated inputs."""
    inputs = make_inputs(seed, length, kernel, linear_out)
    return compare(torch_outputs(inputs), mine(inputs)), inputs
