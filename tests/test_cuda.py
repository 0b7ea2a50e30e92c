"""The GPU path: the same numbers as the CPU where the arithmetic allows, data kept on the device.

Skipped where torch sees no GPU (CI has none); run on a GPU machine with
``python -m pytest tests/test_cuda.py``.
"""

import dataclasses
import os

import numpy as np
import pytest
import torch

# cuBLAS needs this before its first use to be deterministic (seed_everything sets it too late
# when another test initialised CUDA first)
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

from gridscape.landscape.directions import parameters_of, random_direction  # noqa: E402
from gridscape.landscape.evaluate import EvalSet, evaluate_points  # noqa: E402
from gridscape.models.layers import MaxPool2d  # noqa: E402
from gridscape.train import evaluate, train  # noqa: E402
from gridscape.train_fused import train_fused  # noqa: E402
from test_fused import config_with, new_model, tiny_data  # noqa: E402

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="torch sees no GPU")
CUDA = torch.device("cuda")


def on(device, dtype=torch.float32, seed=0):
    data = tiny_data(seed=seed)
    return dataclasses.replace(
        data, images=data.images.to(device), labels=data.labels.to(device), mean=data.mean.to(device),
        std=data.std.to(device), dtype=dtype,
    )


def lenet(config, device, dtype):
    return new_model(config).to(device=device, dtype=dtype)


def test_batches_and_augmentations_stay_on_the_device():
    data = on(CUDA)
    generator = torch.Generator().manual_seed(0)
    for images, labels in data.batches(16, generator, ("hflip", "shift5", "crop4")):
        assert images.device.type == labels.device.type == "cuda"
        assert images.dtype == torch.float32 and images.is_contiguous(memory_format=torch.channels_last)


def test_training_in_float64_gives_the_cpu_numbers_and_twice_the_same():
    config = config_with(0.05, 0.5, seed=3, augmentation=("hflip",))
    runs = {}
    for name, device in (("cpu", torch.device("cpu")), ("cuda", CUDA), ("cuda again", CUDA)):
        model = lenet(config, device, torch.float64)
        result = train(model, on(device, torch.float64), on(device, torch.float64, seed=1), config["optimizer"],
                       config["train"], progress=False)
        runs[name] = (result.history, [p.detach().cpu() for p in model.parameters()])
    (cpu_history, cpu_params), (gpu_history, gpu_params), (again_history, again_params) = runs.values()
    for key in ("train_loss", "val_loss", "train_acc", "val_acc"):
        assert [row[key] for row in gpu_history] == pytest.approx([row[key] for row in cpu_history], rel=1e-9)
        assert [row[key] for row in gpu_history] == [row[key] for row in again_history]
    assert all(torch.allclose(g, c, rtol=1e-9, atol=1e-12) for g, c in zip(gpu_params, cpu_params))
    assert all(torch.equal(g, a) for g, a in zip(gpu_params, again_params))


def test_fused_training_on_the_gpu_matches_separate_runs_in_float64():
    configs = [config_with(lr, m, seed) for (lr, m), seed in zip([(0.05, 0.0), (0.02, 0.8)], (1, 7))]
    separate = []
    for config in configs:
        model = lenet(config, CUDA, torch.float64)
        train(model, on(CUDA, torch.float64), on(CUDA, torch.float64, seed=1), config["optimizer"], config["train"],
              progress=False)
        separate.append(model.state_dict())
    _, states = train_fused(
        [lenet(c, CUDA, torch.float64) for c in configs], [c["optimizer"] for c in configs], [1, 7],
        on(CUDA, torch.float64), on(CUDA, torch.float64, seed=1), configs[0]["train"], progress=False,
    )
    for alone, together in zip(separate, states):
        for name, tensor in alone.items():
            assert torch.allclose(together[name].to(CUDA), tensor, rtol=1e-9, atol=1e-12), name


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_fast_max_pool_on_the_gpu_gives_pytorchs_values(layout):
    x = torch.randint(-3, 4, (8, 6, 28, 28), device=CUDA).float().contiguous(memory_format=layout)
    x[0, 0, 0, 0] = float("nan")
    with torch.inference_mode():
        fast = MaxPool2d(2)(x)
    expected = torch.nn.functional.max_pool2d(x, 2)
    assert torch.equal(fast.nan_to_num(), expected.nan_to_num()) and torch.equal(fast.isnan(), expected.isnan())


def test_landscape_on_the_gpu_loop_centre_is_evaluate_and_vmap_agrees():
    config = config_with(0.05, 0.5, seed=3)
    model = lenet(config, CUDA, torch.float32).to(memory_format=torch.channels_last)
    weights = parameters_of(model)
    delta, eta = random_direction(weights, 1), random_direction(weights, 2)
    data = EvalSet.from_tensor_data(on(CUDA), 40)
    alphas, betas = np.array([0.0, 0.5, -1.0, 0.25]), np.array([0.0, -0.5, 1.0, 0.75])
    loop = evaluate_points(model, data, delta, eta, alphas, betas, "loop")
    vmap = evaluate_points(model, data, delta, eta, alphas, betas, "auto")
    assert vmap.method == "vmap"
    assert loop.loss[0] == evaluate(model, data, 40)[0]
    assert np.allclose(vmap.loss, loop.loss, rtol=1e-6, atol=0) and np.array_equal(vmap.acc, loop.acc)
    assert len(set(np.round(loop.loss, 6))) == 4  # four different points
