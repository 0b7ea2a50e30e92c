"""The model registry: LeNet-5 and the MLP coursework's VGG family."""

import pytest
import torch

from gridscape.models import build_model, count_parameters
from gridscape.models.lenet import in_course_order
from gridscape.models.vgg import BLOCK_VARIANTS, ProcessingBlock

CIFAR100 = (3, 32, 32)


def vgg(blocks_per_stage, block="plain", in_shape=CIFAR100, num_classes=100, **options):
    config = {"name": "vgg", "num_filters": 32, "num_stages": 3, "blocks_per_stage": blocks_per_stage, "block": block, **options}
    return build_model(config, in_shape, num_classes)


@pytest.mark.parametrize(
    "blocks, block, expected",
    [
        # the course's counts: VGG_08 about 60K, VGG_38 336K, with BatchNorm 339K
        (0, "plain", 59_716),
        (5, "plain", 336_196),
        (5, "rc", 336_196),
        (5, "bn", 338_500),
        (5, "bn_rc", 338_500),
    ],
)
def test_vgg_parameter_counts_match_the_course(blocks, block, expected):
    assert count_parameters(vgg(blocks, block)) == expected


@pytest.mark.parametrize("block", BLOCK_VARIANTS)
@pytest.mark.parametrize("in_shape, num_classes", [(CIFAR100, 100), ((1, 28, 28), 10), ((1, 32, 32), 10)])
def test_every_vgg_variant_maps_images_to_class_scores(block, in_shape, num_classes):
    model = vgg(2, block, in_shape, num_classes, num_filters=8)
    out = model(torch.randn(4, *in_shape))
    assert out.shape == (4, num_classes)
    assert torch.isfinite(out).all()
    convs = sum(isinstance(m, torch.nn.Conv2d) for m in model.modules())
    assert convs == 1 + 3 * (2 * 2 + 2)
    norms = sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert norms == (1 + 3 * (2 * 2 + 2) if "bn" in block else 1)  # the entry block always has one


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("training", [True, False])
def test_residual_block_with_zero_residual_weights_is_the_identity(batch_norm, training):
    torch.manual_seed(0)
    block = ProcessingBlock(8, batch_norm=batch_norm, residual=True).train(training)
    with torch.no_grad():
        block.last_conv.weight.zero_()
    x = torch.randn(3, 8, 6, 6)
    assert torch.equal(block(x), x)
    plain = ProcessingBlock(8, batch_norm=batch_norm, residual=False).train(training)
    with torch.no_grad():
        plain.last_conv.weight.zero_()
    assert not torch.equal(plain(x), x)


def test_the_courses_residual_block_applies_the_activation_to_the_sum():
    torch.manual_seed(0)
    identity = ProcessingBlock(8, batch_norm=True, residual=True).eval()
    course = ProcessingBlock(8, batch_norm=True, residual=True, activation_after_sum=True).eval()
    course.load_state_dict(identity.state_dict())  # the same parameters, only the forward differs
    x = torch.randn(3, 8, 6, 6)
    assert torch.equal(course(x), torch.nn.functional.leaky_relu(identity(x), 0.01))
    with torch.no_grad():
        course.last_conv.weight.zero_()
    assert torch.equal(course(x), torch.nn.functional.leaky_relu(x, 0.01)) and not torch.equal(course(x), x)
    # the whole network: same parameters, other outputs; plain blocks ignore the form
    torch.manual_seed(1)
    a = vgg(2, "bn_rc", num_filters=8)
    torch.manual_seed(1)
    b = vgg(2, "bn_rc", num_filters=8, residual="after_sum")
    assert count_parameters(a) == count_parameters(b)
    images = torch.randn(2, *CIFAR100)
    assert not torch.equal(a.eval()(images), b.eval()(images))
    with pytest.raises(ValueError, match="model.residual: unknown form 'before'"):
        vgg(1, "rc", residual="before")


def test_vgg_rejects_what_it_cannot_build():
    with pytest.raises(ValueError, match="model.block: unknown variant 'resnet'"):
        vgg(1, "resnet")
    with pytest.raises(ValueError, match="model.num_stages: 6 stages halve 32x32 images"):
        vgg(0, num_stages=6)


def test_registry_passes_each_model_only_its_own_options():
    lenet = build_model({"name": "lenet5", "activation": "tanh", "num_filters": 32, "block": "bn"}, (3, 32, 32), 10)
    assert count_parameters(lenet) == 62_006
    assert any(isinstance(m, torch.nn.Tanh) for m in lenet.modules())
    with pytest.raises(KeyError, match="model.name: unknown model 'densenet'"):
        build_model({"name": "densenet"}, (3, 32, 32), 10)


@pytest.mark.parametrize("channels_last", [False, True])
def test_lenet5_pooling_before_relu_trains_bit_identically_to_the_course_order(channels_last):
    torch.manual_seed(0)
    model = build_model({"name": "lenet5", "activation": "relu"}, (3, 32, 32), 10)
    kinds = [type(m).__name__ for m in model.features]
    assert kinds == ["Conv2d", "MaxPool2d", "ReLU", "Conv2d", "MaxPool2d", "ReLU"]
    course = in_course_order(model)
    initial = [p.detach().clone() for p in model.parameters()]
    assert [type(m).__name__ for m in course.features] == ["Conv2d", "ReLU", "MaxPool2d"] * 2
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    runs = []
    for net in (model, course):
        net = net.to(memory_format=fmt)
        optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        data = torch.Generator().manual_seed(1)
        losses = []
        for _ in range(20):
            # integer-valued inputs and a large rate make exact ties and dead units common
            x = torch.randint(-2, 3, (32, 3, 32, 32), generator=data).float().contiguous(memory_format=fmt)
            y = torch.randint(0, 10, (32,), generator=data)
            loss = torch.nn.functional.cross_entropy(net(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        runs.append((losses, [p.detach().clone() for p in net.parameters()]))
    (losses_a, params_a), (losses_b, params_b) = runs
    assert losses_a == losses_b
    assert all(torch.equal(a, b) for a, b in zip(params_a, params_b))
    assert not any(torch.equal(a, b) for a, b in zip(params_a, initial))  # it did train


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "leaky_relu", "gelu"])
def test_lenet5_keeps_the_course_order_for_other_activations(activation):
    model = build_model({"name": "lenet5", "activation": activation}, (3, 32, 32), 10)
    assert isinstance(model.features[2], torch.nn.MaxPool2d) and isinstance(model.features[5], torch.nn.MaxPool2d)


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
@pytest.mark.parametrize("size", [(28, 28), (10, 10), (11, 13)])
def test_fast_max_pool_gives_pytorchs_values(layout, size):
    from gridscape.models.layers import MaxPool2d

    generator = torch.Generator().manual_seed(0)
    # small integers: many ties; plus a NaN and a -inf in some windows
    x = torch.randint(-3, 4, (4, 6, *size), generator=generator).float()
    x[0, 0, 0, 1] = float("nan")
    x[1, 2, 3, 3] = float("-inf")
    x = x.contiguous(memory_format=layout)
    with torch.inference_mode():
        fast = MaxPool2d(2)(x)
    expected = torch.nn.functional.max_pool2d(x, 2)
    assert fast.shape == expected.shape == (4, 6, size[0] // 2, size[1] // 2)
    assert torch.equal(fast.isnan(), expected.isnan()) and fast.isnan().sum() == 1
    assert torch.equal(fast.nan_to_num(), expected.nan_to_num())
    assert fast.is_contiguous(memory_format=layout)


def test_fast_max_pool_only_when_no_gradient_is_wanted(monkeypatch):
    from gridscape.models import layers

    calls = []
    real = layers.max_pool_2x2
    monkeypatch.setattr(layers, "max_pool_2x2", lambda x: calls.append(x.shape) or real(x))
    x = torch.randn(2, 3, 8, 8)
    layers.MaxPool2d(2)(x.clone().requires_grad_()).sum().backward()  # training: PyTorch's kernel
    assert calls == []
    with torch.no_grad():
        layers.MaxPool2d(2)(x)
        layers.MaxPool2d(3)(x)  # other windows: PyTorch's kernel
        layers.MaxPool2d(2, padding=1)(x)
    assert calls == [(2, 3, 8, 8)]
    layers.MaxPool2d(2)(x)  # an input that needs no gradient needs no indices either
    assert len(calls) == 2
