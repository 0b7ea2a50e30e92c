"""LeNet-5 as the course uses it ("LeNet5 (almost)"): two 5x5 convolutions and three linear layers."""

from __future__ import annotations

import copy

from torch import Tensor, nn

from .layers import MaxPool2d

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "swish": nn.SiLU,  # x * sigmoid(x) (Ramachandran et al. 2017), torch's SiLU
}


# ReLU commutes with max-pooling: max(relu(x)) == relu(max(x)) for every float, and the
# gradients agree too (a window whose maximum is <= 0 passes no gradient either way). Pooling
# first applies the activation to a quarter of the elements; with ReLU's backward on the
# full-size map gone, a LeNet-5 training step on the CPU takes about two thirds of the time
# (benchmarks/README.md), and the weights after an epoch are bit-identical
# (tests/test_models.py). Other activations keep the course's order: tanh or sigmoid may round
# two inputs of a window to the same value and move the gradient to another one, and GELU is
# not monotonic at all.
POOL_FIRST = ("relu",)


def conv_block(conv: nn.Conv2d, activation: str, batch_norm: bool = False) -> list[nn.Module]:
    """conv, [BatchNorm,] activation, 2x2 max-pool, in the order that computes it fastest
    (``POOL_FIRST``: BatchNorm stays before both, so pooling still commutes with ReLU)."""
    act, pool = ACTIVATIONS[activation](), MaxPool2d(2)
    norm = [nn.BatchNorm2d(conv.out_channels)] if batch_norm else []
    return [conv, *norm, pool, act] if activation in POOL_FIRST else [conv, *norm, act, pool]


def linear_block(in_features: int, out_features: int, activation: str, batch_norm: bool) -> list[nn.Module]:
    """linear, [BatchNorm,] activation: a hidden layer of the classifier."""
    norm = [nn.BatchNorm1d(out_features)] if batch_norm else []
    return [nn.Linear(in_features, out_features), *norm, ACTIVATIONS[activation]()]


class LeNet5(nn.Module):
    """conv5x5(C->6) act maxpool2, conv5x5(6->16) act maxpool2, fc->120 act, 120->84 act, 84->classes.

    On 32x32 inputs no padding is needed; on 28x28 inputs (MNIST) the first convolution pads by 2,
    as the course's MNIST version does, so both give the 16x5x5 = 400 features of the handout.
    With ReLU each convolution is pooled before its activation (same numbers, see ``POOL_FIRST``);
    the parameter names are the same in both orders. ``batch_norm`` puts a BatchNorm after
    every convolution and hidden linear layer, before its activation (the LeNet-5 lab's 3(b):
    2 x (6 + 16 + 120 + 84) = 452 more parameters).
    """

    def __init__(
        self, in_shape: tuple[int, int, int], num_classes: int, activation: str = "relu", batch_norm: bool = False
    ):
        super().__init__()
        channels, height, width = in_shape
        padding = 2 if (height, width) == (28, 28) else 0
        self.features = nn.Sequential(
            *conv_block(nn.Conv2d(channels, 6, kernel_size=5, padding=padding), activation, batch_norm),
            *conv_block(nn.Conv2d(6, 16, kernel_size=5), activation, batch_norm),
        )
        side_h = ((height + 2 * padding - 4) // 2 - 4) // 2
        side_w = ((width + 2 * padding - 4) // 2 - 4) // 2
        if side_h < 1 or side_w < 1:
            raise ValueError(f"LeNet-5 needs inputs of at least 28x28 pixels, got {height}x{width}")
        self.classifier = nn.Sequential(
            nn.Flatten(),
            *linear_block(16 * side_h * side_w, 120, activation, batch_norm),
            *linear_block(120, 84, activation, batch_norm),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))

    def as_chain(self) -> nn.Sequential:
        """The same modules in ``forward``'s order, as one chain (``models.chain``)."""
        return nn.Sequential(self.features, self.classifier)


def in_course_order(model: LeNet5) -> LeNet5:
    """A copy of ``model`` as the course writes LeNet-5: each activation before PyTorch's own
    ``nn.MaxPool2d`` (no fast path without gradients), with the same weights and names. The
    reference that tests and the benchmark compare gridscape's order against."""
    if any(isinstance(m, nn.BatchNorm2d) for m in model.features):
        raise ValueError("in_course_order covers LeNet-5 without BatchNorm")
    course = copy.deepcopy(model)
    conv1, conv2 = (m for m in course.features if isinstance(m, nn.Conv2d))
    act1, act2 = (m for m in course.features if not isinstance(m, (nn.Conv2d, nn.MaxPool2d)))
    course.features = nn.Sequential(conv1, act1, nn.MaxPool2d(2), conv2, act2, nn.MaxPool2d(2))
    return course
