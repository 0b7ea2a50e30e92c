"""Gradient flow: the mean absolute gradient of every weight tensor, per layer and epoch.

The course's ``plot_grad_flow`` diagnosis of a deep network that does not learn: if the mean
|gradient| shrinks by orders of magnitude from the last layer back to the first, the early
layers barely move (vanishing gradients). Recorded for every training step and averaged over
the epoch, with one fused call per step and no host synchronisation.
"""

from __future__ import annotations

from typing import Iterator

import pandas as pd
import torch
from torch import nn

COLUMNS = ("epoch", "order", "layer", "parameter", "numel", "mean_abs_grad")


def weight_parameters(model: nn.Module) -> Iterator[tuple[str, nn.Parameter]]:
    """The trainable weight tensors (convolutions, BatchNorm scales, linear layers), not biases,
    in registration order, which for gridscape's models is the order of the forward pass."""
    for name, parameter in model.named_parameters():
        if parameter.requires_grad and name.endswith("weight"):
            yield name, parameter


class GradientFlow:
    """Accumulates mean |grad| per weight tensor over an epoch's steps; one row each per epoch."""

    def __init__(self, model: nn.Module):
        named = list(weight_parameters(model))
        self.names = [name for name, _ in named]
        self.parameters = [parameter for _, parameter in named]
        self.numels = torch.tensor([p.numel() for p in self.parameters], dtype=torch.float64)
        device = self.parameters[0].device if self.parameters else torch.device("cpu")
        self.sums = torch.zeros(len(self.parameters), dtype=torch.float64, device=device)
        self.steps = 0
        self.rows: list[dict] = []

    def after_backward(self) -> None:
        grads = [p.grad for p in self.parameters]
        if any(g is None for g in grads):
            missing = [n for n, g in zip(self.names, grads) if g is None]
            raise RuntimeError(f"no gradient for {', '.join(missing)}: the layer is not used in the forward pass")
        self.sums += torch.stack(torch._foreach_norm(grads, 1)).double()
        self.steps += 1

    def end_epoch(self, epoch: int) -> None:
        if self.steps == 0:
            return
        means = (self.sums.cpu() / self.numels / self.steps).tolist()
        for order, (name, numel, mean) in enumerate(zip(self.names, self.numels.tolist(), means)):
            self.rows.append({
                "epoch": epoch,
                "order": order,
                "layer": name.removesuffix(".weight"),
                "parameter": name,
                "numel": int(numel),
                "mean_abs_grad": mean,
            })
        self.sums.zero_()
        self.steps = 0

    def restore(self, sums: torch.Tensor, rows: list[dict], steps: int) -> None:
        """Continue from a checkpoint: the epochs recorded and the current epoch's sums so far."""
        self.sums.copy_(sums)
        self.rows = list(rows)
        self.steps = steps

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=list(COLUMNS))
