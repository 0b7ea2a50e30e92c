"""Data in memory: uint8 image tensors on the device, normalised batch by batch.

No Dataset of PIL images and no DataLoader: a whole CIFAR-10 training set is 150 MB as uint8,
so it stays resident and each batch is one index, one conversion and one affine map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import torch
from torch import Tensor

from .augment import Augmentation, apply_augmentations


@dataclass
class TensorData:
    """Images (uint8, N x C x H x W) and labels (int64) on one device, with the normalisation."""

    images: Tensor
    labels: Tensor
    mean: Tensor  # (1, C, 1, 1) float32, on the same device; (1, C, H, W) per pixel
    std: Tensor
    channels_last: bool = True
    dtype: torch.dtype = torch.float32  # of the normalised batches (float64 only in exactness tests)

    @classmethod
    def from_arrays(
        cls,
        images: np.ndarray,
        labels: np.ndarray,
        mean: Sequence[float] | np.ndarray,
        std: Sequence[float] | np.ndarray,
        device: torch.device,
        channels_last: bool = True,
    ) -> "TensorData":
        images_t = torch.from_numpy(np.ascontiguousarray(images)).to(device)
        labels_t = torch.from_numpy(np.asarray(labels, dtype=np.int64)).to(device)
        # per channel (C,), or per pixel (C, H, W: train.normalization pixel)
        shape = (1, -1, 1, 1) if np.ndim(mean) <= 1 else (1, *np.shape(mean))
        mean_t = torch.tensor(np.asarray(mean, dtype=np.float32) * 255.0, device=device).view(shape)
        std_t = torch.tensor(np.asarray(std, dtype=np.float32) * 255.0, device=device).view(shape)
        return cls(images_t, labels_t, mean_t, std_t, channels_last)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def normalise(self, images: Tensor) -> Tensor:
        """uint8 (or float in 0..255) images to normalised ``dtype``, in the chosen memory layout."""
        x = (images.to(self.dtype) - self.mean) / self.std
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def shuffled_order(self, generator: torch.Generator, min_size: int = 0) -> Tensor:
        """An epoch's order of the images, drawn from ``generator`` (on the images' device):
        one permutation, or as many fresh ones one after another as reach ``min_size`` images
        (an epoch of a tiny subset that still takes enough steps)."""
        passes = max(1, math.ceil(min_size / len(self)))
        order = torch.cat([torch.randperm(len(self), generator=generator) for _ in range(passes)])
        return order.to(self.images.device)

    def batches(
        self,
        batch_size: int,
        generator: torch.Generator | None = None,
        augmentations: Sequence[Augmentation | str] = (),
        order: Tensor | None = None,
        start_step: int = 0,
    ) -> Iterator[tuple[Tensor, Tensor]]:
        """Normalised (images, labels) batches; shuffled when a generator is given, in
        ``order`` when one is (an epoch's ``shuffled_order``), from batch ``start_step`` on (an
        epoch resumed from a checkpoint: the generator then holds its state at that batch)."""
        if order is None and generator is not None:
            order = self.shuffled_order(generator)
        n = len(self) if order is None else len(order)
        for start in range(start_step * batch_size, n, batch_size):
            if order is None:
                images = self.images[start : start + batch_size]
                labels = self.labels[start : start + batch_size]
            else:
                index = order[start : start + batch_size]
                # index_select, not images[index]: the same rows, a tenth of the time on the CPU
                images = self.images.index_select(0, index)
                labels = self.labels.index_select(0, index)
            if augmentations:
                images = apply_augmentations(images, augmentations, generator)
            yield self.normalise(images), labels
