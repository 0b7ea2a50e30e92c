"""Question 6: the receptive field of a stack of convolutions and poolings.

By formula: a layer with kernel k and stride s after layers whose outputs are ``j`` input
pixels apart (the jump) widens the field by (k − 1)·j and multiplies the jump by s. By
autograd: the input pixels that reach one output's gradient. Torch is imported only inside
the functions that build networks, so the formula needs no torch.
"""

from __future__ import annotations

import re
from typing import Sequence

KINDS = ("conv", "maxpool", "avgpool")
_LAYER = re.compile(r"^\s*(conv|maxpool|avgpool)(?:2d)?\s*(?:\(\s*(\d+)\s*,\s*(\d+)\s*\)|\s+(\d+)\s+(\d+))\s*$")

# The handout's Table 1 as "kind k s" (YAML flow lists would split "conv(3,1)" at the comma).
# Row 9 is printed identical to row 8 in the seed; it is kept as printed.
HANDOUT_ROWS: list[list[str]] = [
    ["conv 3 1", "conv 3 1", "conv 1 1", "maxpool 2 2", "conv 2 2"],
    ["conv 3 1", "maxpool 2 2", "conv 2 2", "maxpool 2 2", "conv 3 1"],
    ["conv 5 1", "maxpool 3 1", "conv 4 1", "maxpool 2 2", "conv 3 1"],
    ["conv 7 2", "conv 5 1", "conv 3 2", "conv 3 1", "conv 1 1"],
    ["conv 4 1", "conv 3 2", "maxpool 2 2", "conv 3 1", "maxpool 2 2"],
    ["conv 7 2", "conv 5 2", "maxpool 2 2", "conv 5 2", "conv 7 2"],
    ["conv 3 3", "maxpool 2 2", "conv 5 3", "maxpool 3 3", "conv 5 1"],
    ["conv 4 2", "maxpool 2 2", "conv 3 1", "conv 1 1", "conv 2 1"],
    ["conv 4 2", "maxpool 2 2", "conv 3 1", "conv 1 1", "conv 2 1"],
    ["conv 11 2", "conv 7 2", "maxpool 2 2", "conv 5 2", "conv 3 1"],
]
HANDOUT_ROW1_RF = 8  # the one value the handout gives: "8 x 8"

Layer = tuple[str, int, int]


def parse_layer(text: str) -> Layer:
    """'conv 3 1' -> ('conv', 3, 1): kind, kernel, stride ('conv2d(3,1)' is read too)."""
    match = _LAYER.match(str(text))
    if not match:
        raise ValueError(f"cannot read layer {text!r}: expected 'KIND K S' with KIND one of {', '.join(KINDS)}, "
                         f"e.g. 'conv 3 1' or 'maxpool 2 2'")
    kind = match.group(1)
    k, s = (int(g) for g in (match.group(2, 3) if match.group(2) else match.group(4, 5)))
    if k < 1 or s < 1:
        raise ValueError(f"cannot read layer {text!r}: kernel and stride must be at least 1")
    return kind, k, s


def _layers(layers: Sequence[str | Layer]) -> list[Layer]:
    return [parse_layer(layer) if isinstance(layer, str) else tuple(layer) for layer in layers]


def grow(rf: int, jump: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """The field and jump after one layer; a dilated kernel spans dilation·(k − 1) + 1 pixels."""
    return rf + dilation * (kernel - 1) * jump, jump * stride


def receptive_fields(layers: Sequence[str | Layer]) -> list[tuple[int, int]]:
    """(receptive field, jump) after each layer, starting from one pixel (rf 1, jump 1)."""
    rf, jump, out = 1, 1, []
    for _, k, s in _layers(layers):
        rf, jump = grow(rf, jump, k, s)
        out.append((rf, jump))
    return out


def _network(layers: list[Layer]):
    """1-channel layers with all-ones kernels and no bias; average- for max-pooling: the same
    field, but every input of the window gets a gradient (max-pooling picks one)."""
    import torch
    from torch import nn

    modules = []
    for kind, k, s in layers:
        if kind == "conv":
            conv = nn.Conv2d(1, 1, k, stride=s, bias=False, dtype=torch.float64)
            nn.init.ones_(conv.weight)
            modules.append(conv)
        else:
            modules.append(nn.AvgPool2d(k, stride=s))
    return nn.Sequential(*modules)


def empirical_receptive_field(layers: Sequence[str | Layer]) -> int:
    """The field measured by autograd: the span of input rows whose gradient from the centre
    output element is non-zero. Without padding every output sees only real pixels, so any
    input that leaves at least one output is large enough; a few outputs per side are kept."""
    import torch

    parsed = _layers(layers)
    size = 8
    while True:
        out = size
        for _, k, s in parsed:
            out = (out - k) // s + 1 if out >= k else 0
        if out >= 3:
            break
        size *= 2
    x = torch.zeros(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    y = _network(parsed)(x)
    centre = y.shape[-1] // 2
    y[0, 0, centre, centre].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(dim=1)).flatten()
    return int(rows.max() - rows.min() + 1)


class Tracker:
    """The field and jump of the running feature map as leaf modules are called in order.

    Conv2d, MaxPool2d and AvgPool2d grow them (height axis: kernel, stride, dilation); a
    Linear or an adaptive pooling mixes every position, so from there on the field is the whole
    image: reported as the image's larger side (or the field so far, when padded convolutions
    already made it larger, so that it never shrinks) with no jump (None); other layers (activations,
    BatchNorm, Flatten, which only reshapes) keep them. Call order follows the main path of a
    sequential network; a skip path that only adds its input (identity) is covered, because the
    sum's field is the main path's. A strided convolution on a skip path would be counted as if
    it were in series, which no gridscape model has.
    """

    def __init__(self, image_side: int):
        self.image_side = int(image_side)
        self.rf, self.jump = 1, 1

    def update(self, module) -> tuple[int, int | None]:
        from torch import nn

        def first(value):
            return value[0] if isinstance(value, (tuple, list)) else value

        if self.jump is None:
            return self.rf, None
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
            self.rf, self.jump = grow(self.rf, self.jump, first(module.kernel_size),
                                      first(module.stride), first(module.dilation))
        elif isinstance(module, nn.AvgPool2d):
            stride = first(module.stride) if module.stride else first(module.kernel_size)
            self.rf, self.jump = grow(self.rf, self.jump, first(module.kernel_size), stride)
        elif isinstance(module, (nn.Linear, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
            self.rf, self.jump = max(self.rf, self.image_side), None
        return self.rf, self.jump


def module_receptive_fields(model, in_shape: Sequence[int]) -> list[tuple[int, int | None]]:
    """(field, jump) after each leaf module of ``model`` in call order, for an input of shape
    ``in_shape`` = (channels, height, width); see ``Tracker`` for the rules."""
    import torch

    tracker, out, handles = Tracker(max(in_shape[1:])), [], []
    for name, module in model.named_modules():
        if name and not any(True for _ in module.children()):
            handles.append(module.register_forward_hook(lambda m, _i, _o: out.append(tracker.update(m))))
    device = next(model.parameters(), torch.empty(0)).device  # a model without weights runs on the CPU
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros((1, *in_shape), device=device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return out
