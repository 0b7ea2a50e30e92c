"""What a training loop optimises and records: the loss, the metric names and their arithmetic.

``train.train`` and ``train.evaluate_metrics`` run the loops; an ``Objective`` only says what
to compute from a batch's (model output, normalised images, labels). A study kind that does not
classify (an autoencoder) plugs in its own objective instead of copying the loop:

* subclass ``Objective`` (a frozen dataclass) and override ``loss`` and ``batch_sums``, and
  ``keep`` / ``train_metrics`` if it records a training metric besides the loss;
* add the instance to ``OBJECTIVES`` so that ``objective_by_name`` finds it from a config.

Every metric is a mean over examples: ``batch_sums`` gives each metric's sum over a batch's
examples and the evaluation divides the totals by the number of examples. "loss" comes first
in ``metrics`` and is always recorded; the loop keeps it per step itself (divergence detection
reads it), so ``keep`` and ``train_metrics`` deal only with the other metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class Objective:
    name: str
    metrics: tuple[str, ...] = ("loss",)  # history columns train_<m> and <eval>_<m>, in this order
    best: str = "loss"  # the evaluation metric keep_best selects on ...
    higher_is_better: bool = False  # ... and which way

    def loss(self, output: Tensor, images: Tensor, labels: Tensor) -> Tensor:
        """The batch's mean loss, the one the optimiser steps on."""
        raise NotImplementedError

    def batch_sums(self, output: Tensor, images: Tensor, labels: Tensor) -> dict[str, Tensor]:
        """Per metric, its sum over the batch's examples as a device tensor (the loss in float64)."""
        raise NotImplementedError

    def keep(self, output: Tensor, images: Tensor, labels: Tensor) -> tuple[Tensor, ...]:
        """Per training step, the detached device tensors ``train_metrics`` needs at the epoch's
        end. Only what must be kept, with no reduction: a step launches as few kernels as it can
        and never waits for the device."""
        return ()

    def train_metrics(self, kept: Sequence[tuple[Tensor, ...]], n: int) -> dict[str, float]:
        """The epoch's training metrics other than the loss, from every step's ``keep``. They
        must depend only on each slot's concatenation over the steps: an epoch resumed from a
        checkpoint hands its earlier steps over as one concatenated batch."""
        return {}


@dataclass(frozen=True)
class Classification(Objective):
    """Cross-entropy and accuracy, in exactly the arithmetic the loop always had (bit-identical)."""

    def loss(self, output, images, labels):
        return nn.functional.cross_entropy(output, labels)

    def batch_sums(self, output, images, labels):
        return {
            "loss": nn.functional.cross_entropy(output, labels, reduction="sum").double(),
            "acc": (output.argmax(dim=1) == labels).sum(),
        }

    def keep(self, output, images, labels):
        # the predictions, not the hits: one argmax per step, one comparison per epoch
        return (output.detach().argmax(dim=1), labels)

    def train_metrics(self, kept, n):
        predictions, targets = zip(*kept)
        return {"acc": int((torch.cat(predictions) == torch.cat(targets)).sum()) / n}


@dataclass(frozen=True)
class Reconstruction(Objective):
    """An autoencoder's loss: the distance between the output and the (normalised) input images.

    The output may be flat (a fully connected decoder) or image-shaped; it is compared with the
    images element by element in their logical (N, C, H, W) order. The loss is the mean over
    all elements; per example, the mean over its elements, so the evaluation's mean over
    examples is the same number.
    """

    distance: Callable[..., Tensor] = nn.functional.l1_loss  # l1_loss or mse_loss: (input, target, reduction=)

    def loss(self, output, images, labels):
        return self.distance(output.reshape(images.shape), images)

    def batch_sums(self, output, images, labels):
        total = self.distance(output.reshape(images.shape), images, reduction="sum").double()
        return {"loss": total / images[0].numel()}


CLASSIFICATION = Classification("classification", ("loss", "acc"), best="acc", higher_is_better=True)
RECONSTRUCTION_L1 = Reconstruction("reconstruction_l1")  # mean absolute error
RECONSTRUCTION_MSE = Reconstruction("reconstruction_mse", distance=nn.functional.mse_loss)

OBJECTIVES: dict[str, Objective] = {o.name: o for o in (CLASSIFICATION, RECONSTRUCTION_L1, RECONSTRUCTION_MSE)}


def objective_by_name(name: str) -> Objective:
    try:
        return OBJECTIVES[name]
    except KeyError:
        raise ValueError(f"unknown objective {name!r}; known objectives: {', '.join(OBJECTIVES)}") from None
