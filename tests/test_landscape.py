"""The loss landscape (Li et al. 2018): directions, grid, evaluation, merge, 1-D slices, steps.

Each test checks a property from the reference study (section 4.2 of
shared/reference/loss-landscape.md) on tiny models and data, so the whole file runs in seconds.
"""

from __future__ import annotations

import copy
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors import safe_open
from torch import nn

from gridscape import io
from gridscape.config import validate
from gridscape.data.loader import TensorData
from gridscape.data.split import stratified_split
from gridscape.landscape.diagnostics import reference_check, relative_difference, require_reference, surface_diagnostics
from gridscape.landscape.directions import cosine, filter_norms, load_directions, parameters_of, random_direction, save_directions
from gridscape.landscape import evaluate as evaluate_module
from gridscape.landscape.evaluate import COMPILE_RTOL, EvalSet, evaluate_points, resolve_method
from gridscape.landscape.first_layer import FIRST_LAYER_RTOL, first_layer_bytes
from gridscape.landscape.grid import (
    AXES, PlaneGrid, MergeError, Surface, axis, centre_required_problem, chunk_frame, chunk_of, chunk_range,
    effective_chunks, merge_chunks,
)
from gridscape.landscape.line import interpolate, interpolation_ts, line_alphas, line_along
from gridscape.landscape import steps
from gridscape.landscape.span import Span
from gridscape.landscape.data import select
from gridscape.models import LeNet5
from gridscape.models.chain import split_first_layer
from gridscape.models.mlp import MLP
from gridscape.models.resnet import ResNet
from gridscape.models.vgg import VGG
from gridscape.final.resolve import resolve_final
from gridscape.study import final_subsets, load_dataset, load_model, new_model, to_tensors, training_indices
from gridscape.train import evaluate


# --------------------------------------------------------------------------- helpers


def tensor_data(n: int, shape=(1, 8, 8), seed: int = 0, channels_last: bool = False) -> TensorData:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
    labels = rng.integers(0, 10, n)
    return TensorData.from_arrays(images, labels, [0.45] * shape[0], [0.22] * shape[0], torch.device("cpu"), channels_last)


def relu_net(seed: int = 0) -> nn.Module:
    """BatchNorm-free: conv -> ReLU -> conv -> ReLU -> linear (8x8 inputs)."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(),
        nn.Conv2d(4, 6, 3), nn.ReLU(),
        nn.Flatten(), nn.Linear(6 * 6 * 6, 10),
    ).eval()


def bn_net(seed: int = 0) -> nn.Module:
    """conv -> BatchNorm (non-trivial running statistics) -> ReLU -> pool -> linear."""
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 10),
    )
    bn = net[1]
    with torch.no_grad():
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.2, 0.2)
        bn.num_batches_tracked.fill_(7)
    return net.eval()


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_bit_identical(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for k in a:
        assert torch.equal(a[k], b[k]), k


def directions(model: nn.Module, normalization="filter", ignore="biasbn", seeds=(1, 2)):
    w = parameters_of(model)
    return random_direction(w, seeds[0], normalization, ignore), random_direction(w, seeds[1], normalization, ignore)


def surface_of(model, data, delta, eta, grid: PlaneGrid, method="loop") -> np.ndarray:
    a, b = grid.coords(range(grid.size))
    return evaluate_points(model, data, delta, eta, a, b, method).loss.reshape(grid.shape)


# --------------------------------------------------------------------------- directions


@pytest.mark.parametrize("ignore", ["biasbn", "none"])
def test_every_filter_has_the_norm_of_the_matching_filter_of_theta(ignore):
    model = bn_net()
    weights = parameters_of(model)
    for seed in (1, 2):
        d = random_direction(weights, seed, "filter", ignore)
        for name, w in weights.items():
            if w.dim() >= 2:
                assert d[name].shape == w.shape
                np.testing.assert_allclose(filter_norms(d[name]), filter_norms(w), rtol=1e-5)
                assert len(filter_norms(w)) == w.shape[0]
            elif ignore == "biasbn":
                assert torch.count_nonzero(d[name]) == 0, name  # exactly zero
            else:  # a 1-D tensor is one filter
                assert torch.count_nonzero(d[name]) == d[name].numel(), name
                np.testing.assert_allclose(torch.linalg.vector_norm(d[name].double()), torch.linalg.vector_norm(w.double()), rtol=1e-5)


def test_layer_and_no_normalisation():
    model = relu_net()
    weights = parameters_of(model)
    layer = random_direction(weights, 3, "layer")
    raw = random_direction(weights, 3, "none")
    for name, w in weights.items():
        if w.dim() >= 2:
            np.testing.assert_allclose(torch.linalg.vector_norm(layer[name].double()), torch.linalg.vector_norm(w.double()), rtol=1e-5)
            # the same Gaussian draw, only rescaled as a whole
            ratio = (layer[name].double() / raw[name].double()).flatten()
            np.testing.assert_allclose(ratio, ratio[0].expand_as(ratio), rtol=1e-5)
    # 'none' is the plain draw of the generator, parameter after parameter
    generator = torch.Generator().manual_seed(3)
    for name, w in weights.items():
        draw = torch.randn(w.shape, generator=generator)
        if w.dim() >= 2:
            assert torch.equal(raw[name], draw)


def test_same_seed_same_directions_different_seed_different_and_global_rng_irrelevant():
    weights = parameters_of(LeNet5((1, 28, 28), 10))
    torch.manual_seed(0)
    a = random_direction(weights, 5)
    torch.manual_seed(12345)
    torch.randn(1000)  # whatever the global RNG did meanwhile
    b = random_direction(weights, 5)
    c = random_direction(weights, 6)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not any(torch.equal(a[k], c[k]) for k in a if weights[k].dim() >= 2)
    n = sum(weights[k].numel() for k in weights if weights[k].dim() >= 2)
    assert abs(cosine(a, c)) < 5 / math.sqrt(n)  # nearly orthogonal, ~1/sqrt(n)
    assert cosine(a, a) == pytest.approx(1.0)


def test_direction_file_names_are_delta_and_eta_of_exactly_the_parameters(tmp_path):
    model = bn_net()
    delta, eta = directions(model)
    path = tmp_path / "directions.safetensors"
    save_directions(path, delta, eta)
    with safe_open(str(path), "pt") as handle:
        keys = set(handle.keys())
    params = [n for n, _ in model.named_parameters()]
    assert set(params) < set(model.state_dict())  # the BN buffers are not parameters
    assert keys == {f"delta.{n}" for n in params} | {f"eta.{n}" for n in params}
    d2, e2 = load_directions(path, params)
    assert list(d2) == params and all(torch.equal(d2[k], delta[k]) and torch.equal(e2[k], eta[k]) for k in params)
    with pytest.raises(ValueError, match="missing"):
        load_directions(path, params + ["extra.weight"])


# --------------------------------------------------------------------------- evaluation


def test_centre_reproduces_evaluate_bitwise_and_vmap_within_1e6():
    torch.manual_seed(0)
    model = LeNet5((1, 28, 28), 10).to(memory_format=torch.channels_last).eval()
    data = tensor_data(70, (1, 28, 28), channels_last=True)
    expected_loss, expected_acc = evaluate(model, data, 32)
    delta, eta = directions(model)
    evalset = EvalSet.from_tensor_data(data, 32)
    loop = evaluate_points(model, evalset, delta, eta, [0.3, 0.0], [0.0, 0.0], "loop")
    assert loop.loss[1] == expected_loss and loop.acc[1] == expected_acc
    vmap = evaluate_points(model, evalset, delta, eta, [0.3, 0.0], [0.0, 0.0], "vmap", points_per_pass=2)
    assert vmap.loss[1] == pytest.approx(expected_loss, rel=1e-6)
    compiled = evaluate_points(model, evalset, delta, eta, [0.3, 0.0], [0.0, 0.0], "compile")
    assert compiled.method == "compile"
    assert compiled.loss[1] == pytest.approx(expected_loss, rel=COMPILE_RTOL, abs=0)
    # the compiled graph reads the weights as inputs: the moved point is not the centre again
    assert compiled.loss[0] == pytest.approx(loop.loss[0], rel=COMPILE_RTOL, abs=0)
    assert abs(compiled.loss[0] - compiled.loss[1]) > 50 * COMPILE_RTOL * compiled.loss[1]


def test_auto_chooses_by_device_and_compile_without_a_compiler_says_how_to_fix(monkeypatch):
    cpu = torch.device("cpu")
    assert resolve_method("auto", cpu) == "loop"
    assert resolve_method("auto", cpu, first_layer_fits=True) == "first_layer"
    assert resolve_method("auto", torch.device("cuda"), first_layer_fits=True) == "vmap"
    assert resolve_method("auto", torch.device("cuda")) == "vmap"
    assert resolve_method("loop", cpu) == "loop" and resolve_method("compile", cpu) == "compile"
    with pytest.raises(ValueError, match="landscape.method"):
        resolve_method("jit", cpu)
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setattr(evaluate_module.shutil, "which", lambda name: None)
    model = relu_net()
    delta, eta = directions(model)
    with pytest.raises(RuntimeError, match=r"C\+\+ compiler.*landscape.method: loop"):
        evaluate_points(model, EvalSet.from_tensor_data(tensor_data(8), 8), delta, eta, [0.1], [0.0], "compile")


@pytest.mark.parametrize("make", [bn_net, relu_net])
def test_vmap_and_compile_equal_loop_and_the_model_is_left_bit_identical(make):
    model = make()
    model.train()  # the sweep must evaluate in eval mode and give the mode back
    before = snapshot(model)
    data = EvalSet.from_tensor_data(tensor_data(50), 16)
    delta, eta = directions(model, ignore="none")
    grid = PlaneGrid(np.linspace(-1, 1, 4), np.linspace(-0.5, 1, 3))
    loop = surface_of(model, data, delta, eta, grid, "loop")
    vmap = surface_of(model, data, delta, eta, grid, "vmap")
    np.testing.assert_allclose(vmap, loop, rtol=1e-6, atol=0)  # the contract; measured here: < 1e-7
    compiled = surface_of(model, data, delta, eta, grid, "compile")
    np.testing.assert_allclose(compiled, loop, rtol=COMPILE_RTOL, atol=0)
    assert len(np.unique(compiled)) == grid.size  # twelve different points, not one repeated
    assert model.training
    assert_bit_identical(snapshot(model), before)
    # a compiled point does not depend on its neighbours either (one graph per batch shape)
    a, b = grid.coords([5])
    assert evaluate_points(model, data, delta, eta, a, b, "compile").loss[0] == compiled.ravel()[5]
    assert model.training
    assert_bit_identical(snapshot(model), before)
    # the loop's points do not depend on their neighbours: one point alone gives the same bits
    a, b = grid.coords([5])
    alone = evaluate_points(model, data, delta, eta, a, b, "loop").loss[0]
    assert alone == loop.ravel()[5]


CHAIN_MODELS = {
    "lenet5 relu, 28x28 (padded first convolution)": lambda: LeNet5((1, 28, 28), 10),
    "lenet5 tanh with BatchNorm, 3x32x32": lambda: LeNet5((3, 32, 32), 10, "tanh", batch_norm=True),
    "vgg bn_rc": lambda: VGG((3, 16, 16), 10, num_filters=8, num_stages=2, blocks_per_stage=1, block="bn_rc"),
    "resnet 20": lambda: ResNet((3, 16, 16), 10, depth=20),
    "mlp": lambda: MLP((1, 8, 8), 10, hidden_layers=2, hidden_size=12),
    "sequential": relu_net,
}


def randomise_batch_norm(model: nn.Module) -> nn.Module:
    """Running statistics away from (0, 1), so a BatchNorm in the rest really computes."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    return model.eval()


@pytest.mark.parametrize("name", list(CHAIN_MODELS))
def test_first_layer_split_computes_the_forward_pass_bit_for_bit(name):
    torch.manual_seed(0)
    model = randomise_batch_norm(CHAIN_MODELS[name]())
    shape = (1, 28, 28) if "28x28" in name else (1, 8, 8) if name in ("mlp", "sequential") else (3, 32, 32) if "lenet" in name else (3, 16, 16)
    x = torch.randn(5, *shape)
    split = split_first_layer(model)
    assert type(split.first) in (nn.Conv2d, nn.Linear)
    assert not any(True for _ in split.prefix.parameters())
    with torch.inference_mode():
        assert torch.equal(split.rest(split.first(split.prefix(x))), model(x))
    first_params = {id(p) for p in split.first.parameters()}
    rest_params = {id(p) for p in split.rest.parameters()}
    assert first_params | rest_params == {id(p) for p in model.parameters()} and not first_params & rest_params


def test_models_that_are_no_chain_or_start_with_a_normalisation_are_evaluated_whole():
    class Residual(nn.Module):  # a forward pass that is not a chain, and says nothing
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 10, 8)

        def forward(self, x):
            return self.conv(x).flatten(1) + x.mean()

    bn_first = nn.Sequential(nn.BatchNorm2d(1), nn.Conv2d(1, 10, 8), nn.Flatten()).eval()
    data = EvalSet.from_tensor_data(tensor_data(12), 5)
    for model in (Residual().eval(), bn_first):
        assert split_first_layer(model) is None
        delta, eta = directions(model, ignore="none")
        assert evaluate_points(model, data, delta, eta, [0.1], [0.2]).method == "loop"
        with pytest.raises(ValueError, match=r"landscape.method: first_layer needs a model whose forward pass is a chain"):
            evaluate_points(model, data, delta, eta, [0.1], [0.2], "first_layer")


@pytest.mark.parametrize("name", ["lenet5 tanh with BatchNorm, 3x32x32", "mlp", "sequential", "vgg bn_rc"])
def test_first_layer_centre_is_evaluate_bit_for_bit_and_other_points_agree_with_the_loop(name):
    torch.manual_seed(1)
    model = randomise_batch_norm(CHAIN_MODELS[name]())
    shape = (1, 8, 8) if name in ("mlp", "sequential") else (3, 32, 32) if "lenet" in name else (3, 16, 16)
    model = model.to(memory_format=torch.channels_last) if len(shape) == 3 and shape[0] == 3 else model
    raw = tensor_data(45, shape, channels_last=shape[0] == 3)
    model.train()  # evaluated in eval mode, and the mode is given back
    before = snapshot(model)
    delta, eta = directions(model, ignore="none")  # biases and BatchNorm moved too
    grid = PlaneGrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 3))
    a, b = grid.coords(range(grid.size))
    lazy = EvalSet.from_tensor_data(raw, 16, normalise_now=False)
    shared = evaluate_points(model, lazy, delta, eta, a, b, "first_layer")
    loop = evaluate_points(model, EvalSet.from_tensor_data(raw, 16), delta, eta, a, b, "loop")
    assert shared.method == "first_layer" and model.training
    assert_bit_identical(snapshot(model), before)
    centre = int(np.flatnonzero((a == 0.0) & (b == 0.0))[0])
    expected_loss, expected_acc = evaluate(model, raw, 16)
    assert shared.loss[centre] == expected_loss and shared.acc[centre] == expected_acc
    np.testing.assert_allclose(shared.loss, loop.loss, rtol=FIRST_LAYER_RTOL, atol=0)  # 1e-6
    np.testing.assert_array_equal(shared.acc, loop.acc)
    assert len(np.unique(shared.loss)) == grid.size
    # a point does not depend on the others of its chunk: alone, or cut elsewhere, the same bits
    alone = evaluate_points(model, lazy, delta, eta, a[7:8], b[7:8], "first_layer").loss[0]
    assert alone == shared.loss[7]
    parts = np.concatenate([evaluate_points(model, lazy, delta, eta, a[c], b[c], "first_layer").loss
                            for c in (slice(0, 4), slice(4, 15))])
    np.testing.assert_array_equal(parts, shared.loss)


def test_auto_takes_first_layer_on_the_cpu_unless_its_outputs_would_not_fit(monkeypatch):
    model = LeNet5((1, 28, 28), 10).eval()
    data = EvalSet.from_tensor_data(tensor_data(20, (1, 28, 28)), 8, normalise_now=False)
    delta, eta = directions(model)
    assert evaluate_points(model, data, delta, eta, [0.5], [0.5]).method == "first_layer"
    # one batch of 8: four outputs of 6 x 28 x 28 float32 each = 8 * 4 * 4704 * 4 bytes
    assert first_layer_bytes(split_first_layer(model), next(data.batches())[0], 8) == 8 * 4 * 6 * 28 * 28 * 4
    monkeypatch.setattr(evaluate_module, "FIRST_LAYER_MAX_BYTES", 8 * 4 * 6 * 28 * 28 * 4 - 1)
    assert evaluate_points(model, data, delta, eta, [0.5], [0.5]).method == "loop"


def test_a_lazy_evalset_gives_the_same_batches_as_the_normalised_one():
    raw = tensor_data(23, (3, 8, 8), channels_last=True)
    eager, lazy = EvalSet.from_tensor_data(raw, 10), EvalSet.from_tensor_data(raw, 10, normalise_now=False)
    assert lazy.images.dtype == torch.uint8 and len(lazy) == 23
    pairs = list(zip(eager.batches(), lazy.batches()))
    assert [len(x) for (x, _), _ in pairs] == [10, 10, 3]
    for (x, y), (u, v) in pairs:
        assert torch.equal(x, u) and torch.equal(y, v) and u.is_contiguous(memory_format=torch.channels_last)


def test_vmap_points_do_not_depend_on_how_the_points_are_grouped():
    """Every pass has K points (the last one padded), so cutting the list elsewhere, as other
    chunkings do, gives the same bits."""
    model = bn_net()
    data = EvalSet.from_tensor_data(tensor_data(50), 16)
    delta, eta = directions(model, ignore="none")
    grid = PlaneGrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 3))
    a, b = grid.coords(range(grid.size))
    whole = evaluate_points(model, data, delta, eta, a, b, "vmap", points_per_pass=4).loss
    cuts = [slice(0, 3), slice(3, 10), slice(10, 15)]
    parts = np.concatenate([evaluate_points(model, data, delta, eta, a[c], b[c], "vmap", points_per_pass=4).loss for c in cuts])
    np.testing.assert_array_equal(parts, whole)


@pytest.mark.parametrize("method", ["loop", "first_layer", "compile", "vmap"])
def test_the_eval_batch_size_does_not_change_the_losses(method):
    """Property 8 (batch size): batches of 7 (the last one short) and one batch of 1000 give
    the same losses to 1e-6 relative and the same accuracies."""
    model = bn_net()
    raw = tensor_data(60)
    delta, eta = directions(model, ignore="none")
    grid = PlaneGrid(np.linspace(-1, 1, 3), np.linspace(-1, 1, 3))
    a, b = grid.coords(range(grid.size))
    small = evaluate_points(model, EvalSet.from_tensor_data(raw, 7), delta, eta, a, b, method)
    large = evaluate_points(model, EvalSet.from_tensor_data(raw, 1000), delta, eta, a, b, method)
    np.testing.assert_allclose(small.loss, large.loss, rtol=1e-6, atol=0)
    np.testing.assert_array_equal(small.acc, large.acc)
    assert len(np.unique(large.loss)) == grid.size  # nine different points, not one repeated
    assert small.method == large.method == method


def test_biasbn_sweep_leaves_biases_and_buffers_alone():
    model = bn_net()
    delta, eta = directions(model, ignore="biasbn")
    for name, p in model.named_parameters():
        if p.dim() < 2:
            assert torch.count_nonzero(delta[name]) == 0 and torch.count_nonzero(eta[name]) == 0
    before = snapshot(model)
    data = EvalSet.from_tensor_data(tensor_data(20), 8)
    evaluate_points(model, data, delta, eta, [1.0, -1.0], [0.5, 0.2], "loop")
    evaluate_points(model, data, delta, eta, [1.0, -1.0], [0.5, 0.2], "vmap")
    assert_bit_identical(snapshot(model), before)


def test_filter_normalised_surface_is_invariant_to_rescaling_a_relu_layer():
    c = 7.0
    model = relu_net()
    scaled = copy.deepcopy(model)
    with torch.no_grad():
        scaled[0].weight.mul_(c)
        scaled[0].bias.mul_(c)
        scaled[2].weight.div_(c)
    data = EvalSet.from_tensor_data(tensor_data(40), 40)
    grid = PlaneGrid(np.linspace(-1, 1, 3), np.linspace(-1, 1, 3))
    for ignore in ("biasbn", "none"):
        original = surface_of(model, data, *directions(model, "filter", ignore), grid)
        rescaled = surface_of(scaled, data, *directions(scaled, "filter", ignore), grid)
        np.testing.assert_allclose(rescaled, original, rtol=1e-5)
    # without normalisation the same random draw sees a different landscape
    raw = surface_of(model, data, *directions(model, "none"), grid)
    raw_scaled = surface_of(scaled, data, *directions(scaled, "none"), grid)
    assert np.max(np.abs(raw_scaled - raw)) > 1e-2


def test_same_direction_twice_depends_only_on_alpha_plus_beta():
    model = relu_net()
    delta, _ = directions(model)
    data = EvalSet.from_tensor_data(tensor_data(30), 30)
    grid = PlaneGrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 5))
    z = surface_of(model, data, delta, delta, grid)
    a, b = np.meshgrid(grid.alpha, grid.beta)  # shaped like z
    for s in np.unique(np.round(a + b, 9)):
        on_diagonal = z[np.isclose(a + b, s)]
        np.testing.assert_allclose(on_diagonal, on_diagonal[0], rtol=1e-5)
    assert z.max() > z.min() * 1.01  # and it is not flat


# --------------------------------------------------------------------------- grid and merge


def test_chunks_are_contiguous_cover_every_point_once_and_differ_by_at_most_one():
    for n, k in [(35, 1), (35, 3), (35, 7), (625, 5), (10, 4), (3, 9)]:
        used = effective_chunks(n, k)
        ranges = [chunk_range(n, k, i) for i in range(used)]
        points = [p for r in ranges for p in r]
        assert points == list(range(n))
        sizes = [len(r) for r in ranges]
        assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1
        assert all(chunk_of(n, k, p) == i for i, r in enumerate(ranges) for p in r)


def synthetic_loss(a, b):
    return 2.0 + a + 10 * b  # not symmetric in alpha and beta, and 2 at the centre


def synthetic_chunks(grid: PlaneGrid, chunks: int) -> list[pd.DataFrame]:
    frames = []
    for i in range(effective_chunks(grid.size, chunks)):
        points = list(chunk_range(grid.size, chunks, i))
        a, b = grid.coords(points)
        frames.append(chunk_frame(points, a, b, synthetic_loss(a, b), np.full(len(points), 0.5),
                                  np.full(len(points), 0.25), "loop"))
    return frames


def test_non_square_grid_keeps_its_orientation(tmp_path):
    grid = PlaneGrid(np.linspace(-1, 1, 7), np.linspace(0, 2, 5))  # 7 alphas x 5 betas
    surface = merge_chunks(grid, synthetic_chunks(grid, 3))
    assert surface.loss.shape == (5, 7) and AXES == ("beta", "alpha")
    for i, a in enumerate(grid.alpha):
        for j, b in enumerate(grid.beta):
            assert surface.loss[j, i] == synthetic_loss(a, b)
            assert surface.value(a, b) == synthetic_loss(a, b)
    frame = surface.to_frame()
    np.testing.assert_array_equal(frame["loss"], synthetic_loss(frame["alpha"], frame["beta"]))
    io.write_npz(tmp_path / "s.npz", **surface.arrays())
    stored = io.read_npz(tmp_path / "s.npz")
    assert stored["axes"].dtype.kind == "U" and list(stored["axes"]) == ["beta", "alpha"]
    back = Surface.from_arrays(stored)
    np.testing.assert_array_equal(back.loss, surface.loss)
    # an array stored the other way round is read back correctly too
    transposed = dict(stored, loss=stored["loss"].T, acc=stored["acc"].T, axes=np.array(["alpha", "beta"]))
    np.testing.assert_array_equal(Surface.from_arrays(transposed).loss, surface.loss)


def test_merge_rejects_a_missing_or_duplicated_point_naming_it():
    grid = PlaneGrid(np.linspace(-1, 1, 7), np.linspace(-1, 1, 5))
    frames = synthetic_chunks(grid, 3)
    names = [f"chunk_{i}.csv" for i in range(3)]
    holed = [frames[0], frames[1].drop(index=4), frames[2]]
    missing_point = int(frames[1]["point"].iloc[4])
    with pytest.raises(MergeError, match=rf"point {missing_point} .*chunk_1\.csv"):
        merge_chunks(grid, holed, names, n_chunks=3)
    # a whole chunk absent: the message names the configured chunk 2; counting only the two
    # frames given would put its first point, 24, in chunk 1
    first_of_last = int(frames[2]["point"].iloc[0])
    with pytest.raises(MergeError, match=rf"point {first_of_last} .*it belongs to chunk 2$"):
        merge_chunks(grid, frames[:2], names[:2], n_chunks=3)
    duplicated = [frames[0], pd.concat([frames[1], frames[0].iloc[[2]]]), frames[2]]
    with pytest.raises(MergeError, match=r"point 2 appears twice: in chunk_0\.csv and in chunk_1\.csv"):
        merge_chunks(grid, duplicated, names)
    twice_in_one = [pd.concat([frames[0], frames[0].iloc[[0]]]), frames[1], frames[2]]
    with pytest.raises(MergeError, match=r"chunk_0\.csv: point 0 appears 2 times"):
        merge_chunks(grid, twice_in_one, names)
    moved = [frames[0].assign(alpha=frames[0]["alpha"] + 0.1), frames[1], frames[2]]
    with pytest.raises(MergeError, match="another grid"):
        merge_chunks(grid, moved, names)


def test_non_finite_points_are_kept_and_counted_and_the_centre_is_checked_relative_to_theta_star():
    grid = PlaneGrid(np.linspace(-1, 1, 3), np.linspace(-1, 1, 3))
    frames = synthetic_chunks(grid, 1)
    frames[0].loc[0, "loss"] = np.inf
    frames[0].loc[8, "loss"] = np.nan
    surface = merge_chunks(grid, frames)
    assert np.isinf(surface.loss[0, 0]) and np.isnan(surface.loss[2, 2])
    diag = surface_diagnostics(surface, {"loss": 2.0, "acc": 0.5}, 0.01, frames)
    assert diag["non_finite"] == {"count": 2, "fraction": 2 / 9, "points": [0, 8]}
    assert diag["centre"]["loss"] == 2.0  # f(0, 0) = 2 + 0 + 10 * 0
    assert diag["centre_check"]["relative_difference"] == 0.0 and diag["centre_check"]["bitwise"]
    assert diag["method"] == "loop" and diag["timing"]["chunks"][0]["method"] == "loop"
    assert diag["timing"]["total_evaluation_seconds"] == pytest.approx(9 * 0.25)
    # a reference 1.5e-6 away disagrees, one 0.5e-6 away agrees (relative, not absolute: both
    # differences are far below 1e-6 in absolute terms only for a loss near 0)
    for factor, agrees in ((1 + 1.5e-6, False), (1 + 0.5e-6, True)):
        check = surface_diagnostics(surface, {"loss": 2.0 * factor, "acc": 0.5}, 0.01, frames)["centre_check"]
        assert check["agrees"] is agrees and not check["bitwise"]
        assert check["relative_difference"] == pytest.approx((factor - 1) / factor, rel=1e-6)
    assert relative_difference(2.0, 4.0) == 0.5 and relative_difference(4.0, 2.0) == 1.0
    with pytest.raises(RuntimeError, match=r"f\(0, 0\) = 2\.0 differs from the final model's own loss"):
        require_reference("f(0, 0)", 2.0, 2.0 * (1 + 1.5e-6))
    assert require_reference("f(0, 0)", 2.0, 2.0)["bitwise"]
    assert reference_check(3.0, 2.0)["relative_difference"] == 0.5


def test_zero_is_snapped_onto_the_axis_and_a_missing_centre_is_named():
    raw = np.linspace(-0.1, 0.2, 4)
    assert raw[1] != 0.0  # 1.4e-17: rounding puts the centre just off the grid
    snapped = axis({"min": -0.1, "max": 0.2, "num": 4})
    assert snapped[1] == 0.0 and np.array_equal(np.delete(snapped, 1), np.delete(raw, 1))
    assert PlaneGrid.from_config({"alpha": {"min": -0.1, "max": 0.2, "num": 4}, "beta": {"min": -1, "max": 1, "num": 3}}).centre_index() == 1 * 4 + 1
    assert np.array_equal(axis({"min": -1, "max": 1, "num": 25}), np.linspace(-1, 1, 25))  # nothing else moves
    assert axis({"min": 1e-3, "max": 1, "num": 3})[0] == 1e-3  # a real step, not rounding: kept
    # even num on a symmetric range: 0 is not a grid point
    even = {"alpha": {"min": -1, "max": 1, "num": 4}, "beta": {"min": -1, "max": 1, "num": 5}}
    problem = centre_required_problem(even)
    assert "landscape.alpha.num" in problem and "landscape.beta.num" not in problem and "odd" in problem
    both = {"alpha": {"min": -1, "max": 1, "num": 4}, "beta": {"min": -0.5, "max": 0.5, "num": 2}}
    assert "landscape.alpha.num" in centre_required_problem(both) and "landscape.beta.num" in centre_required_problem(both)
    assert centre_required_problem({"alpha": {"min": -1, "max": 1, "num": 5}, "beta": {"min": -1, "max": 1, "num": 25}}) is None
    # 0 outside one range: theta* is not in the window, nothing to check
    assert centre_required_problem({"alpha": {"min": -1, "max": 1, "num": 4}, "beta": {"min": 0.5, "max": 1, "num": 3}}) is None


def test_merge_warns_naming_the_key_when_the_centre_is_not_on_the_grid(tmp_path, caplog):
    landscape = {"alpha": {"min": -1.0, "max": 1.0, "num": 4}, "beta": {"min": -1.0, "max": 1.0, "num": 3}, "chunks": 2}
    grid = PlaneGrid.from_config(landscape)
    paths = []
    for k, frame in enumerate(synthetic_chunks(grid, 2)):
        paths.append(str(tmp_path / f"chunk_{k}.csv"))
        io.write_csv(paths[-1], frame)
    io.write_json(tmp_path / "directions.json", {"cos_delta_eta": 0.01})
    io.write_json(tmp_path / "reference.json", {"loss": 2.0, "acc": 0.5, "data": {"part": "train"}})
    with caplog.at_level(logging.WARNING):
        diag = steps.run_merge(landscape, paths, str(tmp_path / "directions.json"), str(tmp_path / "reference.json"),
                               str(tmp_path / "s.csv"), str(tmp_path / "s.npz"), str(tmp_path / "d.json"))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("landscape.alpha.num" in w and "centre check" in w for w in warnings), warnings
    assert diag["centre"]["on_grid"] is False and "landscape.alpha.num" in diag["centre_check"]["problem"]


# --------------------------------------------------------------------------- 1-D


def test_interpolation_parameters_hit_zero_and_one_exactly():
    for n in (3, 5, 21, 41, 51, 401):
        ts = interpolation_ts(n)
        assert 0.0 in ts and 1.0 in ts and ts[0] == -0.5 and ts[-1] == 1.5
        assert np.all(np.diff(ts) > 1e-6)
        assert len(ts) == (n if n >= 5 else 4)  # as many points as configured, where they fit
    for n in (50, 51):
        alphas = line_alphas({"min": -1, "max": 1, "num": 25}, n)
        assert 0.0 in alphas and len(alphas) == n and alphas[0] == -1 and alphas[-1] == 1


def test_interpolation_gives_theta0_at_t0_and_theta_star_at_t1_with_bn_buffers():
    final, start = bn_net(0), bn_net(1)
    data_raw = tensor_data(40)
    data = EvalSet.from_tensor_data(data_raw, 16)
    before = snapshot(final)
    path = interpolate(final, data, start.state_dict(), interpolation_ts(5))
    assert_bit_identical(snapshot(final), before)
    at = dict(zip(path["t"], path["loss"]))
    assert at[1.0] == evaluate(final, data_raw, 16)[0]
    assert at[0.0] == evaluate(start, data_raw, 16)[0]
    assert at[0.0] != at[1.0]


def test_interpolation_outside_zero_and_one_keeps_bn_variances_valid():
    final, start = bn_net(0), bn_net(1)
    variances = [name for name in final.state_dict() if name.endswith("running_var")]
    assert variances
    with torch.no_grad():  # as after training: theta0's variances 1, theta*'s far smaller
        for name in variances:
            start.state_dict()[name].fill_(1.0)
            final.state_dict()[name].fill_(0.1)
    data_raw = tensor_data(40)
    path = interpolate(final, EvalSet.from_tensor_data(data_raw, 16), start.state_dict(), interpolation_ts(5))
    # linear extrapolation would give 1.5 * 0.1 - 0.5 * 1 = -0.35 at t = 1.5, and NaN losses
    assert np.isfinite(path["loss"]).all(), path
    at = dict(zip(path["t"], path["loss"]))
    assert at[1.0] == evaluate(final, data_raw, 16)[0] and at[0.0] == evaluate(start, data_raw, 16)[0]
    assert all(final.state_dict()[name].eq(0.1).all() for name in variances)  # theta* restored


def test_a_span_sets_each_point_as_its_weighted_sum_and_clamps_only_past_its_weight_sets():
    # values whose weighted sums are exact, so a fused multiply-add cannot round them otherwise
    a, b = torch.tensor([1.0, -2.0, 0.25]), torch.tensor([0.5, 4.0, 8.0])
    live = [torch.zeros(3), torch.zeros(3)]  # a weight, a running variance
    span = Span(live, [[a, a.clone()], [b, b.clone()]], [[0.25, 0.75], [1.0, 0.0], [0.0, 1.0], [2.0, -1.0]],
                [torch.full((3,), 9.0), torch.full((3,), 9.0)], clamped=[1])
    span.move(0)
    assert torch.equal(live[0], 0.25 * a + 0.75 * b)
    span.move(1)
    assert torch.equal(live[0], a) and torch.equal(live[1], a)  # the weight sets themselves, bit for bit
    span.move(2)
    assert torch.equal(live[0], b) and torch.equal(live[1], b)
    span.move(3, [1])  # only the variance: 2a - b, negatives clamped at 0
    assert torch.equal(live[1], torch.clamp_min(2 * a - b, 0.0)) and torch.equal(live[0], b)
    out = torch.empty(3)
    assert torch.equal(span.combine([a, b], 0, out), 0.25 * a + 0.75 * b)
    span.restore()
    assert all(torch.equal(t, torch.full((3,), 9.0)) for t in live)
    with pytest.raises(ValueError, match=r"weights of shape \(2, 3\) for 2 weight sets"):
        Span(live, [[a, a], [b, b]], np.zeros((2, 3)), live)


@pytest.mark.parametrize("name", ["lenet5 tanh with BatchNorm, 3x32x32", "vgg bn_rc", "mlp"])
def test_interpolation_by_first_layer_is_exact_at_the_ends_and_agrees_with_the_loop(name, monkeypatch):
    torch.manual_seed(3)
    final, start = randomise_batch_norm(CHAIN_MODELS[name]()), randomise_batch_norm(CHAIN_MODELS[name]())
    variances = [k for k in final.state_dict() if k.endswith("running_var")]
    with torch.no_grad():  # theta0's variances 1, theta*'s smaller: extrapolated past t = 1 they would turn negative
        for k in variances:
            start.state_dict()[k].fill_(1.0)
            final.state_dict()[k].mul_(0.2)
    shape = (1, 8, 8) if name == "mlp" else (3, 32, 32) if "lenet" in name else (3, 16, 16)
    raw = tensor_data(37, shape)
    data = EvalSet.from_tensor_data(raw, 16, normalise_now=False)
    before = snapshot(final)
    splits = []
    real_split = evaluate_module.evaluate_split
    monkeypatch.setattr(evaluate_module, "evaluate_split", lambda *a, **k: splits.append(1) or real_split(*a, **k))
    ts = interpolation_ts(9)
    shared = interpolate(final, data, start.state_dict(), ts)
    assert splits == [1]  # auto took first_layer: the first layer twice per batch, not once per point
    loop = interpolate(final, data, start.state_dict(), ts, "loop")
    assert splits == [1]
    assert_bit_identical(snapshot(final), before)
    assert list(shared["t"]) == list(ts)
    at = dict(zip(shared["t"], shared["loss"]))
    assert at[0.0] == evaluate(start, raw, 16)[0] and at[1.0] == evaluate(final, raw, 16)[0]
    assert np.isfinite(shared["loss"]).all()
    # Past t = 1 some variances are clamped at 0, so BatchNorm divides by sqrt(eps) and magnifies
    # the rounding difference of the two ways (up to 300x; measured 6e-6); elsewhere FIRST_LAYER_RTOL.
    within = ts <= 1.0
    np.testing.assert_allclose(shared["loss"][within], loop["loss"][within], rtol=FIRST_LAYER_RTOL, atol=0)
    np.testing.assert_allclose(shared["loss"], loop["loss"], rtol=1e-4 if variances else FIRST_LAYER_RTOL, atol=0)
    np.testing.assert_array_equal(shared["acc"], loop["acc"])
    assert shared["loss"].nunique() == len(ts)


def test_a_tied_weight_is_moved_once_and_keeps_first_layer_off():
    def tied(seed):
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 10))
        net[3].weight = net[1].weight  # one Parameter under two names
        return net.eval()

    final, start = tied(0), tied(1)
    assert {"1.weight", "3.weight"} <= set(final.state_dict())
    # the first layer's outputs could not stay fixed while its weight moves in a later layer
    assert split_first_layer(final) is None
    raw = tensor_data(20)
    data = EvalSet.from_tensor_data(raw, 8)
    with pytest.raises(ValueError, match=r"first_layer needs .* whose weights no later layer shares"):
        interpolate(final, data, start.state_dict(), [0.5], "first_layer")
    path = interpolate(final, data, start.state_dict(), [0.5])
    halfway = tied(2)
    with torch.no_grad():
        for name, tensor in halfway.state_dict().items():
            tensor.copy_(start.state_dict()[name] * 0.5 + final.state_dict()[name] * 0.5)
    np.testing.assert_allclose(path["loss"], [evaluate(halfway, raw, 8)[0]], rtol=1e-6, atol=0)


def test_line_passes_through_theta_star():
    model = relu_net()
    raw = tensor_data(30)
    delta, _ = directions(model)
    alphas = line_alphas({"min": -1, "max": 1}, 8)
    line = line_along(model, EvalSet.from_tensor_data(raw, 30), delta, alphas)
    assert list(line.columns) == ["alpha", "loss", "acc"]
    assert line.loc[line["alpha"] == 0.0, "loss"].item() == evaluate(model, raw, 30)[0]
    loop = line_along(model, EvalSet.from_tensor_data(raw, 30), delta, alphas, "loop")
    np.testing.assert_allclose(line["loss"], loop["loss"], rtol=FIRST_LAYER_RTOL, atol=0)
    assert loop.loc[loop["alpha"] == 0.0, "loss"].item() == evaluate(model, raw, 30)[0]


# --------------------------------------------------------------------------- steps (files)


@pytest.fixture
def study(tmp_path):
    """A tiny MNIST-shaped study on disk: data, split, config, best.json, θ0 and θ*."""
    rng = np.random.default_rng(0)
    n_train, n_test = 60, 20
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 1, 28, 28), dtype=np.uint8),
        "train_labels": np.tile(np.arange(10), n_train // 10).astype(np.int64),
        "test_images": rng.integers(0, 256, (n_test, 1, 28, 28), dtype=np.uint8),
        "test_labels": np.tile(np.arange(10), n_test // 10).astype(np.int64),
        "classes": np.array([str(i) for i in range(10)]),
        "mean": np.array([0.13]),
        "std": np.array([0.31]),
    }
    io.write_npz(tmp_path / "data.npz", **arrays)
    io.write_csv(tmp_path / "split.csv", stratified_split(arrays["train_labels"], 0.2, 0))
    config = validate({
        "study": "t", "device": "cpu", "dataset": {"name": "mnist"},
        "train": {"eval_batch_size": 16, "channels_last": True},
        "landscape": {"alpha": {"num": 7}, "beta": {"num": 5, "min": -0.5, "max": 0.5}, "eval_batch_size": 16,
                      "line_points": 9, "chunks": 3},
    })
    best = {"params": {"optimizer.lr": 0.05}}
    resolved = resolve_final(config, best, "train+val")
    final = resolved["config"]
    from gridscape.study import load_dataset

    data = load_dataset(tmp_path / "data.npz", "mnist")
    theta0 = new_model(final, data)
    io.write_safetensors(tmp_path / "init.safetensors", theta0.state_dict())
    theta = new_model(final, data)
    with torch.no_grad():
        for p in theta.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    io.write_safetensors(tmp_path / "model.safetensors", theta.state_dict())
    paths = {k: str(tmp_path / v) for k, v in {
        "data": "data.npz", "split": "split.csv", "model": "model.safetensors", "init": "init.safetensors",
        "directions": "ls/directions.safetensors", "meta": "ls/directions.json", "reference": "ls/reference.json",
        "subset": "ls/subset_indices.csv",
    }.items()}
    return {"config": config, "best": best, "final": resolved, "paths": paths, "tmp": tmp_path}


def run_directions(study, landscape):
    """The directions job and the reference job, as the workflow runs them."""
    p = study["paths"]
    meta = steps.run_directions(study["final"], landscape, p["model"], p["directions"], p["meta"])
    reference = steps.run_reference(study["final"], landscape, p["data"], p["split"],
                                    p["model"], p["reference"], p["subset"] if landscape["subset_size"] else None)
    return {"directions": meta, "reference": reference}


def run_grid(study, landscape, chunks: int, folder: str) -> list[str]:
    p = study["paths"]
    landscape = dict(landscape, chunks=chunks)
    out = []
    for i in range(effective_chunks(PlaneGrid.from_config(landscape).size, chunks)):
        path = str(study["tmp"] / folder / f"chunk_{i}.csv")
        steps.run_chunk(study["final"], landscape, i, p["data"], p["split"], p["model"],
                        p["directions"], path)
        out.append(path)
    return out


def merge(study, landscape, chunk_paths, folder):
    p = study["paths"]
    d = study["tmp"] / folder
    diag = steps.run_merge(landscape | {"chunks": len(chunk_paths)}, chunk_paths, p["meta"], p["reference"],
                           str(d / "surface.csv"), str(d / "surface.npz"), str(d / "diagnostics.json"))
    return diag, (d / "surface.csv").read_bytes(), io.read_npz(d / "surface.npz")


@pytest.mark.parametrize("method", ["loop", "first_layer", "compile", "vmap"])
def test_steps_chunking_and_resume_give_a_bit_identical_surface(study, method):
    landscape = dict(study["config"]["landscape"], method=method)
    info = run_directions(study, landscape)
    reference = info["reference"]
    assert reference["data"]["n_images"] == 60  # train + val: everything the final model saw
    with safe_open(study["paths"]["directions"], "pt") as handle:
        names = {k.split(".", 1)[1] for k in handle.keys()}
    assert names == {n for n, _ in LeNet5((1, 28, 28), 10).named_parameters()}

    results = {}
    for chunks in (1, 3, 7):
        paths = run_grid(study, landscape, chunks, f"c{chunks}")
        results[chunks] = merge(study, landscape, paths, f"c{chunks}")
        table = pd.read_csv(paths[0])
        assert list(table.columns) == ["point", "alpha", "beta", "loss", "acc", "seconds", "method"]
        assert set(table["method"]) == {method}
    diag, csv_bytes, npz = results[1]
    for chunks in (3, 7):
        assert results[chunks][1] == csv_bytes
        for key in ("alpha", "beta", "loss", "acc"):
            np.testing.assert_array_equal(results[chunks][2][key], npz[key])
    assert npz["loss"].shape == (5, 7) and list(npz["axes"]) == ["beta", "alpha"]
    assert list(pd.read_csv(study["tmp"] / "c1" / "surface.csv").columns) == ["alpha", "beta", "loss", "acc"]
    # the centre is the final model's own loss on the same images, computed by evaluate():
    # bit for bit by the loop (which calls evaluate) and by first_layer (which adds exact
    # zeros to the same batches' outputs), to 1e-6 relative by vmap and compile
    check = diag["centre_check"]
    assert check["bitwise_expected"] is (method in ("loop", "first_layer"))
    if method in ("loop", "first_layer"):
        assert diag["centre"]["loss"] == reference["loss"] and check["bitwise"] and check["relative_difference"] == 0.0
    else:
        rtol = COMPILE_RTOL if method == "compile" else 1e-6
        assert diag["centre"]["loss"] == pytest.approx(reference["loss"], rel=rtol, abs=0) and check["agrees"]
    assert diag["method"] == method  # from the chunks, not from a job's device
    assert {"edges", "minimum", "timing", "non_finite", "cos_delta_eta"} <= set(diag)
    timing = diag["timing"]
    assert len(timing["chunks"]) == 1 and timing["chunks"][0]["method"] == method
    assert timing["points_per_evaluation_second"] > 0 and "evaluation" in timing["what"]
    assert results[7][0]["timing"]["chunks"][6]["points"] == 5

    # resume: a lost chunk is recomputed alone and the merge is unchanged
    paths = [str(study["tmp"] / "c3" / f"chunk_{i}.csv") for i in range(3)]
    untouched = Path(paths[0]).stat().st_mtime_ns
    Path(paths[1]).unlink()
    with pytest.raises(FileNotFoundError):
        merge(study, landscape, paths, "c3")
    steps.run_chunk(study["final"], dict(landscape, chunks=3), 1,
                    *(study["paths"][k] for k in ("data", "split", "model", "directions")), paths[1])
    assert merge(study, landscape, paths, "c3")[1] == csv_bytes
    assert Path(paths[0]).stat().st_mtime_ns == untouched
    with pytest.raises(MergeError, match="3 chunk files given, the config asks for 7"):
        steps.merge(dict(landscape, chunks=7), paths)


@pytest.mark.parametrize("method", ["loop", "first_layer"])
def test_bfloat16_points_are_near_float32_and_the_merge_checks_the_centre_to_its_tolerance(study, method):
    """landscape.precision bfloat16: every point within 1e-2 of float32's (measured: < 1e-3),
    the centre checked against the float32 L(θ*) to 1e-2 and the difference recorded; the
    same chunks under a float32 merge fail its 1e-6 check, naming the tolerance."""
    landscape = dict(study["config"]["landscape"], method=method)
    reference = run_directions(study, landscape)["reference"]
    single = merge(study, landscape, run_grid(study, landscape, 1, f"f32-{method}"), f"f32-{method}")
    half_landscape = dict(landscape, precision="bfloat16")
    paths = run_grid(study, half_landscape, 2, f"bf16-{method}")
    diag, _, npz = merge(study, half_landscape, paths, f"bf16-{method}")
    np.testing.assert_allclose(npz["loss"], single[2]["loss"], rtol=1e-2, atol=0)
    assert not np.array_equal(npz["loss"], single[2]["loss"])
    check = diag["centre_check"]
    assert diag["precision"] == "bfloat16" and check["tolerance"] == 1e-2 and check["agrees"]
    assert not check["bitwise_expected"] and 0 < check["relative_difference"] <= 1e-2
    assert check["theta_star_loss"] == reference["loss"]
    if check["relative_difference"] > 1e-6:
        with pytest.raises(RuntimeError, match=r"tolerance 1e-06"):
            merge(study, landscape, paths, f"bf16-{method}")


def test_a_non_square_grid_point_equals_an_independent_evaluation(study):
    """7 alphas x 5 betas through the real steps; one off-diagonal point, (alpha[5], beta[1]),
    recomputed by building theta* + alpha delta + beta eta by hand and calling evaluate()."""
    landscape = dict(study["config"]["landscape"], method="loop")
    run_directions(study, landscape)
    merge(study, landscape, run_grid(study, landscape, 3, "ns"), "ns")
    npz = io.read_npz(study["tmp"] / "ns" / "surface.npz")
    alpha, beta = npz["alpha"], npz["beta"]
    assert len(alpha) == 7 and len(beta) == 5 and npz["loss"].shape == (5, 7)
    i, j = 5, 1
    a, b = float(alpha[i]), float(beta[j])
    assert a == pytest.approx(2 / 3) and b == -0.25

    p = study["paths"]
    final = study["final"]["config"]
    data = load_dataset(p["data"], "mnist")
    model = load_model(final, data, p["model"], torch.device("cpu"))
    names = [n for n, _ in model.named_parameters()]
    delta, eta = load_directions(p["directions"], names)
    state = model.state_dict()
    moved = {k: (state[k].double() + a * delta[k].double() + b * eta[k].double()).float() if k in delta else state[k]
             for k in state}
    model.load_state_dict(moved)
    images = to_tensors(data, "train", training_indices(pd.read_csv(p["split"]), final_subsets("train+val")),
                        torch.device("cpu"), study["config"]["train"])
    expected = evaluate(model, images, 16)[0]

    stored = float(npz["loss"][j, i])
    assert stored == pytest.approx(expected, rel=1e-6, abs=0)
    surface = pd.read_csv(study["tmp"] / "ns" / "surface.csv")
    row = surface[np.isclose(surface["alpha"], a) & np.isclose(surface["beta"], b)]
    assert len(row) == 1 and row["loss"].item() == stored
    # the match is not luck: no other grid point has this loss (a transposed or scrambled
    # layout would put another point's value at [j, i])
    others = np.delete(npz["loss"].ravel(), j * 7 + i)
    assert np.min(np.abs(others - expected)) > 1e-5 * expected


def test_steps_subset_line_and_interpolation(study):
    landscape = dict(study["config"]["landscape"], subset_size=25, subset_seed=3, data="train")
    run_directions(study, landscape)
    subset = pd.read_csv(study["paths"]["subset"])
    split = pd.read_csv(study["paths"]["split"])
    assert len(subset) == 25 and subset["index"].is_monotonic_increasing
    assert set(subset["index"]) <= set(training_indices(split, ["train", "val"]))
    data = load_dataset(study["paths"]["data"], "mnist")
    again = select(landscape, data, split, "train+val")
    assert again.subset and again.describe()["subset"]
    np.testing.assert_array_equal(again.indices, subset["index"])
    assert not np.array_equal(select(dict(landscape, subset_seed=4), data, split, "train+val").indices, again.indices)
    only_train = select(dict(landscape, subset_size=None), data, split, "train")
    np.testing.assert_array_equal(only_train.indices, training_indices(split, ["train"]))
    assert not only_train.subset
    # asking for at least as many images as there are is no subset: every image, flag false
    for size in (60, 500):
        whole = select(dict(landscape, subset_size=size), data, split, "train+val")
        np.testing.assert_array_equal(whole.indices, training_indices(split, ["train", "val"]))
        assert not whole.subset and whole.describe()["subset"] is False and whole.describe()["subset_size"] == size

    p = study["paths"]
    line_csv, interp_csv = str(study["tmp"] / "line.csv"), str(study["tmp"] / "interp.csv")
    line, path = steps.run_line(study["final"], landscape, p["data"], p["split"], p["model"],
                                p["init"], p["directions"], p["reference"], line_csv, interp_csv)
    reference = io.read_json(p["reference"])
    assert reference["data"]["n_images"] == 25
    assert list(pd.read_csv(line_csv).columns) == ["alpha", "loss", "acc"]
    assert list(pd.read_csv(interp_csv).columns) == ["t", "loss", "acc"]
    assert line.loc[line["alpha"] == 0.0, "loss"].item() == reference["loss"]
    assert path.loc[path["t"] == 1.0, "loss"].item() == reference["loss"]
    # t = 0 is θ0's own loss on the same images
    final = study["final"]["config"]
    theta0 = load_model(final, data, p["init"], torch.device("cpu"))
    images = to_tensors(data, "train", again.indices, torch.device("cpu"), study["config"]["train"])
    assert path.loc[path["t"] == 0.0, "loss"].item() == evaluate(theta0, images, 16)[0]


def test_a_subset_size_covering_every_image_is_recorded_as_no_subset(study):
    landscape = dict(study["config"]["landscape"], subset_size=500, data="train")
    p = study["paths"]
    reference = steps.run_reference(study["final"], landscape, p["data"], p["split"],
                                    p["model"], p["reference"], p["subset"])
    assert reference["data"]["subset"] is False and reference["data"]["n_images"] == 60
    assert "subset_seed" not in reference
    assert len(pd.read_csv(p["subset"])) == 60  # the rule's declared output is still written


def test_directions_depend_on_the_model_only(study, tmp_path):
    """No images are read: the directions job runs without the data or the split."""
    landscape = study["config"]["landscape"]
    p = study["paths"]
    meta = steps.run_directions(study["final"], landscape, p["model"], p["directions"], p["meta"])
    final = study["final"]["config"]
    model = load_model(final, load_dataset(p["data"], "mnist"), p["model"], torch.device("cpu"))
    delta, eta = load_directions(p["directions"], [n for n, _ in model.named_parameters()])
    weights = parameters_of(model)
    expected = random_direction(weights, landscape["delta_seed"], landscape["normalization"], landscape["ignore"])
    assert all(torch.equal(delta[k], expected[k]) for k in weights)
    assert meta["cos_delta_eta"] == pytest.approx(cosine(delta, eta))


def test_final_subsets_is_shared_with_the_final_training():
    assert final_subsets("train+val") == ["train", "val"] and final_subsets("train") == ["train"]
    import gridscape.landscape.data as landscape_data

    assert landscape_data.final_subsets is final_subsets
