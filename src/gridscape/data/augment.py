"""Augmentations on whole batches of image tensors (N x C x H x W, pixel values 0..255).

Random draws come from a CPU ``torch.Generator`` so that the same seed gives the same batch
on any device. ``probability`` 1 applies a transform to every image (used by the figure).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from gridscape.config.options import AUGMENTATION_OPTIONS

AUGMENTATION_NAMES = (
    "hflip", "vflip", "rotate10", "rotate90", "shift5", "crop4", "crop", "resized_crop", "contrast", "noise",
)
FLIPS = ("hflip", "vflip")  # their probability is train.flip_p
PADDED_CROPS = ("crop",)  # its padding is train.crop_padding
DESCRIPTIONS = {
    "hflip": "left-right flip",
    "vflip": "up-down flip",
    "rotate10": "random rotation by up to 10 degrees",
    "rotate90": "random rotation by up to 90 degrees",
    "shift5": "random shift by up to 5 pixels up-down and left-right",
    "crop4": "random crop of the image padded by 4 zero pixels (a shift by up to 4 pixels, every image)",
    "crop": "random crop of the image padded by train.crop_padding zero pixels (every image)",
    "resized_crop": (
        "random crop of 50 to 100 % of the image's area, aspect ratio 3/4 to 4/3, resized back to the "
        "image's size (every image)"
    ),
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


# torchvision's RandomResizedCrop draws the area from (0.08, 1): on a 28x28 image that can
# leave an 8x8 patch, no longer a garment or a digit. The DS405B handout gives no parameters;
# half the area at least keeps the object recognisable.
RESIZED_CROP_SCALE = (0.5, 1.0)
RESIZED_CROP_RATIO = (3 / 4, 4 / 3)


def _resized_crop(
    images: Tensor,
    generator: torch.Generator | None,
    scale: tuple[float, float] = RESIZED_CROP_SCALE,
    ratio: tuple[float, float] = RESIZED_CROP_RATIO,
) -> Tensor:
    """A random crop of every image resized back to the image's size (torchvision's
    RandomResizedCrop, batched): the area fraction s uniform in ``scale``, the aspect ratio r
    (width / height) log-uniform in ``ratio``, the crop's sides sqrt(s r) and sqrt(s / r) of the
    image's (each at most the whole side: torchvision redraws instead, up to ten times), its
    position uniform where it fits, sampled bilinearly at the output's pixel centres. Scale
    (1, 1) with ratio (1, 1) samples every pixel at its own centre: the identity. Four draws per
    image from the CPU ``generator``: area, log ratio, left, top."""
    n = images.shape[0]
    area = torch.rand(n, generator=generator, dtype=torch.float64) * (scale[1] - scale[0]) + scale[0]
    low, high = math.log(ratio[0]), math.log(ratio[1])
    aspect = torch.exp(torch.rand(n, generator=generator, dtype=torch.float64) * (high - low) + low)
    width = torch.sqrt(area * aspect).clamp(max=1.0)  # fractions of the image's sides
    height = torch.sqrt(area / aspect).clamp(max=1.0)
    left = torch.rand(n, generator=generator, dtype=torch.float64) * (1 - width)
    top = torch.rand(n, generator=generator, dtype=torch.float64) * (1 - height)
    # affine_grid maps the output's [-1, 1] onto the crop: x_in = width * x_out + centre
    zeros = torch.zeros_like(width)
    theta = torch.stack([
        torch.stack([width, zeros, 2 * left + width - 1], 1),
        torch.stack([zeros, height, 2 * top + height - 1], 1),
    ], 1).float().to(images.device)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images.float(), grid, mode="bilinear", padding_mode="border", align_corners=False)


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


@dataclass(frozen=True)
class Augmentation:
    """One augmentation of a study with its parameters: the fraction of images it applies to
    (crops apply to every image) and, for ``crop``, the padding."""

    name: str
    probability: float = 0.5
    padding: int = 4

    def __post_init__(self) -> None:
        if self.name not in AUGMENTATION_NAMES:
            raise KeyError(f"unknown augmentation {self.name!r}; expected one of {', '.join(AUGMENTATION_NAMES)}")

    def describe(self) -> str:
        """What the transformation does to an image, with the crop's padding (how often it
        applies is ``short``'s and the report's to say)."""
        if self.name in PADDED_CROPS:
            return (f"random crop of the image padded by {self.padding} zero pixels "
                    f"(a shift by up to {self.padding} pixels, every image)")
        return DESCRIPTIONS[self.name]

    def short(self) -> str:
        """A column header: the name and its parameter."""
        return label(self)


def label(augmentation: Augmentation, values: Mapping[str, Sequence] | None = None) -> str:
    """The augmentation's name and its parameter: every value the runs give it (``values``:
    key -> values, from ``kinds.base.run_values``), else its own."""
    values = values or {}
    if augmentation.name in PADDED_CROPS:
        pads = values.get("train.crop_padding", [augmentation.padding])
        return f"{augmentation.name} (pad {', '.join(str(int(v)) for v in pads)})"
    if augmentation.name in FLIPS:
        probabilities = values.get("train.flip_p", [augmentation.probability])
        return f"{augmentation.name} (p {', '.join(f'{float(v):g}' for v in probabilities)})"
    return augmentation.name


def figure_columns(train_config: Mapping, values: Mapping[str, Sequence] | None = None) -> list[tuple[str, Augmentation]]:
    """The study's training augmentations as the figure shows them, each with its header: a
    crop once per padding the runs try (the padding is what the images show), any other
    once, headed with every value the runs give it."""
    values = values or {}
    columns = []
    for augmentation in augmentations_of(train_config):
        if augmentation.name in PADDED_CROPS and "train.crop_padding" in values:
            padded = [replace(augmentation, padding=int(v)) for v in values["train.crop_padding"]]
            columns += [(label(crop), crop) for crop in padded]
        else:
            columns.append((label(augmentation, values), augmentation))
    return columns


def headers(train_config: Mapping, values: Mapping[str, Sequence] | None = None) -> list[str]:
    """The study's training augmentations in words for a report, each with every value the
    runs give its parameter."""
    return [label(augmentation, values) for augmentation in augmentations_of(train_config)]


def augmentations_of(train_config: Mapping) -> tuple[Augmentation, ...]:
    """The study's ``train.augmentation`` list with ``train.flip_p`` and ``train.crop_padding``."""
    # a job's training params leave these out at their defaults (config/triggers.py)
    flip_p = float(train_config.get("flip_p", AUGMENTATION_OPTIONS["train.flip_p"][1]))
    padding = int(train_config.get("crop_padding", AUGMENTATION_OPTIONS["train.crop_padding"][1]))
    return tuple(
        Augmentation(name, flip_p if name in FLIPS else 0.5, padding if name in PADDED_CROPS else 4)
        for name in train_config["augmentation"]
    )


TRANSFORMS: dict[str, Callable[[Tensor, float, torch.Generator | None], Tensor]] = {
    "hflip": lambda x, p, g: _flip(x, 3, p, g),
    "vflip": lambda x, p, g: _flip(x, 2, p, g),
    "rotate10": lambda x, p, g: _rotate(x, 10.0, p, g),
    "rotate90": lambda x, p, g: _rotate(x, 90.0, p, g),
    "shift5": lambda x, p, g: _shift(x, 5, p, g),
    # torchvision's RandomCrop(32, padding=4) crops every image: a uniform shift in [-4, 4]
    "crop4": lambda x, p, g: _shift(x, 4, 1.0, g),
    "resized_crop": lambda x, p, g: _resized_crop(x, g),  # every image, as torchvision's
    "contrast": _contrast,
    "noise": _noise,
}


def apply_augmentations(
    images: Tensor,
    augmentations: Sequence[Augmentation | str],
    generator: torch.Generator | None,
    probability: float | None = None,
) -> Tensor:
    """Apply each augmentation in turn (a bare name takes the default parameters); flips and
    shifts keep uint8, the others give float. ``probability`` overrides each one's own."""
    for augmentation in augmentations:
        if isinstance(augmentation, str):
            augmentation = Augmentation(augmentation)
        p = augmentation.probability if probability is None else probability
        if augmentation.name in PADDED_CROPS:
            images = _shift(images, augmentation.padding, 1.0, generator)
        else:
            images = TRANSFORMS[augmentation.name](images, p, generator)
    return images


def to_uint8(images: Tensor) -> Tensor:
    return images.float().round().clamp(0, 255).to(torch.uint8)
