"""One autoencoder run: trained on the split's training images (and validation ones with
``train_on: train+val``), its loss on the test set recorded every epoch, then the codes of the
training images, their mean decoded, and reconstructions of a few test images, written as
plain files (CSV, JSON, NPZ, safetensors)."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from typing import Mapping

import numpy as np
import pandas as pd
import torch

from gridscape import io
from gridscape.checkpoint import CheckpointPlace, open_checkpoint
from gridscape.data import DATASETS
from gridscape.device import resolve_device
from gridscape.objective import objective_by_name
from gridscape.report.model_summary import layer_table
from gridscape.study import final_subsets, load_dataset, read_split, to_tensors, training_indices
from gridscape.train import seed_everything, train

from .models import Autoencoder, build_autoencoder, encode_all, parameters_of

log = logging.getLogger(__name__)

OBJECTIVES = {"l1": "reconstruction_l1", "mse": "reconstruction_mse"}


@dataclass(frozen=True)
class RunPaths:
    """The files of one run, under autoencoders/<run>/."""

    history: str
    metrics: str
    model: str
    latents: str
    mean_latent: str
    mean_decoded: str
    samples: str
    layers: str


def new_autoencoder(config: Mapping, architecture: str, latent: int) -> Autoencoder:
    """The run's network, initialised from ``train.seed``."""
    seed_everything(int(config["train"]["seed"]))
    section = config["autoencoder"]
    return build_autoencoder(architecture, section["architectures"][architecture],
                             DATASETS[config["dataset"]["name"]].in_shape, latent, section["output_activation"],
                             section["output_bias"])


def run_autoencoder(
    config: Mapping, architecture: str, latent: int, data_path: str, split_path: str, paths: RunPaths,
    checkpoint: CheckpointPlace | None = None,
) -> dict:
    """Train one autoencoder and write its files; returns its metrics."""
    section = config["autoencoder"]
    name = f"{architecture}_{latent}"
    objective = objective_by_name(OBJECTIVES[section["loss"]])
    checkpointer = open_checkpoint(checkpoint, {"run": name, "config": config}, [data_path, split_path])
    data = load_dataset(data_path, config["dataset"]["name"])
    device = resolve_device(config["device"])
    indices = training_indices(read_split(split_path), final_subsets(section["train_on"]))
    train_data = to_tensors(data, "train", indices, device, config["train"])
    test_data = to_tensors(data, "test", None, device, config["train"])
    model = new_autoencoder(config, architecture, latent).to(device)
    with checkpointer or nullcontext():
        result = train(model, train_data, test_data, config["optimizer"], config["train"], eval_name="test",
                       objective=objective, checkpointer=checkpointer)
    batch_size = int(config["train"]["eval_batch_size"])
    codes = encode_all(model, train_data.batches(batch_size)).double().cpu()
    mu = codes.mean(dim=0)
    model.eval()
    with torch.inference_mode():
        decoded = model.decode(mu.to(device=device, dtype=torch.float32).unsqueeze(0))[0].cpu().numpy()
        per_image = _per_image_losses(model, test_data, batch_size, objective)
        chosen = np.sort(np.random.default_rng(int(config["train"]["seed"])).choice(
            len(test_data), size=min(int(section["samples"]), len(test_data)), replace=False))
        inputs = test_data.normalise(test_data.images[torch.as_tensor(chosen, device=device)])
        outputs = model(inputs).cpu().numpy()
    mean_image = _mean_image(train_data, batch_size)
    last = result.history[-1]
    metrics = {
        "run": name,
        "architecture": architecture,
        "latent_size": latent,
        "parameters": parameters_of(model),
        "epochs_run": len(result.history),
        "status": result.status,
        "train_loss": last["train_loss"],
        "test_loss": last["test_loss"],
        "test_loss_median": float(np.median(per_image)),
        "dead_latents": int((codes.max(dim=0).values <= 0).sum()),
        **result.initial,
        "seconds": result.seconds,
        "n_train": len(train_data),
        "n_test": len(test_data),
        "device": str(device),
        "threads": torch.get_num_threads(),
    }
    distance = _distance(decoded, mean_image, objective)
    layers = pd.DataFrame([asdict(row) for row in layer_table(model.cpu(), DATASETS[config["dataset"]["name"]].in_shape)[0]])
    with io.atomic_paths(list(vars(paths).values())) as (h, j, m, z, mj, md, s, lay):
        io.write_csv(h, pd.DataFrame(result.history))
        io.write_json(j, metrics)
        io.write_safetensors(m, model.state_dict(), {"run": name})
        io.write_npz(z, z=codes.float().numpy(), labels=np.asarray(data.train_labels[indices], dtype=np.int64))
        io.write_json(mj, {"mu": mu.tolist(), "n": len(codes), "decoded_distance_to_mean_image": distance})
        io.write_npz(md, image=decoded.astype(np.float32), mean_image=mean_image.astype(np.float32))
        io.write_npz(s, indices=chosen.astype(np.int64), inputs=inputs.float().cpu().numpy(), outputs=outputs)
        io.write_csv(lay, layers)
    if checkpointer is not None:
        checkpointer.clear()
    log.info("autoencoder %s: train loss %.4f, test loss %.4f, %d dead latent units", name,
             metrics["train_loss"], metrics["test_loss"], metrics["dead_latents"])
    return metrics


def _mean_image(data, batch_size: int) -> np.ndarray:
    """The pixel-wise mean of the (normalised) images, summed batch by batch in float64: a
    whole MNIST as float64 at once would take 376 MB."""
    total = None
    for images, _ in data.batches(batch_size):
        batch = images.double().sum(dim=0)
        total = batch if total is None else total + batch
    return (total / len(data)).float().cpu().numpy()


def _per_image_losses(model: Autoencoder, data, batch_size: int, objective) -> np.ndarray:
    """Each test image's mean per-pixel loss, the objective's own distance (for the median
    reconstruction error)."""
    values = []
    for images, _ in data.batches(batch_size):
        per_pixel = objective.distance(model(images), images, reduction="none")
        values.append(per_pixel.flatten(1).double().mean(dim=1).cpu())
    return torch.cat(values).numpy()


def _distance(a: np.ndarray, b: np.ndarray, objective) -> float:
    """The objective's loss between two images, per pixel, in float64."""
    return float(objective.distance(torch.from_numpy(np.asarray(a, dtype=np.float64)),
                                    torch.from_numpy(np.asarray(b, dtype=np.float64))))
