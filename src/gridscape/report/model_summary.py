"""The layer table of a model, measured on the model itself, and the forward-pass check.

A forward hook on every leaf module records its output shape while one dummy input of the
dataset's shape passes through; parameter counts come from each module's own parameters.
No torchinfo: a dozen lines of hooks give the same table without another dependency.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import torch
from torch import nn

from gridscape.exercises.receptive_field import Tracker


@dataclass
class LayerRow:
    module: str
    type: str
    description: str
    output_shape: str
    params: int
    trainable: int
    # input pixels (per side) that one output element sees, and the pixel distance between
    # neighbouring outputs; jump None once a layer mixes all positions (see Tracker)
    receptive_field: int | None = None
    jump: int | None = None


def describe(module: nn.Module) -> str:
    """A short description of a layer: 'convolution 5×5, 1 → 6 channels', 'max-pool 2×2'."""
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        pad = f", padding {module.padding[0]}" if any(module.padding) else ""
        return f"convolution {kh}×{kw}, {module.in_channels} → {module.out_channels} channels{pad}"
    if isinstance(module, nn.ConvTranspose2d):
        kh, kw = module.kernel_size
        return f"transposed convolution {kh}×{kw}, {module.in_channels} → {module.out_channels} channels, stride {module.stride[0]}"
    if isinstance(module, nn.Linear):
        return f"fully connected, {module.in_features} → {module.out_features}"
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        size = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
        kind = "max-pool" if isinstance(module, nn.MaxPool2d) else "average-pool"
        return f"{kind} {size}×{size}"
    if isinstance(module, nn.Flatten):
        return "flatten"
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return f"batch norm, {module.num_features} features"
    if isinstance(module, (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.GELU, nn.ELU, nn.SiLU)):
        return f"{type(module).__name__} activation"
    if isinstance(module, nn.Dropout):
        return f"dropout p={module.p:.3g}"
    return type(module).__name__.lower()


def _shape(output) -> tuple[int, ...] | None:
    if isinstance(output, torch.Tensor):
        return tuple(output.shape)
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return tuple(output[0].shape)
    return None


def layer_table(model: nn.Module, in_shape: Sequence[int], seed: int = 0) -> tuple[list[LayerRow], torch.Tensor]:
    """One row per leaf module in call order, and the model's output on a dummy input.

    Each row also holds the receptive field and jump after the layer, as
    ``gridscape.exercises.receptive_field.module_receptive_fields`` computes them (the same
    ``Tracker``, fed in the same pass).

    The input is one seeded standard-normal tensor of shape (1, *in_shape); the model runs
    in eval mode without gradients and is left in the mode it was in.
    """
    rows: list[LayerRow] = []
    handles = []
    # receptive fields need an image (channels, height, width); other inputs leave them empty
    tracker = Tracker(max(in_shape[1:])) if len(in_shape) == 3 else None

    def hook(name):
        def record(module, _inputs, output):
            shape = _shape(output)
            params = sum(p.numel() for p in module.parameters(recurse=False))
            trainable = sum(p.numel() for p in module.parameters(recurse=False) if p.requires_grad)
            rf, jump = tracker.update(module) if tracker else (None, None)
            rows.append(
                LayerRow(
                    module=name,
                    type=type(module).__name__,
                    description=describe(module),
                    output_shape="x".join(str(d) for d in shape) if shape else "",
                    params=params,
                    trainable=trainable,
                    receptive_field=rf,
                    jump=jump,
                )
            )

        return record

    for name, module in model.named_modules():
        if name and not any(True for _ in module.children()):
            handles.append(module.register_forward_hook(hook(name)))
    generator = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    x = torch.randn((1, *in_shape), generator=generator).to(device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            output = model(x)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    counted = sum(row.params for row in rows)
    total = sum(p.numel() for p in model.parameters())
    if counted != total:
        # Parameters held by non-leaf modules: list them so the table still adds up.
        rows.append(LayerRow("(other)", "", "parameters outside leaf modules", "", total - counted, total - counted))
    return rows, output


def forward_check(model: nn.Module, in_shape: Sequence[int], num_classes: int, seed: int = 0) -> tuple[list[dict], dict]:
    """The layer table as dicts and the facts of the forward pass on a dummy input."""
    rows, output = layer_table(model, in_shape, seed)
    expected = [1, int(num_classes)]
    check = {
        "input_shape": [1, *[int(d) for d in in_shape]],
        "output_shape": [int(d) for d in output.shape],
        "expected_output_shape": expected,
        "num_classes": int(num_classes),
        "shape_ok": list(output.shape) == expected,
        "finite": bool(torch.isfinite(output).all()),
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "trainable_parameters": int(sum(p.numel() for p in model.parameters() if p.requires_grad)),
        "layers": len(rows),
        "dummy_input": f"torch.randn(1, {', '.join(str(int(d)) for d in in_shape)}) from a CPU generator seeded with {seed}",
    }
    check["ok"] = check["shape_ok"] and check["finite"]
    return [asdict(row) for row in rows], check
