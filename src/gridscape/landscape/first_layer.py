"""The ``first_layer`` method: the first layer once per batch of images, not once per point.

A layer's output is linear in its weights, so for the first weighted layer of the chain
(``gridscape.models.chain``) conv(x, θ* + αδ + βη) = conv(x, θ*) + α·conv(x, δ) + β·conv(x, η).
Each batch of images goes through that layer once per weight set of the points' ``Span``
(three for the grid: θ*, δ, η; two for the 1-D slice, θ* and δ, and for the interpolation,
θ0 and θ*); every point then combines those outputs with its weights and runs only the rest
of the network, with the rest's tensors (BatchNorm statistics too, on the interpolation)
moved to the point in place as the loop moves them. The images are the outer loop and the
points the inner one, so a batch's outputs are reused by every point while they are still in
the cache, and the images need no normalised copy: each batch is normalised once per job.

Each point adds its batch sums in the order of the batches, as ``gridscape.train.evaluate``
does, with the same batch size and the same modules after the first layer: where a point's
weights are one weight set exactly (α = β = 0; t = 0 or 1) the combination adds exact zeros
and the point equals that model's own loss bit for bit. Elsewhere the sum of the outputs is
rounded differently from one convolution with the moved weights: the points agree with the
loop to ``FIRST_LAYER_RTOL`` relative, except where a BatchNorm variance clamped at 0 (the
interpolation past t = 1) divides by sqrt(eps) and magnifies that difference.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from gridscape.models.chain import FirstLayerSplit
from gridscape.objective import CLASSIFICATION

from .span import Span

# A batch's stored outputs (at most three: one per weight set) and the combined one may take
# at most this much; above it ``auto`` evaluates point by point (``first_layer_bytes``).
FIRST_LAYER_MAX_BYTES = 1 << 30
FIRST_LAYER_RTOL = 1e-6  # measured on LeNet-5 and CIFAR-shaped images: <= 2e-7


def first_layer_bytes(split: FirstLayerSplit, image: Tensor, batch_size: int) -> int:
    """Memory of the four first-layer outputs of one batch, from one image's output."""
    with torch.inference_mode():
        out = split.first(split.prefix(image[:1]))
    return 4 * int(out.numel()) * out.element_size() * int(batch_size)


def evaluate_split(
    split: FirstLayerSplit,
    batches: Callable[[], object],
    n_images: int,
    span: Span,
    progress: Callable[[int], None],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(loss, acc, seconds) per point of ``span``, whose tensors are the model's (moved in
    place, restored at the end). ``batches()`` yields normalised (images, labels);
    ``progress`` gets the number of batches done."""
    first_ids = {id(p) for p in split.first.parameters()}
    first = [k for k, t in enumerate(span.tensors) if id(t) in first_ids]
    rest = [k for k in range(len(span.tensors)) if id(span.tensors[k]) not in first_ids]
    if not first_ids <= {id(t) for t in span.tensors}:
        raise ValueError("the span does not hold the first layer's parameters")
    first_tensors = [span.tensors[k] for k in first]
    n_points = len(span)
    device = span.tensors[0].device
    loss_sums = torch.zeros(n_points, dtype=torch.float64, device=device)
    hits = torch.zeros(n_points, dtype=torch.int64, device=device)
    seconds = np.zeros(n_points)
    combined: Tensor | None = None
    with torch.inference_mode():
        try:
            for done, (images, labels) in enumerate(batches(), start=1):
                start = time.perf_counter()
                x = split.prefix(images)
                parts = []
                for basis in span.bases:
                    torch._foreach_copy_(first_tensors, [basis[k] for k in first])
                    parts.append(split.first(x))
                if combined is None or combined.shape != parts[0].shape:
                    combined = torch.empty_like(parts[0])  # reused: a fresh one per point costs page faults
                seconds += (time.perf_counter() - start) / n_points
                for k in range(n_points):
                    start = time.perf_counter()
                    span.move(k, rest)
                    sums = CLASSIFICATION.batch_sums(split.rest(span.combine(parts, k, combined)), images, labels)
                    loss_sums[k] += sums["loss"]
                    hits[k] += sums["acc"]
                    seconds[k] += time.perf_counter() - start
                progress(done)
        finally:
            span.restore()
    return loss_sums.cpu().numpy() / n_images, hits.cpu().numpy() / n_images, seconds
