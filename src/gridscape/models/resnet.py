"""The CIFAR ResNets of He et al. (2016, section 4.2): a 3x3 convolution with 16 filters, three
stages of n residual blocks with 16, 32 and 64 filters (the second and third halve the side),
global average pooling and one linear layer; depth 6n + 2 (ResNet-20: 0.27 M parameters, 91.25 %
on CIFAR-10 in the paper). Shortcuts that change the shape are option A, parameter-free: the
input subsampled by 2 and its channels padded with zeros."""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn import functional as F

DEPTHS = (20, 32, 44, 56)


class BasicBlock(nn.Module):
    """conv3x3 - BN - ReLU - conv3x3 - BN, plus the shortcut, then ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.stride, self.pad = stride, out_channels - in_channels

    def shortcut(self, x: Tensor) -> Tensor:
        if self.stride == 1 and self.pad == 0:
            return x
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, in_shape: tuple[int, int, int], num_classes: int, depth: int = 20):
        super().__init__()
        if depth not in DEPTHS:
            raise ValueError(f"config key model.depth: {depth}; expected one of {DEPTHS} (6n + 2)")
        blocks = (depth - 2) // 6
        channels = in_shape[0]
        self.stem = nn.Sequential(nn.Conv2d(channels, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        layers, width = [], 16
        for stage, out in enumerate((16, 32, 64)):
            for index in range(blocks):
                layers.append(BasicBlock(width, out, 2 if stage > 0 and index == 0 else 1))
                width = out
        self.stages = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, num_classes))
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.stages(self.stem(x)))

    def as_chain(self) -> nn.Sequential:
        """The same modules in ``forward``'s order, as one chain (``models.chain``)."""
        return nn.Sequential(self.stem, self.stages, self.head)
