"""Fully connected and convolutional autoencoders: an encoder to a code of ``latent`` units
(ReLU, as the handout's every layer) and a decoder back to the image.

The handout's fully connected one is 784-196-49-λ-49-196-784 with ReLU after every layer, the
output too (328,008 parameters at λ = 2). Its figure of the convolutional one is not in the
seed, so that architecture is an assumption, stated in the config and the report: stride-2
3×3 convolutions down (16, then 32 channels), a linear layer to the code and back, and
stride-2 transposed convolutions up, each doubling the side.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import torch
from torch import Tensor, nn

OUTPUT_ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "none": nn.Identity}


class Autoencoder(nn.Module):
    """``encoder`` maps images to codes, ``decoder`` codes back to images of ``in_shape``."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module, in_shape: Sequence[int], latent: int):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder
        self.in_shape, self.latent = tuple(in_shape), latent

    def encode(self, images: Tensor) -> Tensor:
        return self.encoder(images)

    def decode(self, codes: Tensor) -> Tensor:
        return self.decoder(codes).reshape(-1, *self.in_shape)

    def forward(self, images: Tensor) -> Tensor:
        return self.decode(self.encode(images))


def _dense(sizes: Sequence[int]) -> list[nn.Module]:
    """Linear layers between consecutive ``sizes``, each followed by ReLU."""
    layers: list[nn.Module] = []
    for size_in, size_out in zip(sizes, sizes[1:]):
        layers += [nn.Linear(size_in, size_out), nn.ReLU()]
    return layers


def fully_connected(in_shape: Sequence[int], latent: int, hidden: Sequence[int], output_activation: str) -> Autoencoder:
    """in -> hidden... -> latent -> reversed(hidden)... -> in, ReLU after every layer but the
    last, which takes ``output_activation``."""
    pixels = math.prod(in_shape)
    encoder = nn.Sequential(nn.Flatten(), *_dense([pixels, *hidden, latent]))
    decoder_layers = _dense([latent, *reversed(hidden), pixels])
    decoder_layers[-1] = OUTPUT_ACTIVATIONS[output_activation]()
    return Autoencoder(encoder, nn.Sequential(*decoder_layers), in_shape, latent)


def convolutional(
    in_shape: Sequence[int], latent: int, channels: Sequence[int], kernel: int, output_activation: str
) -> Autoencoder:
    """Stride-2 ``kernel``×``kernel`` convolutions (padding kernel // 2) through ``channels``, a
    linear layer to the code; then a linear layer back and stride-2 transposed convolutions
    (output padding 1) that double the side each, to the image's channels."""
    depth, height, width = in_shape
    scale = 2 ** len(channels)
    if height % scale or width % scale:
        raise ValueError(
            f"config key autoencoder.architectures.conv.channels: {len(channels)} stride-2 layers need an image side "
            f"divisible by {scale}, got {height}x{width}; expected fewer channels entries"
        )
    pad = kernel // 2
    down: list[nn.Module] = []
    for c_in, c_out in zip([depth, *channels], channels):
        down += [nn.Conv2d(c_in, c_out, kernel, stride=2, padding=pad), nn.ReLU()]
    bottleneck = (channels[-1], height // scale, width // scale)
    features = math.prod(bottleneck)
    encoder = nn.Sequential(*down, nn.Flatten(), nn.Linear(features, latent), nn.ReLU())
    up: list[nn.Module] = [nn.Linear(latent, features), nn.ReLU(), nn.Unflatten(1, bottleneck)]
    ups = [*reversed(channels[:-1]), depth]
    for c_in, c_out in zip(reversed(channels), ups):
        up += [nn.ConvTranspose2d(c_in, c_out, kernel, stride=2, padding=pad, output_padding=1), nn.ReLU()]
    up[-1] = OUTPUT_ACTIVATIONS[output_activation]()
    return Autoencoder(encoder, nn.Sequential(*up), in_shape, latent)


def build_autoencoder(architecture: str, spec: Mapping, in_shape: Sequence[int], latent: int,
                      output_activation: str, output_bias: str = "zero") -> Autoencoder:
    """The autoencoder ``architecture`` ('fc' or 'conv') of the config's ``spec``, in PyTorch's
    initialisation but for the decoder's last bias (``output_bias``: 'zero' or 'default')."""
    if architecture == "fc":
        model = fully_connected(in_shape, latent, spec["hidden"], output_activation)
    elif architecture == "conv":
        model = convolutional(in_shape, latent, spec["channels"], spec["kernel"], output_activation)
    else:
        raise ValueError(f"config key autoencoder.architectures: unknown architecture {architecture!r}; expected fc or conv")
    if output_bias == "zero":
        zero_output_bias(model)
    elif output_bias != "default":
        raise ValueError(f"config key autoencoder.output_bias: {output_bias!r}; expected zero or default")
    return model


@torch.no_grad()
def zero_output_bias(model: Autoencoder) -> None:
    """Set the decoder's last bias to zero, so that the output's pre-activations start centred
    on zero. The assumed convolutional decoder shrinks its signal on the way up, and PyTorch's
    random last bias then decides alone: for 3 of 8 seeds it was negative enough that the ReLU
    output was zero on every pixel of every image before the first step, a dead network that
    never learns (measured on the digits; tests/test_autoencoder.py)."""
    last = [m for m in model.decoder.modules() if isinstance(m, (nn.Linear, nn.ConvTranspose2d))][-1]
    nn.init.zeros_(last.bias)


def parameters_of(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.inference_mode()
def encode_all(model: Autoencoder, batches) -> Tensor:
    """The codes of every image of ``batches`` ((images, labels) pairs), in eval mode, in order."""
    was_training = model.training
    model.eval()
    try:
        return torch.cat([model.encode(images) for images, _ in batches])
    finally:
        model.train(was_training)
