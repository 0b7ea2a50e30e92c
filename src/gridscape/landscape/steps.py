"""The landscape stage as steps from input files to output files (what the scripts call).

``final`` is the content of final/config.json (the final model's resolved settings, see
``gridscape.final.resolve``), ``landscape`` the landscape section.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd
import torch
from torch import nn

from gridscape import io
from gridscape.data import DATASETS
from gridscape.device import resolve_device
from gridscape.logs import PROGRESS
from gridscape.models import build_model
from gridscape.study import load_dataset, load_model, model_statistics, read_split, to_tensors
from gridscape.train import evaluate

from . import data as landscape_data
from .diagnostics import precision_of, require_reference
from .directions import cosine, load_directions, norm_facts, parameters_of, random_direction, save_directions
from .evaluate import EvalSet, PointResults, evaluate_points, method_for
from .grid import PlaneGrid, chunk_frame, chunk_range
from .merge import merge, run_merge  # noqa: F401 - the merge step, torch-free, re-exported with the others
from .line import interpolate, interpolation_ts, line_alphas, line_along

log = logging.getLogger(__name__)


@dataclass
class Setup:
    """The final model (θ*, eval mode) and the landscape's images, on the study's device."""

    model: nn.Module
    data: "landscape_data.Selection"
    tensors: object  # gridscape.data.loader.TensorData
    labels: np.ndarray
    device: torch.device


def _full_precision(device: torch.device) -> None:
    """No TF32 on GPUs: grid points and the reference evaluation use the same float32 math."""
    if device.type == "cuda":
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False


def setup(resolved: Mapping, landscape: Mapping, data_path: str, split_path: str, model_path: str) -> Setup:
    final, train_on = resolved["config"], resolved["train_on"]
    device = resolve_device(final["device"])
    _full_precision(device)
    prepared = load_dataset(data_path, final["dataset"]["name"])
    selection = landscape_data.select(landscape, prepared, read_split(split_path), train_on)
    model = load_model(final, prepared, model_path, device)
    # train.normalization pixel: the final model's own statistics, saved beside its weights
    statistics = model_statistics(final["train"], model_path)
    tensors = to_tensors(prepared, selection.part, selection.indices, device, final["train"], statistics)
    labels = prepared.train_labels if selection.part == "train" else prepared.test_labels
    if selection.requested is not None and not selection.subset:
        log.info("landscape.subset_size %d >= the %d %s images available: all of them are used, no subset",
                 selection.requested, selection.available, selection.part)
    log.info(
        "landscape on %d %s images (%s), device %s, torch %s, %d threads",
        len(selection.indices), selection.part, "subset" if selection.subset else "all", device,
        torch.__version__, torch.get_num_threads(),
    )
    return Setup(model, selection, tensors, labels, device)


def final_parameters(resolved: Mapping, model_path: str) -> dict[str, torch.Tensor]:
    """θ*'s parameters by name, on the CPU, without loading any images: the architecture needs
    only the dataset's image shape and class count (which ``load_dataset`` checks the data
    against), and the weights come from ``model_path``."""
    final = resolved["config"]
    spec = DATASETS[final["dataset"]["name"]]
    model = build_model(final["model"], spec.in_shape, spec.num_classes)
    model.load_state_dict(io.read_safetensors(model_path), strict=True)
    if final["train"]["channels_last"]:  # the same memory layout as ``load_model`` gives
        model = model.to(memory_format=torch.channels_last)
    return parameters_of(model.eval())


def run_directions(
    final: Mapping, landscape: Mapping, model_path: str, directions_path: str, directions_json: str,
) -> dict:
    """Draw δ and η for θ* and write them with their facts (seeds, norms, cos(δ, η)).

    Depends on the model and the direction keys only (not on the images, the grid or the
    device): the directions are drawn and normalised on the CPU.
    """
    weights = final_parameters(final, model_path)
    norm, ignore = landscape["normalization"], landscape["ignore"]
    delta = random_direction(weights, int(landscape["delta_seed"]), norm, ignore)
    eta = random_direction(weights, int(landscape["eta_seed"]), norm, ignore)
    cos = cosine(delta, eta)
    n_entries = sum(int(w.numel()) for w in weights.values())
    n_perturbed = sum(int(w.numel()) for k, w in weights.items() if delta[k].abs().sum() > 0)
    meta = {
        "delta_seed": int(landscape["delta_seed"]),
        "eta_seed": int(landscape["eta_seed"]),
        "generator": "torch.Generator(device='cpu').manual_seed(seed); torch.randn per parameter in named_parameters() order",
        "normalization": norm,
        "ignore": ignore,
        "cos_delta_eta": cos,
        "one_over_sqrt_n": 1.0 / np.sqrt(n_perturbed) if n_perturbed else None,
        "parameters": n_entries,
        "perturbed_parameters": n_perturbed,
        "names": list(weights),
        "filters": norm_facts(weights, delta, eta),
    }
    save_directions(directions_path, delta, eta, {"normalization": norm, "ignore": ignore,
                                                  "delta_seed": str(meta["delta_seed"]), "eta_seed": str(meta["eta_seed"])})
    io.write_json(directions_json, meta)
    log.info("cos(delta, eta) = %.3g over %d perturbed entries", cos, n_perturbed)
    return meta


def run_reference(
    final: Mapping, landscape: Mapping,
    data_path: str, split_path: str, model_path: str, reference_json: str, subset_path: str | None = None,
) -> dict:
    """θ*'s own loss and accuracy on the landscape's images (``gridscape.train.evaluate``),
    and the indices of those images when ``subset_path`` is given."""
    s = setup(final, landscape, data_path, split_path, model_path)
    batch_size = int(landscape["eval_batch_size"])
    loss, acc = evaluate(s.model, s.tensors, batch_size)
    reference = {"loss": loss, "acc": acc, "eval_batch_size": batch_size, "computed_by": "gridscape.train.evaluate",
                 "data": s.data.describe(), "train_on": final["train_on"], "device": str(s.device)}
    if s.data.subset:
        reference["subset_seed"] = int(landscape["subset_seed"])
    if subset_path is not None:
        io.write_csv(subset_path, s.data.frame(s.labels))
    io.write_json(reference_json, reference)
    log.info("L(theta*) = %.6g, acc %.4f on %d images", loss, acc, len(s.data.indices))
    return reference


def chunk_points(landscape: Mapping, index: int) -> tuple[PlaneGrid, range]:
    grid = PlaneGrid.from_config(landscape)
    return grid, chunk_range(grid.size, int(landscape["chunks"]), index)


def evaluate_grid_points(
    model: nn.Module, tensors, delta, eta, alphas, betas, landscape: Mapping
) -> PointResults:
    """What a chunk job computes once its files are loaded: the points by ``landscape.method``
    (``auto`` decides by device and model), ``landscape.eval_batch_size`` images per forward
    pass, under bfloat16 autocast where ``landscape.precision`` asks for it. The images are
    normalised once, or batch by batch for ``first_layer``, which passes over them once.
    benchmarks/run.py times this very function."""
    evalset = EvalSet.from_tensor_data(tensors, int(landscape["eval_batch_size"]), normalise_now=False)
    method = method_for(landscape["method"], model, evalset)
    if method != "first_layer":  # the other methods pass over the images once per point
        evalset = EvalSet.from_tensor_data(tensors, evalset.batch_size)
    bfloat16 = precision_of(landscape) == "bfloat16"
    with torch.autocast(evalset.device.type, dtype=torch.bfloat16, enabled=bfloat16):
        return evaluate_points(model, evalset, delta, eta, alphas, betas, method)


def run_chunk(
    final: Mapping, landscape: Mapping, index: int,
    data_path: str, split_path: str, model_path: str, directions_path: str, chunk_path: str,
) -> pd.DataFrame:
    """Evaluate the grid points of chunk ``index`` and write its CSV."""
    grid, points = chunk_points(landscape, index)
    s = setup(final, landscape, data_path, split_path, model_path)
    delta, eta = load_directions(directions_path, [n for n, _ in s.model.named_parameters()])
    alphas, betas = grid.coords(list(points))
    log.info("chunk %d: points %d..%d of %d", index, points.start, points.stop - 1, grid.size, extra=PROGRESS)
    result = evaluate_grid_points(s.model, s.tensors, delta, eta, alphas, betas, landscape)
    frame = chunk_frame(list(points), alphas, betas, result.loss, result.acc, result.seconds, result.method)
    io.write_csv(chunk_path, frame)
    total = float(result.seconds.sum())
    log.info("chunk %d: %d points in %.1f s of evaluation with %s (%.2f points per evaluation second)", index,
             len(points), total, result.method, len(points) / total if total > 0 else float("inf"))
    return frame


def run_line(
    final: Mapping, landscape: Mapping,
    data_path: str, split_path: str, model_path: str, init_path: str, directions_path: str,
    reference_json: str, line_csv: str, interpolation_csv: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The loss along δ through θ*, and along θ(t) = (1 − t) θ0 + t θ*."""
    s = setup(final, landscape, data_path, split_path, model_path)
    delta, _ = load_directions(directions_path, [n for n, _ in s.model.named_parameters()])
    # normalised batch by batch: a normalised copy of 50,000 CIFAR images would add 600 MB
    data = EvalSet.from_tensor_data(s.tensors, int(landscape["eval_batch_size"]), normalise_now=False)
    points = int(landscape["line_points"])
    reference = float(io.read_json(reference_json)["loss"])
    line = line_along(s.model, data, delta, line_alphas(landscape["alpha"], points), landscape["method"])
    if (line["alpha"] == 0.0).any():
        require_reference("the line's f(alpha=0)", float(line.loc[line["alpha"] == 0.0, "loss"].iloc[0]), reference)
    start = io.read_safetensors(init_path)
    path = interpolate(s.model, data, start, interpolation_ts(points), landscape["method"])
    require_reference("the interpolation's f(t=1)", float(path.loc[path["t"] == 1.0, "loss"].iloc[0]), reference)
    io.write_csv(line_csv, line)
    io.write_csv(interpolation_csv, path)
    return line, path
