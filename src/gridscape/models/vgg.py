"""The VGG family of the Edinburgh MLP coursework 2 (CIFAR-100), with its BatchNorm and residual fixes.

entry (conv3x3 -> BatchNorm -> LeakyReLU), then ``num_stages`` stages of ``blocks_per_stage``
processing blocks and one dimensionality-reduction block, then global average pooling and one
linear layer. With 32 filters and 3 stages, 0 blocks per stage is the course's VGG_08
(7 convolutions + 1 linear, 59,716 parameters) and 5 blocks per stage its VGG_38 (37 + 1,
336,196; 338,500 with BatchNorm).

``block`` picks the variant of the blocks (the entry block has BatchNorm in every variant, as
in the course's code):

- ``plain``: conv -> LeakyReLU -> conv -> LeakyReLU (the course's "broken" network when deep);
- ``bn``: BatchNorm after every block convolution, before its activation;
- ``rc``: processing blocks add their input to their output (a residual connection);
- ``bn_rc``: both.

Reduction blocks change the feature map's size, so they never have a residual connection
(as in the course). A residual processing block computes x + F(x), where F is conv ->
[BatchNorm] -> LeakyReLU -> conv -> [BatchNorm]: the sum is not passed through an activation,
so the skip path is an exact identity (He et al. 2016, "Identity mappings in deep residual
networks") and with the block's last convolution zeroed the block returns its input
unchanged. The course's template applies the block's last LeakyReLU to the sum instead; that
block is the identity only on non-negative inputs. ``residual: after_sum`` builds the course's
block, ``identity`` (the default) the one above; both have the same parameters.
"""

from __future__ import annotations

from torch import Tensor, nn

BLOCK_VARIANTS = ("plain", "bn", "rc", "bn_rc")
LEAKY_SLOPE = 0.01  # F.leaky_relu's default, which the course uses
RESIDUAL_FORMS = ("identity", "after_sum")


def _conv_unit(channels: int, batch_norm: bool, bias: bool) -> list[nn.Module]:
    """conv3x3 (padding 1) [-> BatchNorm] -> LeakyReLU."""
    layers: list[nn.Module] = [nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=bias)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(channels))
    layers.append(nn.LeakyReLU(LEAKY_SLOPE))
    return layers


class ProcessingBlock(nn.Module):
    """Two 3x3 convolutions that keep the shape, each followed by [BatchNorm and] LeakyReLU;
    with ``residual``, x + F(x) where F leaves out the last LeakyReLU (see the module's notes)."""

    def __init__(self, channels: int, batch_norm: bool, residual: bool, activation_after_sum: bool = False):
        super().__init__()
        self.residual = residual
        self.activation_after_sum = residual and activation_after_sum
        layers = [*_conv_unit(channels, batch_norm, bias=False), *_conv_unit(channels, batch_norm, bias=False)]
        self.layers = nn.Sequential(*(layers[:-1] if residual else layers))

    @property
    def last_conv(self) -> nn.Conv2d:
        return [m for m in self.layers if isinstance(m, nn.Conv2d)][-1]

    def forward(self, x: Tensor) -> Tensor:
        out = self.layers(x)
        if not self.residual:
            return out
        total = x + out
        return nn.functional.leaky_relu(total, LEAKY_SLOPE) if self.activation_after_sum else total


class ReductionBlock(nn.Module):
    """conv -> LeakyReLU -> 2x2 average pooling -> conv -> LeakyReLU (BatchNorm after each conv if asked)."""

    def __init__(self, channels: int, batch_norm: bool):
        super().__init__()
        self.layers = nn.Sequential(
            *_conv_unit(channels, batch_norm, bias=True),
            nn.AvgPool2d(2),
            *_conv_unit(channels, batch_norm, bias=True),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


class VGG(nn.Module):
    def __init__(
        self,
        in_shape: tuple[int, int, int],
        num_classes: int,
        num_filters: int = 32,
        num_stages: int = 3,
        blocks_per_stage: int = 0,
        block: str = "plain",
        residual: str = "identity",
    ):
        super().__init__()
        if residual not in RESIDUAL_FORMS:
            raise ValueError(f"config key model.residual: unknown form {residual!r}; expected one of {', '.join(RESIDUAL_FORMS)}")
        if block not in BLOCK_VARIANTS:
            raise ValueError(f"config key model.block: unknown variant {block!r}; expected one of {', '.join(BLOCK_VARIANTS)}")
        channels, height, width = in_shape
        if min(height, width) < 2**num_stages:
            raise ValueError(
                f"config key model.num_stages: {num_stages} stages halve {height}x{width} images below one pixel; "
                f"expected at most {min(height, width).bit_length() - 1}"
            )
        batch_norm = block in ("bn", "bn_rc")
        has_residual = block in ("rc", "bn_rc")
        self.entry = nn.Sequential(
            nn.Conv2d(channels, num_filters, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(num_filters),
            nn.LeakyReLU(LEAKY_SLOPE),
        )
        stages = []
        for _ in range(num_stages):
            blocks = [ProcessingBlock(num_filters, batch_norm, has_residual, residual == "after_sum")
                      for _ in range(blocks_per_stage)]
            stages.append(nn.Sequential(*blocks, ReductionBlock(num_filters, batch_norm)))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.classifier = nn.Linear(num_filters, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.flatten(self.pool(self.stages(self.entry(x)))))

    def as_chain(self) -> nn.Sequential:
        """The same modules in ``forward``'s order, as one chain (``models.chain``)."""
        return nn.Sequential(self.entry, self.stages, self.pool, self.flatten, self.classifier)
