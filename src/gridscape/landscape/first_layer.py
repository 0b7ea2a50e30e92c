"""The ``first_layer`` method: the first layer once per batch of images, not once per point.

A layer's output is linear in its weights, so for the first weighted layer of the chain
(``gridscape.models.chain``) conv(x, θ* + αδ + βη) = conv(x, θ*) + α·conv(x, δ) + β·conv(x, η).
Each batch of images goes through that layer three times (θ*, δ, η); every point of the
chunk then combines the three outputs with its (α, β) and runs only the rest of the network,
with the rest's weights moved to the point in place as the loop does. The images are the
outer loop and the points the inner one, so a batch's three outputs are reused by every point
while they are still in the cache, and the images need no normalised copy: each batch is
normalised once per job.

Each point adds its batch sums in the order of the batches, as ``gridscape.train.evaluate``
does, with the same batch size and the same modules after the first layer: at α = β = 0 the
combination adds exact zeros and the point equals the final model's own loss bit for bit.
Elsewhere the sum of the three outputs is rounded differently from one convolution with the
moved weights: the points agree with the loop to ``FIRST_LAYER_RTOL`` relative.
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

import numpy as np
import torch
from torch import Tensor

from gridscape.models.chain import FirstLayerSplit
from gridscape.objective import CLASSIFICATION

# The three stored outputs of a batch and the combined one may take at most this much; above
# it ``auto`` evaluates point by point (``first_layer_bytes``).
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
    params: Sequence[Tensor],
    theta: Sequence[Tensor],
    delta: Sequence[Tensor],
    eta: Sequence[Tensor],
    alphas: np.ndarray,
    betas: np.ndarray,
    progress: Callable[[int], None],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(loss, acc, seconds) per point. ``params`` are the model's parameters (in place, put
    back to ``theta`` at the end); ``delta`` and ``eta`` the directions in the same order and
    layout; ``batches()`` yields normalised (images, labels); ``progress`` gets the number of
    batches done."""
    first_ids = {id(p) for p in split.first.parameters()}
    first = [k for k, p in enumerate(params) if id(p) in first_ids]
    rest = [k for k in range(len(params)) if id(params[k]) not in first_ids]

    def pick(tensors: Sequence[Tensor], slots: list[int]) -> list[Tensor]:
        return [tensors[k] for k in slots]

    first_params, rest_params = pick(params, first), pick(params, rest)
    rest_theta, rest_delta, rest_eta = pick(theta, rest), pick(delta, rest), pick(eta, rest)
    n_points = len(alphas)
    device = params[0].device
    loss_sums = torch.zeros(n_points, dtype=torch.float64, device=device)
    hits = torch.zeros(n_points, dtype=torch.int64, device=device)
    seconds = np.zeros(n_points)
    combined: Tensor | None = None
    with torch.inference_mode():
        try:
            for done, (images, labels) in enumerate(batches(), start=1):
                start = time.perf_counter()
                x = split.prefix(images)
                outputs = []
                for weights in (theta, delta, eta):
                    torch._foreach_copy_(first_params, pick(weights, first))
                    outputs.append(split.first(x))
                centre, along_delta, along_eta = outputs
                torch._foreach_copy_(first_params, pick(theta, first))
                if combined is None or combined.shape != centre.shape:
                    combined = torch.empty_like(centre)  # reused: a fresh one per point costs page faults
                seconds += (time.perf_counter() - start) / n_points
                for k in range(n_points):
                    start = time.perf_counter()
                    torch._foreach_copy_(rest_params, rest_theta)
                    torch._foreach_add_(rest_params, rest_delta, alpha=float(alphas[k]))
                    torch._foreach_add_(rest_params, rest_eta, alpha=float(betas[k]))
                    torch.add(centre, along_delta, alpha=float(alphas[k]), out=combined)
                    combined.add_(along_eta, alpha=float(betas[k]))
                    sums = CLASSIFICATION.batch_sums(split.rest(combined), images, labels)
                    loss_sums[k] += sums["loss"]
                    hits[k] += sums["acc"]
                    seconds[k] += time.perf_counter() - start
                progress(done)
        finally:
            torch._foreach_copy_(params, theta)
    return loss_sums.cpu().numpy() / n_images, hits.cpu().numpy() / n_images, seconds
