"""Training K models of one architecture at once (see ``fused``), each as if alone.

Model k keeps its own initialisation, learning rate, momentum, weight decay and, through its own
seeded generator, its own shuffling and augmentation; models with the same seed share their
batches. Each model's history is what ``train.train`` would record for it: to 1e-9 in float64;
in float32 within rounding at first, since the fused kernels sum in another order, and such
differences can grow over many epochs (tests/test_fused.py).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Mapping, Sequence

import torch
from torch import Tensor, nn
from tqdm import tqdm

from .checkpoint import Checkpointer, prefixed, random_states, restore_random_states, unprefixed
from .data.augment import augmentations_of
from .data.loader import TensorData
from .fused import GroupedSGD, fuse, unfuse_state
from .logs import PROGRESS
from .train import TrainResult, initial_metrics

log = logging.getLogger(__name__)


def _fused_input(batches: Sequence[Tensor], channels_last: bool) -> Tensor:
    """The fused network's input: one batch when all models share it, else side by side."""
    x = batches[0] if len(batches) == 1 else torch.cat(list(batches), dim=1)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def _per_model_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Cross-entropy of each model's outputs (K, batch, classes) against targets (K, batch): shape (K, batch)."""
    groups, batch, classes = logits.shape
    return nn.functional.cross_entropy(logits.reshape(-1, classes), targets.reshape(-1), reduction="none").view(groups, batch)


@torch.inference_mode()
def evaluate_fused(
    fused: nn.Module, data: TensorData, batch_size: int, groups: int, shared_input: bool
) -> tuple[list[float], list[float]]:
    """Per-model mean loss (summed in float64) and accuracy, all models on the same images.

    A pass holds ``batch_size // groups`` images, so its activations take the memory of one
    model's ``batch_size`` batch: nine LeNet-5s at 1,000 images each held about 300 MB more at
    the peak of a CIFAR-10 job (benchmarks/README.md). Each image's loss is summed in float64
    either way."""
    fused.eval()
    device = data.images.device
    loss_sum = torch.zeros(groups, dtype=torch.float64, device=device)
    correct = torch.zeros(groups, dtype=torch.int64, device=device)
    for images, labels in data.batches(max(1, batch_size // groups)):
        logits = fused(_fused_input([images] * (1 if shared_input else groups), data.channels_last))
        targets = labels.unsqueeze(0).expand(groups, -1)
        loss_sum += _per_model_loss(logits, targets).double().sum(1)
        correct += (logits.argmax(dim=2) == targets).sum(1)
    n = len(data)
    return (loss_sum / n).tolist(), (correct.double() / n).tolist()


def train_fused(
    models: Sequence[nn.Module],
    optimizer_configs: Sequence[Mapping],
    seeds: Sequence[int],
    train_data: TensorData,
    eval_data: TensorData,
    train_config: Mapping,
    eval_name: str = "val",
    progress: bool = True,
    checkpointer: Checkpointer | None = None,
) -> tuple[list[TrainResult], list[dict[str, Tensor]]]:
    """Train ``models`` side by side for ``train_config['epochs']`` epochs.

    Returns each model's result (history, status) and final ``state_dict``. A model whose loss
    becomes non-finite is marked diverged at that epoch and its history stops there; the others
    go on, unaffected (their channels never mix). A ``checkpointer`` resumes and saves the
    loop as in ``train.train``.
    """
    groups = len(models)
    for opt in optimizer_configs:
        if opt["name"] != "sgd" or opt["schedule"] != "constant":
            raise ValueError(
                f"config key optimizer: fused training supports sgd at a constant rate, not "
                f"{opt['name']} with schedule {opt['schedule']}"
            )
        if opt.get("l1", 0.0) != 0:
            raise ValueError(
                f"config key optimizer.l1: fused training has no L1 penalty (here {opt['l1']}); "
                "expected such models trained one per job (search.packs.can_fuse)"
            )
    channels_last = bool(train_config["channels_last"])
    unique_seeds = sorted(set(int(s) for s in seeds))
    # One seed: every model sees the same batches, so the first layer reads them once.
    shared_input = len(unique_seeds) == 1
    fused = fuse(models, shared_input=shared_input).to(train_data.images.device)
    if channels_last:
        fused = fused.to(memory_format=torch.channels_last)
    optimizer = GroupedSGD(
        fused,
        lr=[o["lr"] for o in optimizer_configs],
        momentum=[o["momentum"] for o in optimizer_configs],
        weight_decay=[o["weight_decay"] for o in optimizer_configs],
    )
    column = [unique_seeds.index(int(s)) for s in seeds]
    generators = [torch.Generator().manual_seed(s) for s in unique_seeds]
    batch_size = int(train_config["batch_size"])
    augmentations = augmentations_of(train_config)
    device = train_data.images.device
    n_batches = math.ceil(len(train_data) / batch_size)
    loop = _FusedLoop(fused, optimizer, generators, [TrainResult() for _ in models], list(range(groups)))
    first_epoch, partial = loop.resume(checkpointer, n_batches, device)
    results, active = loop.results, loop.active
    if first_epoch == 1 and partial is None:
        eval_batch_size = int(train_config["eval_batch_size"])
        before = {part: evaluate_fused(fused, data, eval_batch_size, groups, shared_input)
                  for part, data in (("train", train_data), (eval_name, eval_data))}
        for k, result in enumerate(results):
            result.initial = initial_metrics(
                {part: {"loss": loss[k], "acc": acc[k]} for part, (loss, acc) in before.items()})
    for epoch in range(first_epoch, int(train_config["epochs"]) + 1):
        start = time.perf_counter()
        fused.train()
        epoch_state = partial or _FusedEpoch(
            [train_data.shuffled_order(g) for g in generators],
            torch.zeros(groups, dtype=torch.float64, device=device),
            torch.zeros(groups, dtype=torch.int64, device=device),
        )
        partial = None
        streams = zip(*(
            train_data.batches(batch_size, g, augmentations, order, epoch_state.step)
            for g, order in zip(generators, epoch_state.orders)
        ))
        bar = tqdm(streams, total=n_batches, initial=epoch_state.step, desc=f"epoch {epoch}",
                   disable=not progress, mininterval=10.0, leave=False)
        for batch in bar:
            images = _fused_input([batch[0][0]] if shared_input else [batch[c][0] for c in column], channels_last)
            targets = torch.stack([batch[c][1] for c in column])
            logits = fused(images)
            losses = _per_model_loss(logits, targets)
            optimizer.zero_grad()
            losses.mean(1).sum().backward()
            optimizer.step()
            epoch_state.loss_sum += losses.detach().double().sum(1)
            epoch_state.correct += (logits.detach().argmax(dim=2) == targets).sum(1)
            epoch_state.step += 1
            if checkpointer is not None and epoch_state.step < n_batches and checkpointer.due(epoch_end=False):
                epoch_state.seconds += time.perf_counter() - start
                start = time.perf_counter()
                checkpointer.save(*loop.snapshot(epoch, epoch_state))
        bar.close()
        train_loss = (epoch_state.loss_sum / len(train_data)).tolist()
        train_acc = (epoch_state.correct.double() / len(train_data)).tolist()
        eval_loss, eval_acc = evaluate_fused(fused, eval_data, int(train_config["eval_batch_size"]), groups, shared_input)
        seconds = epoch_state.seconds + time.perf_counter() - start
        for k in list(active):
            row = {
                "epoch": epoch,
                "train_loss": train_loss[k],
                "train_acc": train_acc[k],
                f"{eval_name}_loss": eval_loss[k],
                f"{eval_name}_acc": eval_acc[k],
                "lr": optimizer_configs[k]["lr"],
                "seconds": seconds / groups,
            }
            results[k].history.append(row)
            results[k].seconds += seconds / groups
            if not (math.isfinite(train_loss[k]) and math.isfinite(eval_loss[k])):
                results[k].status = "diverged"
                active.remove(k)
                log.warning("model %d: loss not finite at epoch %d, marked diverged", k, epoch)
        log.info(
            "epoch %d/%d  %.1fs  %s_acc %s",
            epoch, train_config["epochs"], seconds, eval_name,
            " ".join(f"{a:.4f}" if k in active else "diverged" for k, a in enumerate(eval_acc)),
            extra=PROGRESS,
        )
        if not active:
            break
        if checkpointer is not None and checkpointer.due(epoch_end=True):
            checkpointer.save(*loop.snapshot(epoch + 1, None))
    states = [unfuse_state(fused, models[k], k, groups) for k in range(groups)]
    return results, states


@dataclass
class _FusedEpoch:
    """Where an epoch of the fused models stands: each seed's order, the steps done, the sums."""

    orders: list[Tensor]
    loss_sum: Tensor
    correct: Tensor
    step: int = 0
    seconds: float = 0.0


@dataclass
class _FusedLoop:
    """What ``train_fused`` holds between steps, to and from a checkpoint."""

    fused: nn.Module
    optimizer: GroupedSGD
    generators: list[torch.Generator]
    results: list[TrainResult]
    active: list[int]

    def snapshot(self, epoch: int, partial: _FusedEpoch | None) -> tuple[dict, dict]:
        tensors = {
            **prefixed("model", self.fused.state_dict()),
            **prefixed("optimizer", self.optimizer.state_dict()),
            **random_states(self.generators),
        }
        state = {
            "position": {"epoch": epoch, "step": partial.step if partial else 0},
            "results": [{"history": r.history, "status": r.status, "seconds": r.seconds, "initial": r.initial}
                        for r in self.results],
            "active": self.active,
        }
        if partial is not None:
            tensors.update({f"epoch.order.{i}": order for i, order in enumerate(partial.orders)})
            tensors["epoch.loss_sum"], tensors["epoch.correct"] = partial.loss_sum, partial.correct
            state["epoch_seconds"] = partial.seconds
        return tensors, state

    def resume(self, checkpointer: Checkpointer | None, n_batches: int, device: torch.device) -> tuple[int, _FusedEpoch | None]:
        """Restore the loop from the checkpoint; the first epoch to run and its progress."""
        saved = checkpointer.load() if checkpointer is not None else None
        if saved is None:
            return 1, None
        tensors, state = saved
        self.fused.load_state_dict(unprefixed("model", tensors))
        self.optimizer.load_state_dict(unprefixed("optimizer", tensors))
        restore_random_states(tensors, self.generators)
        for result, saved_result in zip(self.results, state["results"]):
            result.history, result.status, result.seconds = saved_result["history"], saved_result["status"], saved_result["seconds"]
            result.initial = saved_result["initial"]
        self.active[:] = state["active"]
        epoch, step = state["position"]["epoch"], state["position"]["step"]
        log.info("resuming from checkpoint %s at epoch %d, step %d of %d", checkpointer.path, epoch, step, n_batches,
                 extra=PROGRESS)
        if step == 0:
            return epoch, None
        orders = [tensors[f"epoch.order.{i}"].to(device) for i in range(len(self.generators))]
        return epoch, _FusedEpoch(
            orders, tensors["epoch.loss_sum"].to(device), tensors["epoch.correct"].to(device), step, state["epoch_seconds"]
        )
