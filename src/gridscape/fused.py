"""Several copies of one network trained as one: grouped convolutions and batched linear layers.

K models of the same architecture (different learning rates, momenta or seeds) become one
network whose layer i holds the K layers i side by side: a convolution with ``groups`` times K,
a BatchNorm over K times the channels, a linear layer as K matrices applied in one batched
product. Group k sees only its own channels, so the K models stay independent; one forward and
backward pass trains all of them, which uses a CPU's cores far better than K small passes.

Supported leaf modules are listed in ``_FUSERS``; anything else raises ``FusionError`` naming the
module, and the study can set ``search.fuse: false``. After ``nn.Flatten`` activations have shape
(K, batch, features); before it, (batch, K * channels, height, width).
"""

from __future__ import annotations

import copy
import functools
from typing import Callable, Sequence

import torch
from torch import Tensor, nn


class FusionError(TypeError):
    """The model holds a module that has no grouped equivalent."""


class GroupedLinear(nn.Module):
    """K independent linear layers applied to an input of shape (K, batch, in_features).

    Model-major activations let one batched matrix product (baddbmm) do the work with no
    transposing copies, forward or backward.
    """

    def __init__(self, groups: int, in_features: int, out_features: int, device=None, dtype=None):
        super().__init__()
        self.groups = groups
        self.weight = nn.Parameter(torch.empty(groups, out_features, in_features, device=device, dtype=dtype))
        self.bias = nn.Parameter(torch.empty(groups, out_features, device=device, dtype=dtype))

    def forward(self, x: Tensor) -> Tensor:
        return torch.baddbmm(self.bias.unsqueeze(1), x, self.weight.transpose(1, 2))


class GroupedFlatten(nn.Module):
    """(batch, K * C, H, W) to (K, batch, C * H * W): each model flattens its own channels."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x: Tensor) -> Tensor:
        batch = x.shape[0]
        # contiguous() first: in channels-last memory, C*H*W is not the innermost order
        return x.contiguous().view(batch, self.groups, -1).transpose(0, 1)


def _fuse_conv(layers: Sequence[nn.Conv2d], shared_input: bool = False) -> nn.Module:
    """K convolutions side by side. With ``shared_input`` all K read the same C channels, so
    the K sets of filters form one ordinary convolution with K times the outputs: one large
    matrix product instead of K small ones, and the input needs no copying K times."""
    first = layers[0]
    k = len(layers)
    if shared_input and first.groups != 1:
        raise FusionError("the first convolution of a model with shared input must have groups=1")
    fused = nn.Conv2d(
        first.in_channels * (1 if shared_input else k),
        first.out_channels * k,
        first.kernel_size,
        stride=first.stride,
        padding=first.padding,
        dilation=first.dilation,
        groups=1 if shared_input else first.groups * k,
        bias=first.bias is not None,
        padding_mode=first.padding_mode,
        device=first.weight.device,
        dtype=first.weight.dtype,
    )
    with torch.no_grad():
        fused.weight.copy_(torch.cat([layer.weight for layer in layers]))
        if first.bias is not None:
            fused.bias.copy_(torch.cat([layer.bias for layer in layers]))
    return fused


def _fuse_batchnorm(layers: Sequence[nn.BatchNorm2d]) -> nn.Module:
    first = layers[0]
    fused = nn.BatchNorm2d(
        first.num_features * len(layers), eps=first.eps, momentum=first.momentum,
        affine=first.affine, track_running_stats=first.track_running_stats,
        device=first.running_mean.device if first.running_mean is not None else None,
        dtype=first.running_mean.dtype if first.running_mean is not None else None,
    )
    fused.load_state_dict(
        {name: torch.cat([layer.state_dict()[name] for layer in layers]) if tensor.ndim else tensor
         for name, tensor in first.state_dict().items()}
    )
    return fused


def _fuse_linear(layers: Sequence[nn.Linear]) -> nn.Module:
    first = layers[0]
    if first.bias is None:
        raise FusionError("a Linear layer without bias cannot be fused (GroupedLinear always has one)")
    fused = GroupedLinear(len(layers), first.in_features, first.out_features, first.weight.device, first.weight.dtype)
    with torch.no_grad():
        fused.weight.copy_(torch.stack([layer.weight for layer in layers]))
        fused.bias.copy_(torch.stack([layer.bias for layer in layers]))
    return fused


_ELEMENTWISE = (
    nn.ReLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.GELU, nn.SiLU, nn.Identity,
    nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d,
)

_FUSERS: dict[type, Callable[[Sequence[nn.Module]], nn.Module]] = {
    nn.Conv2d: _fuse_conv,
    nn.BatchNorm2d: _fuse_batchnorm,
    nn.Linear: _fuse_linear,
    nn.Flatten: lambda layers: GroupedFlatten(len(layers)),
}


def fuse(models: Sequence[nn.Module], shared_input: bool = False) -> nn.Module:
    """One network holding ``models`` (same architecture) side by side, weights copied in.

    The fused network reads (batch, K * C, H, W): model k's input in channels k*C..(k+1)*C-1.
    With ``shared_input`` every model reads the same images and the network reads (batch, C,
    H, W); the model's first leaf module must then be a convolution.
    """
    template = models[0]
    fused = copy.deepcopy(template)
    leaves = [(name, module) for name, module in template.named_modules() if not list(module.children())]
    if shared_input and not (leaves and isinstance(leaves[0][1], nn.Conv2d)):
        raise FusionError("shared input needs a model whose first layer is a Conv2d")
    for position, (name, module) in enumerate(leaves):
        if isinstance(module, _ELEMENTWISE):
            continue
        if shared_input and position == 0:
            fuser = functools.partial(_fuse_conv, shared_input=True)
        else:
            fuser = _FUSERS.get(type(module))
        if fuser is None:
            raise FusionError(
                f"module {name!r} ({type(module).__name__}) cannot be trained fused; "
                "set search.fuse: false in the study config"
            )
        parent_name, _, child = name.rpartition(".")
        parent = fused.get_submodule(parent_name) if parent_name else fused
        setattr(parent, child, fuser([model.get_submodule(name) for model in models]))
    return fused


def model_slice(fused_tensor: Tensor, like: Tensor, k: int, groups: int) -> Tensor:
    """Model k's part of a fused parameter or buffer, shaped like the original ``like``."""
    if fused_tensor.ndim == like.ndim + 1:  # GroupedLinear: (K, ...)
        return fused_tensor[k]
    if fused_tensor.shape == like.shape:  # shared scalars such as num_batches_tracked
        return fused_tensor
    return fused_tensor.unflatten(0, (groups, -1))[k]


def unfuse_state(fused: nn.Module, template: nn.Module, k: int, groups: int) -> dict[str, Tensor]:
    """Model k's ``state_dict``, with the original model's names and shapes."""
    fused_state = fused.state_dict()
    return {
        name: model_slice(fused_state[name], tensor, k, groups).detach().clone().contiguous()
        for name, tensor in template.state_dict().items()
    }


class GroupedSGD:
    """SGD with momentum, with a learning rate, momentum and weight decay per fused model.

    The same update as ``torch.optim.SGD`` (no dampening, no Nesterov), applied to each model's
    slice of every fused parameter.
    """

    def __init__(self, fused: nn.Module, lr: Sequence[float], momentum: Sequence[float], weight_decay: Sequence[float]):
        self.groups = len(lr)
        self.params = [p for p in fused.parameters() if p.requires_grad]
        self.grouped_dim0 = {id(p) for m in fused.modules() if isinstance(m, GroupedLinear) for p in m.parameters()}
        # in the parameters' dtype: a float32 rate would round a float64 run's update
        device, dtype = self.params[0].device, self.params[0].dtype
        self.lr = torch.tensor(lr, dtype=dtype, device=device)
        self.momentum = torch.tensor(momentum, dtype=dtype, device=device)
        self.weight_decay = torch.tensor(weight_decay, dtype=dtype, device=device)
        self.buffers: dict[int, Tensor] = {}
        self.decay = bool((self.weight_decay != 0).any())

    def _by_model(self, p: Tensor, t: Tensor) -> Tensor:
        return t if id(p) in self.grouped_dim0 else t.unflatten(0, (self.groups, -1))

    def _broadcast(self, values: Tensor, ndim: int) -> Tensor:
        return values.view(self.groups, *([1] * (ndim - 1)))

    def state_dict(self) -> dict[str, Tensor]:
        """The momentum buffers by parameter index (a parameter not stepped yet has none)."""
        return {str(i): self.buffers[id(p)] for i, p in enumerate(self.params) if id(p) in self.buffers}

    def load_state_dict(self, buffers: dict[str, Tensor]) -> None:
        self.buffers = {id(p): buffers[str(i)].to(p.device) for i, p in enumerate(self.params) if str(i) in buffers}

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        for p in self.params:
            if p.grad is None:
                continue
            param = self._by_model(p, p)
            grad = self._by_model(p, p.grad)
            shape = param.ndim
            if self.decay:
                grad = grad + self._broadcast(self.weight_decay, shape) * param
            buf = self.buffers.get(id(p))
            if buf is None:
                buf = grad.clone()
                self.buffers[id(p)] = buf
            else:
                buf.mul_(self._broadcast(self.momentum, shape)).add_(grad)
            param.sub_(self._broadcast(self.lr, shape) * buf)
