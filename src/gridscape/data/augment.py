"""Augmentations on whole batches of image tensors (N x C x H x W, pixel values 0..255).

Random draws come from a CPU ``torch.Generator`` so that the same seed gives the same batch
on any device. ``probability`` 1 applies a transform to every image (used by the figure).
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

AUGMENTATION_NAMES = ("hflip", "vflip", "rotate10", "rotate90", "shift5", "crop4", "contrast", "noise")
DESCRIPTIONS = {
    "hflip": "left-right flip",
    "vflip": "up-down flip",
    "rotate10": "random rotation by up to 10 degrees",
    "rotate90": "random rotation by up to 90 degrees",
    "shift5": "random shift by up to 5 pixels up-down and left-right",
    "crop4": "random crop of the image padded by 4 zero pixels (a shift by up to 4 pixels, every image)",
    "contrast": "random contrast change (factor 0.5 to 1.5)",
    "noise": "additive Gaussian noise (sigma 8 of 255)",
}


def _uniform(n: int, low: float, high: float, generator: torch.Generator | None, device) -> Tensor:
    return (torch.rand(n, generator=generator) * (high - low) + low).to(device)


def _chosen(n: int, probability: float, generator: torch.Generator | None, device) -> Tensor:
    return (torch.rand(n, generator=generator) < probability).to(device).view(n, 1, 1, 1)


def _flip(images: Tensor, dim: int, probability: float, generator) -> Tensor:
    mask = _chosen(images.shape[0], probability, generator, images.device)
    return torch.where(mask, images.flip(dim), images)


def _affine(images: Tensor, theta: Tensor) -> Tensor:
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images.float(), grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _rotate(images: Tensor, max_degrees: float, probability: float, generator) -> Tensor:
    n = images.shape[0]
    angles = _uniform(n, -max_degrees, max_degrees, generator, images.device) * (math.pi / 180)
    angles = angles * _chosen(n, probability, generator, images.device).view(n).float()
    cos, sin = torch.cos(angles), torch.sin(angles)
    zeros = torch.zeros_like(angles)
    theta = torch.stack([torch.stack([cos, -sin, zeros], 1), torch.stack([sin, cos, zeros], 1)], 1)
    return _affine(images, theta)


def _shift(images: Tensor, max_pixels: int, probability: float, generator) -> Tensor:
    n, _, height, width = images.shape
    dx = torch.randint(-max_pixels, max_pixels + 1, (n,), generator=generator)
    dy = torch.randint(-max_pixels, max_pixels + 1, (n,), generator=generator)
    keep = ~_chosen(n, probability, generator, "cpu").view(n)
    dx[keep] = 0
    dy[keep] = 0
    padded = F.pad(images, (max_pixels,) * 4)
    rows = (torch.arange(height).view(1, height) + max_pixels - dy.view(n, 1)).to(images.device)
    cols = (torch.arange(width).view(1, width) + max_pixels - dx.view(n, 1)).to(images.device)
    batch = torch.arange(n, device=images.device).view(n, 1, 1)
    # Gather per-image windows: result[b, c, i, j] = padded[b, c, rows[b, i], cols[b, j]].
    shifted = padded.permute(0, 2, 3, 1)[batch, rows.view(n, height, 1), cols.view(n, 1, width)]
    return shifted.permute(0, 3, 1, 2).contiguous()


def _contrast(images: Tensor, probability: float, generator) -> Tensor:
    n = images.shape[0]
    factor = _uniform(n, 0.5, 1.5, generator, images.device).view(n, 1, 1, 1)
    factor = torch.where(_chosen(n, probability, generator, images.device), factor, torch.ones_like(factor))
    x = images.float()
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return ((x - mean) * factor + mean).clamp(0, 255)


def _noise(images: Tensor, probability: float, generator) -> Tensor:
    noise = torch.randn(images.shape, generator=generator).to(images.device) * 8.0
    noise = noise * _chosen(images.shape[0], probability, generator, images.device)
    return (images.float() + noise).clamp(0, 255)


TRANSFORMS: dict[str, Callable[[Tensor, float, torch.Generator | None], Tensor]] = {
    "hflip": lambda x, p, g: _flip(x, 3, p, g),
    "vflip": lambda x, p, g: _flip(x, 2, p, g),
    "rotate10": lambda x, p, g: _rotate(x, 10.0, p, g),
    "rotate90": lambda x, p, g: _rotate(x, 90.0, p, g),
    "shift5": lambda x, p, g: _shift(x, 5, p, g),
    # torchvision's RandomCrop(32, padding=4) crops every image: a uniform shift in [-4, 4]
    "crop4": lambda x, p, g: _shift(x, 4, 1.0, g),
    "contrast": _contrast,
    "noise": _noise,
}


def apply_augmentations(
    images: Tensor,
    names: Sequence[str],
    generator: torch.Generator | None,
    probability: float = 0.5,
) -> Tensor:
    """Apply each named augmentation in turn; flips and shifts keep uint8, the others give float."""
    for name in names:
        if name not in TRANSFORMS:
            raise KeyError(f"unknown augmentation {name!r}; expected one of {', '.join(AUGMENTATION_NAMES)}")
        images = TRANSFORMS[name](images, probability, generator)
    return images


def to_uint8(images: Tensor) -> Tensor:
    return images.float().round().clamp(0, 255).to(torch.uint8)
