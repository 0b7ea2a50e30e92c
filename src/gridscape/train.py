"""One training loop for every model of a study: per-epoch history, divergence stop, progress.

The loop reads batches from in-memory tensors (see ``data.loader``); it never touches files,
so the scripts decide what to save and tests can run it on tiny tensors.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Protocol

import torch
from torch import nn
from tqdm import tqdm

from .checkpoint import (
    Checkpointer,
    load_optimizer_state,
    optimizer_state,
    prefixed,
    random_states,
    restore_random_states,
    unprefixed,
)
from .data.augment import augmentations_of
from .data.loader import TensorData
from .gradient_flow import GradientFlow
from .logs import PROGRESS
from .objective import CLASSIFICATION, Objective

log = logging.getLogger(__name__)

def seed_everything(seed: int) -> None:
    """Fix torch's global RNG (weight init), ask for deterministic kernels, and keep float32
    arithmetic float32 on NVIDIA GPUs.

    cuDNN runs float32 convolutions in TF32 (10 mantissa bits) unless told otherwise: on an
    H200 that moved landscape losses by 4e-5 between two evaluation strategies, 40 times the
    merge's centre check (tests/test_cuda.py).
    """
    torch.manual_seed(seed)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    # torch.use_deterministic_algorithms would also set inductor's flag, and importing inductor
    # costs every training job about 2 s: set the kernels' flag, and inductor's once it is loaded
    # (landscape.method: compile sets it before compiling)
    torch._C._set_deterministic_algorithms(True, warn_only=True)
    inductor = sys.modules.get("torch._inductor.config")
    if inductor is not None:
        inductor.deterministic = True
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    if torch.backends.cudnn.is_available():
        torch.backends.cudnn.benchmark = False


class Batches(Protocol):
    """What ``evaluate`` reads: ``TensorData``, or the landscape's pre-normalised ``EvalSet``."""

    images: torch.Tensor  # only its device is used

    def __len__(self) -> int: ...

    def batches(self, batch_size: int) -> Iterable[tuple[torch.Tensor, torch.Tensor]]: ...


@torch.inference_mode()
def evaluate_metrics(
    model: nn.Module, data: Batches, batch_size: int, objective: Objective = CLASSIFICATION
) -> dict[str, float]:
    """The objective's metrics (``objective.metrics``, in order) over ``data``, in eval mode:
    each batch's sums (``Objective.batch_sums``, the loss in float64) are added up on the
    device and divided by ``len(data)`` once at the end.

    ``data`` is anything with ``batches(batch_size)`` yielding normalised (images, labels) in
    a fixed order, ``len()`` and ``images`` on the device.
    """
    was_training = model.training
    model.eval()
    totals: dict[str, torch.Tensor] = {}
    try:
        for images, labels in data.batches(batch_size):
            for name, value in objective.batch_sums(model(images), images, labels).items():
                if name not in totals:  # a zero of the sum's own dtype: float64 loss, int64 hits
                    totals[name] = torch.zeros((), dtype=value.dtype, device=data.images.device)
                totals[name] += value
    finally:
        model.train(was_training)
    n = len(data)
    # .item() gives a Python int for counts and a float for float64 sums: int / n, float / n as before
    return {name: totals[name].item() / n for name in objective.metrics}


def evaluate(
    model: nn.Module, data: Batches, batch_size: int, objective: Objective = CLASSIFICATION
) -> tuple[float, ...]:
    """``evaluate_metrics`` as a tuple in ``objective.metrics`` order: (mean cross-entropy,
    accuracy) for classification. The one evaluation of the package: the landscape's centre
    check compares grid points with it bit for bit.
    """
    metrics = evaluate_metrics(model, data, batch_size, objective)
    return tuple(metrics[name] for name in objective.metrics)


@torch.inference_mode()
def predict(model: nn.Module, data: Batches, batch_size: int) -> torch.Tensor:
    """Each image's predicted class (argmax of the outputs), in eval mode, in ``data``'s order."""
    was_training = model.training
    model.eval()
    try:
        return torch.cat([model(images).argmax(dim=1) for images, _ in data.batches(batch_size)]).cpu()
    finally:
        model.train(was_training)


@dataclass
class TrainResult:
    history: list[dict] = field(default_factory=list)
    status: str = "ok"  # "ok" or "diverged"
    seconds: float = 0.0
    best_epoch: int | None = None  # with keep_best: the epoch of the best evaluation (Objective.best)
    best_state: dict[str, torch.Tensor] | None = None  # ... and the weights after it (on the CPU)
    # the metrics before the first step: initial_train_<m> (the training data in eval mode, no
    # augmentation) and initial_<eval name>_<m>; a model that learns nothing yet scores ln C
    initial: dict[str, float] = field(default_factory=dict)


def make_optimizer(model: nn.Module, optimizer_config: Mapping) -> torch.optim.Optimizer:
    """SGD or Adam with the multi-tensor ("foreach") step: on the CPU PyTorch otherwise steps
    parameter by parameter; foreach does the same arithmetic on every element, so the weights
    are bit-identical (tests/test_training.py), with one call per operation, not per parameter."""
    name = optimizer_config["name"]
    if name == "sgd":
        return torch.optim.SGD(
            model.parameters(),
            lr=optimizer_config["lr"],
            momentum=optimizer_config["momentum"],
            weight_decay=optimizer_config["weight_decay"],
            foreach=True,
        )
    if name == "adam":
        return torch.optim.Adam(
            model.parameters(), lr=optimizer_config["lr"], weight_decay=optimizer_config["weight_decay"], foreach=True
        )
    raise ValueError(f"config key optimizer.name: unknown optimiser {name!r}; expected sgd or adam")


def make_scheduler(optimizer: torch.optim.Optimizer, optimizer_config: Mapping, epochs: int):
    """The learning-rate schedule, stepped once per epoch; None for a constant rate."""
    schedule = optimizer_config["schedule"]
    if schedule == "constant":
        return None
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs, eta_min=optimizer_config["min_lr"])
    raise ValueError(f"config key optimizer.schedule: unknown schedule {schedule!r}; expected constant or cosine")


def weights_of(model: nn.Module) -> list[nn.Parameter]:
    """The parameters an L1 penalty reads: convolution and linear weights (ndim > 1), not
    biases or BatchNorm's scales and shifts."""
    return [p for p in model.parameters() if p.ndim > 1]


def add_l1_gradient(weights: list[nn.Parameter], l1: float) -> None:
    """Add the gradient of ``l1 * sum |w|``, l1 * sign(w) (0 at 0, as autograd's abs), to the
    gradients of ``weights``: the penalty's term of the loss without building it each step."""
    for weight in weights:
        weight.grad.add_(weight.sign(), alpha=l1)


def initial_metrics(
    evaluations: Mapping[str, Mapping[str, float]],
) -> dict[str, float]:
    """{'train': {'loss': ...}, 'val': {...}} as initial_train_loss, initial_val_loss, ..."""
    return {f"initial_{part}_{name}": value for part, metrics in evaluations.items() for name, value in metrics.items()}


def train(
    model: nn.Module,
    train_data: TensorData,
    eval_data: TensorData,
    optimizer_config: Mapping,
    train_config: Mapping,
    eval_name: str = "val",
    progress: bool = True,
    gradient_flow: GradientFlow | None = None,
    keep_best: bool = False,
    objective: Objective = CLASSIFICATION,
    checkpointer: Checkpointer | None = None,
    record_initial: bool = True,
) -> TrainResult:
    """Train ``model`` for ``train_config['epochs']`` epochs on ``objective``'s loss, evaluating
    on ``eval_data`` each epoch.

    Each history row holds epoch, train_<m> and <eval_name>_<m> for the objective's metrics m,
    lr and seconds. Stops early, with status 'diverged', at the end of the first epoch whose
    training loss is NaN or infinite, or whose evaluation loss is. ``gradient_flow`` records the
    gradients of every step; ``keep_best`` keeps the weights of the epoch with the best
    evaluation metric ``objective.best`` (for classification the highest accuracy; the first
    such epoch on ties; only epochs with a finite evaluation loss). With a ``checkpointer`` the
    loop resumes from its checkpoint, if it has a usable one, and writes one when it is due:
    the results are those of a run never interrupted (same device and thread count).
    ``record_initial`` evaluates the model on both sets before the first step
    (``TrainResult.initial``).
    """
    if train_config["channels_last"]:
        model = model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model, optimizer_config)
    scheduler = make_scheduler(optimizer, optimizer_config, int(train_config["epochs"]))
    generator = torch.Generator().manual_seed(int(train_config["seed"]))
    batch_size = int(train_config["batch_size"])
    augmentations = augmentations_of(train_config)
    result = TrainResult()
    # an epoch's images: the training set once, or cycled to train.min_epoch_size
    min_epoch_size = int(train_config.get("min_epoch_size", 0))
    epoch_images = len(train_data) * max(1, math.ceil(min_epoch_size / len(train_data)))
    n_batches = math.ceil(epoch_images / batch_size)
    best_key = f"{eval_name}_{objective.best}"
    loop = _Loop(model, optimizer, scheduler, generator, result, gradient_flow)
    first_epoch, partial = loop.resume(checkpointer, n_batches)
    if record_initial and first_epoch == 1 and partial is None:
        eval_batch_size = int(train_config["eval_batch_size"])
        result.initial = initial_metrics({
            "train": evaluate_metrics(model, train_data, eval_batch_size, objective),
            eval_name: evaluate_metrics(model, eval_data, eval_batch_size, objective),
        })
    l1 = float(optimizer_config.get("l1", 0.0))
    penalised = weights_of(model) if l1 else []
    for epoch in range(first_epoch, int(train_config["epochs"]) + 1):
        start = time.perf_counter()
        lr = optimizer.param_groups[0]["lr"]
        model.train()
        # Per step only what must be kept (the loss, and what the objective's other metrics
        # need); the epoch's sums are formed once at its end, so a step launches no
        # bookkeeping kernels and never waits for the device.
        epoch_state = partial or _Epoch(train_data.shuffled_order(generator, min_epoch_size))
        partial = None
        bar = tqdm(
            train_data.batches(batch_size, generator, augmentations, epoch_state.order, epoch_state.step),
            total=n_batches,
            initial=epoch_state.step,
            desc=f"epoch {epoch}",
            disable=not progress,
            mininterval=10.0,
            leave=False,
        )
        for images, labels in bar:
            output = model(images)
            loss = objective.loss(output, images, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            # the gradient flow records the data loss's gradient, as weight decay's is not in it either
            if gradient_flow is not None:
                gradient_flow.after_backward()
            if penalised:
                add_l1_gradient(penalised, l1)
            optimizer.step()
            epoch_state.add(loss.detach(), labels.shape[0], objective.keep(output, images, labels))
            if checkpointer is not None and epoch_state.step < n_batches and checkpointer.due(epoch_end=False):
                epoch_state.seconds += time.perf_counter() - start
                start = time.perf_counter()
                checkpointer.save(*loop.snapshot(epoch, epoch_state))
        bar.close()
        if scheduler is not None:
            scheduler.step()
        if gradient_flow is not None:
            gradient_flow.end_epoch(epoch)
        # float64, summed step after step: the same rounding as a running float64 sum on the device
        loss_sum = 0.0
        for value, size in zip(torch.stack(epoch_state.losses).tolist(), epoch_state.sizes):
            loss_sum += value * size
        train_metrics = {"loss": loss_sum / epoch_images, **objective.train_metrics(epoch_state.kept, epoch_images)}
        seconds_before = epoch_state.seconds  # of this epoch, before the last checkpoint
        del epoch_state
        eval_metrics = evaluate_metrics(model, eval_data, int(train_config["eval_batch_size"]), objective)
        seconds = seconds_before + time.perf_counter() - start
        result.seconds += seconds
        row = {
            "epoch": epoch,
            **{f"train_{m}": train_metrics[m] for m in objective.metrics},
            **{f"{eval_name}_{m}": eval_metrics[m] for m in objective.metrics},
            "lr": lr,
            "seconds": seconds,
        }
        result.history.append(row)
        train_loss, eval_loss = train_metrics["loss"], eval_metrics["loss"]
        if keep_best and math.isfinite(eval_loss) and _improves(objective, row[best_key], result, best_key):
            result.best_epoch = epoch
            result.best_state = {k: v.detach().clone().cpu() for k, v in model.state_dict().items()}
        log.info(
            "epoch %d/%d  %s  %.1fs",
            epoch, train_config["epochs"],
            "  ".join(f"{key} {row[key]:.4f}" for key in row if key not in ("epoch", "lr", "seconds")),
            seconds, extra=PROGRESS,
        )
        if not (math.isfinite(train_loss) and math.isfinite(eval_loss)):
            result.status = "diverged"
            log.warning(
                "loss is not finite at epoch %d (train %s, %s %s): the run diverged and stops here",
                epoch, train_loss, eval_name, eval_loss,
            )
            break
        if checkpointer is not None and checkpointer.due(epoch_end=True):
            checkpointer.save(*loop.snapshot(epoch + 1, None))
    return result


@dataclass
class _Epoch:
    """Where an epoch stands: its order, the steps done and what they kept."""

    order: torch.Tensor
    step: int = 0
    losses: list[torch.Tensor] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    kept: list[tuple[torch.Tensor, ...]] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, loss: torch.Tensor, size: int, kept: tuple[torch.Tensor, ...]) -> None:
        self.losses.append(loss)
        self.sizes.append(size)
        self.kept.append(kept)
        self.step += 1


@dataclass
class _Loop:
    """What ``train`` holds between steps, to and from a checkpoint."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: object
    generator: torch.Generator
    result: TrainResult
    gradient_flow: GradientFlow | None

    def snapshot(self, epoch: int, partial: _Epoch | None) -> tuple[dict, dict]:
        optimizer_tensors, optimizer_json = optimizer_state(self.optimizer)
        tensors = {
            **prefixed("model", self.model.state_dict()),
            **optimizer_tensors,
            **random_states([self.generator]),
            **prefixed("best", self.result.best_state or {}),
        }
        state = {
            "position": {"epoch": epoch, "step": partial.step if partial else 0},
            "history": self.result.history,
            "seconds": self.result.seconds,
            "best_epoch": self.result.best_epoch,
            "initial": self.result.initial,
            "optimizer": optimizer_json,
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
        }
        if self.gradient_flow is not None:
            tensors["gradient_flow.sums"] = self.gradient_flow.sums
            state["gradient_flow"] = {"rows": self.gradient_flow.rows, "steps": self.gradient_flow.steps}
        if partial is not None:
            tensors["epoch.order"] = partial.order
            tensors["epoch.losses"] = torch.stack(partial.losses)
            # a metric of the objective reads the concatenation of the kept batches (Objective.train_metrics)
            for slot, values in enumerate(zip(*partial.kept)):
                tensors[f"epoch.kept.{slot}"] = torch.cat(values)
            state["epoch"] = {"sizes": partial.sizes, "seconds": partial.seconds, "kept_slots": len(partial.kept[0])}
        return tensors, state

    def resume(self, checkpointer: Checkpointer | None, n_batches: int) -> tuple[int, _Epoch | None]:
        """Restore the loop from the checkpoint; the first epoch to run and its progress."""
        saved = checkpointer.load() if checkpointer is not None else None
        if saved is None:
            return 1, None
        tensors, state = saved
        device = next(iter(self.model.state_dict().values())).device
        self.model.load_state_dict(unprefixed("model", tensors))
        load_optimizer_state(self.optimizer, tensors, state["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        restore_random_states(tensors, [self.generator])
        self.result.history = state["history"]
        self.result.seconds = state["seconds"]
        self.result.best_epoch = state["best_epoch"]
        self.result.initial = state["initial"]
        self.result.best_state = unprefixed("best", tensors) or None
        if self.gradient_flow is not None:
            self.gradient_flow.restore(tensors["gradient_flow.sums"], state["gradient_flow"]["rows"], state["gradient_flow"]["steps"])
        epoch, step = state["position"]["epoch"], state["position"]["step"]
        log.info("resuming from checkpoint %s at epoch %d, step %d of %d", checkpointer.path, epoch, step, n_batches,
                 extra=PROGRESS)
        if step == 0:
            return epoch, None
        saved_epoch = state["epoch"]
        kept = tuple(tensors[f"epoch.kept.{slot}"].to(device) for slot in range(saved_epoch["kept_slots"]))
        partial = _Epoch(
            tensors["epoch.order"].to(device), step, [*tensors["epoch.losses"].to(device).unbind()],
            list(saved_epoch["sizes"]), [kept], saved_epoch["seconds"],
        )
        return epoch, partial


def _improves(objective: Objective, value: float, result: TrainResult, key: str) -> bool:
    """Strictly better than the best epoch so far (so the first of equals stays), or the first."""
    if result.best_epoch is None:
        return True
    best = result.history[result.best_epoch - 1][key]
    return value > best if objective.higher_is_better else value < best
