"""Loss and accuracy at many points θ* + αδ + βη, fast: four strategies behind one function.

* ``loop``: one point after another; the model's own parameters are overwritten in place
  (``torch._foreach_copy_`` / ``_foreach_add_``), no ``load_state_dict``, no rebuild, and
  restored to θ* afterwards.
* ``first_layer`` (``auto`` on the CPU where the model allows it): the images in the outer
  loop, the points inside; the first layer runs once per batch and weight set instead of once per
  point, by its linearity in the weights (``landscape.first_layer``). The centre is bit for bit
  ``evaluate``'s loss, other points agree with the loop to ``FIRST_LAYER_RTOL``; the images
  are normalised batch by batch, with no normalised copy of them all.
* ``compile``: the same loop, but each batch's forward pass, summed cross-entropy and hit
  count run as one ``torch.compile``d function (inductor fuses ReLU, pooling and the loss into
  few kernels). The parameters stay inputs of the compiled graph, so the in-place updates are
  seen without recompiling. Compiling costs seconds once per job and shape and needs a C++
  compiler on the CPU; on 2 CPU cores it now gains under a tenth over the eager loop, whose
  pooling has its own fast path (``models.layers.MaxPool2d``). Fused kernels sum in another
  order, so a compiled point equals ``evaluate`` to ``COMPILE_RTOL`` relative, not bit for
  bit; it is still bit-identical to itself however the grid is cut into chunks (one static
  graph per batch shape, ``dynamic=False``).
* ``vmap``: ``points_per_pass`` (K) points share each forward pass through
  ``torch.func.functional_call`` under ``torch.func.vmap``: the K weight sets are built once
  per pass (one tensor per parameter with a leading dimension K) and the images are shared.
  The last group is padded with copies of its last point so every pass has the same shapes.

``evaluate_points`` takes the grid's directions; ``evaluate_span`` any ``Span`` (the 1-D
interpolation moves BatchNorm statistics too, which only ``loop`` and ``first_layer`` follow).
All run in eval mode under ``torch.inference_mode()`` on data held in memory
(:class:`EvalSet`). The loop evaluates each point with ``gridscape.train.evaluate`` itself, so
at α = β = 0 it reproduces the final model's own loss bit for bit; the other methods use the
same slices and the same float64 accumulation.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from gridscape.data.loader import TensorData
from gridscape.logs import PROGRESS
from gridscape.models.chain import split_first_layer
from gridscape.train import evaluate

from .first_layer import FIRST_LAYER_MAX_BYTES, evaluate_split, first_layer_bytes
from .span import Span, grid_span

log = logging.getLogger(__name__)

METHODS = ("auto", "loop", "first_layer", "compile", "vmap")
POINTS_PER_PASS = 8  # vmap: grid points per forward pass (memory grows linearly with it)
# compile: how far a compiled point may be from ``evaluate``'s loss (relative). Measured on
# LeNet-5 and 10,000 CIFAR-shaped images: <= 1e-7; the merge's centre check uses the same 1e-6.
COMPILE_RTOL = 1e-6


@dataclass
class EvalSet:
    """Images and labels on one device: normalised float32 (channels_last if asked) or, when
    ``normalise`` is set, the raw images, normalised batch by batch as they are taken."""

    images: Tensor
    labels: Tensor
    batch_size: int
    normalise: Callable[[Tensor], Tensor] | None = None

    @classmethod
    def from_tensor_data(cls, data: TensorData, batch_size: int, normalise_now: bool = True) -> "EvalSet":
        """Normalise ``data`` once, slice by slice (same values as ``data.batches``); or, with
        ``normalise_now`` False, keep its raw images and normalise each batch when it is taken
        (a method that passes over the images once needs no normalised copy of them all)."""
        if not normalise_now:
            return cls(data.images, data.labels, int(batch_size), data.normalise)
        n = len(data)
        shape = (n, *data.images.shape[1:])
        fmt = torch.channels_last if data.channels_last and data.images.dim() == 4 else torch.contiguous_format
        images = torch.empty(shape, dtype=torch.float32, device=data.images.device, memory_format=fmt)
        step = max(int(batch_size), 4096)
        for start in range(0, n, step):
            images[start : start + step] = data.normalise(data.images[start : start + step])
        return cls(images, data.labels, int(batch_size))

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def device(self) -> torch.device:
        return self.images.device

    def batches(self, batch_size: int | None = None) -> Iterator[tuple[Tensor, Tensor]]:
        """Consecutive normalised (images, labels) slices of ``batch_size`` (default: the set's own)."""
        size = int(batch_size or self.batch_size)
        for start in range(0, len(self), size):
            images = self.images[start : start + size]
            yield (images if self.normalise is None else self.normalise(images)), self.labels[start : start + size]


def resolve_method(method: str, device: torch.device, first_layer_fits: bool = False) -> str:
    """The strategy that runs: ``method`` itself, or for ``auto`` the choice for this device:
    several points per pass with vmap on a GPU, where one small model cannot fill the device;
    on the CPU the first layer shared by all points where the model allows it and its outputs
    fit (``first_layer_fits``), else the eager loop (compiling, 5-30 s per job, would win back
    under a tenth of the points' time: benchmarks/results.md). The one place where the
    strategy is chosen, so a GPU run needs no code change."""
    if method not in METHODS:
        raise ValueError(f"config key landscape.method: {method!r}; expected one of {METHODS}")
    if method == "auto":
        if torch.device(device).type == "cuda":
            return "vmap"
        return "first_layer" if first_layer_fits else "loop"
    return method


def method_for(method: str, model: nn.Module, data: EvalSet) -> str:
    """``resolve_method`` for this model and these images: ``auto`` takes ``first_layer``
    only where the model is a chain with a convolution or linear layer first and one batch's
    four first-layer outputs take at most ``FIRST_LAYER_MAX_BYTES``."""
    split = split_first_layer(model)
    fits = False
    if split is not None and len(data) > 0 and method in ("auto", "first_layer"):
        image = next(iter(data.batches(1)))[0]
        size = first_layer_bytes(split, image, data.batch_size)
        fits = size <= FIRST_LAYER_MAX_BYTES
        if method == "first_layer" and not fits:
            log.warning("landscape.method first_layer: one batch's first-layer outputs take %.0f MB "
                        "(landscape.eval_batch_size %d)", size / 2**20, data.batch_size)
    if method == "first_layer" and split is None:
        raise ValueError(
            f"config key landscape.method: first_layer needs a model whose forward pass is a chain that starts "
            f"with a convolution or linear layer whose weights no later layer shares (gridscape.models.chain); "
            f"{type(model).__name__} is not: "
            "use loop or auto"
        )
    return resolve_method(method, data.device, fits)


@dataclass
class PointResults:
    loss: np.ndarray  # mean cross-entropy per point (float64)
    acc: np.ndarray  # accuracy per point
    seconds: np.ndarray  # evaluation time per point (a vmap pass's time is shared by its points; compiling excluded)
    method: str  # the method that ran: 'loop', 'compile' or 'vmap' (never 'auto')


def _in_place_points(span: Span, progress, evaluate_point, method) -> PointResults:
    """Move the model's tensors to each point of ``span`` in place, call ``evaluate_point()``
    -> (loss, acc), and put them back at the end whatever happens."""
    n = len(span)
    with torch.inference_mode():
        loss, acc, seconds = (np.empty(n) for _ in range(3))
        try:
            for k in range(n):
                start = time.perf_counter()
                span.move(k)
                loss[k], acc[k] = evaluate_point()
                seconds[k] = time.perf_counter() - start
                progress(k + 1)
        finally:
            span.restore()
    return PointResults(loss, acc, seconds, method)


def _loop(model, data, span, progress) -> PointResults:
    return _in_place_points(span, progress, lambda: evaluate(model, data, data.batch_size), "loop")


def _first_layer(model, data, span, progress) -> PointResults:
    n_batches = -(-len(data) // data.batch_size)
    loss, acc, seconds = evaluate_split(
        split_first_layer(model), data.batches, len(data), span,
        lambda batches_done: progress(len(span) * batches_done // n_batches),
    )
    return PointResults(loss, acc, seconds, "first_layer")


def _cpp_compiler() -> str | None:
    """The C++ compiler inductor would use on the CPU ($CXX, else g++, clang++ or c++), or None."""
    for name in (os.environ.get("CXX"), "g++", "clang++", "c++"):
        if name and shutil.which(name):
            return name
    return None


def _compiled_sums(model: nn.Module, device: torch.device):
    """(images, labels) -> (summed cross-entropy, hit count) of one batch, compiled.

    One static graph per batch shape (``dynamic=False``): a dynamic graph would take over the
    full batches after the short last one, and a point's bits would depend on its place in
    the chunk. Hitting the recompile limit raises instead of running eagerly unannounced.
    """
    if device.type == "cpu" and _cpp_compiler() is None:
        raise RuntimeError(
            "config key landscape.method: compile needs a C++ compiler on the CPU (torch.compile's inductor "
            "builds its kernels with one) and none was found ($CXX, g++, clang++, c++): install one (e.g. "
            "apt-get install g++) or set landscape.method: loop"
        )

    def sums(images: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        logits = model(images)
        return (nn.functional.cross_entropy(logits, labels, reduction="sum"),
                (logits.argmax(dim=1) == labels).sum())

    torch.use_deterministic_algorithms(True, warn_only=True)  # inductor's flag too (train.seed_everything)
    return torch.compile(sums, dynamic=False)


def _compile_now(sums, data: EvalSet) -> float:
    """Run ``sums`` once on a batch of every shape the points will see (full, short last), so
    compiling happens here, with a message that says what to do when it fails, and the points'
    ``seconds`` hold evaluation only. Returns the seconds compiling took."""
    start = time.perf_counter()
    one_per_shape = {}
    for images, labels in data.batches():
        one_per_shape.setdefault(tuple(images.shape), (images, labels))
    try:
        for images, labels in one_per_shape.values():
            sums(images, labels)
    except Exception as exc:  # noqa: BLE001 - re-raised with its cause and the fix
        raise RuntimeError(
            f"config key landscape.method: compile: torch.compile failed on this machine ({type(exc).__name__}: "
            f"{exc}); fix the compiler set-up or set landscape.method: loop"
        ) from exc
    return time.perf_counter() - start


def _compiled_loop(model, data, span, progress) -> PointResults:
    import torch._dynamo

    sums = _compiled_sums(model, data.device)
    n = len(data)

    def evaluate_point() -> tuple[float, float]:
        loss_sum = torch.zeros((), dtype=torch.float64, device=data.device)
        correct = torch.zeros((), dtype=torch.int64, device=data.device)
        for images, labels in data.batches():
            batch_loss, batch_correct = sums(images, labels)
            loss_sum += batch_loss.double()
            correct += batch_correct
        return float(loss_sum) / n, int(correct) / n

    # A job needs two graphs (full and short last batch); a process that evaluates several
    # models or image counts (tests, notebooks) needs more than dynamo's default of 8 per function.
    limits = {"recompile_limit": 64, "fail_on_recompile_limit_hit": True}
    with torch.inference_mode(), torch._dynamo.config.patch(**limits):
        log.info("compile: compiled the evaluation in %.1f s", _compile_now(sums, data))
        return _in_place_points(span, progress, evaluate_point, "compile")


def _vmap(model, data, span, points_per_pass, progress) -> PointResults:
    from torch.func import functional_call, vmap

    named = list(model.named_parameters())
    if [id(p) for _, p in named] != [id(t) for t in span.tensors]:
        raise ValueError("vmap evaluates points that move exactly the model's parameters, in their order")
    names = [n for n, _ in named]
    buffers = {k: v.detach() for k, v in model.named_buffers()}
    device = data.device
    with torch.inference_mode():
        def forward(weights: dict[str, Tensor], x: Tensor) -> Tensor:
            return functional_call(model, (weights, buffers), (x,))

        batched = vmap(forward, in_dims=(0, None))
        n_points = len(span)
        loss, acc, seconds = (np.empty(n_points) for _ in range(3))
        k_pass = max(1, int(points_per_pass))
        dtype = span.tensors[0].dtype if span.tensors else torch.float32
        for start in range(0, n_points, k_pass):
            t0 = time.perf_counter()
            group = list(range(start, min(start + k_pass, n_points)))
            padded = group + [group[-1]] * (k_pass - len(group))
            # the K points of this pass, built once and used for every batch
            columns = [torch.tensor(span.weights[padded, i], dtype=dtype, device=device) for i in range(len(span.bases))]
            weights = {}
            for slot, n in enumerate(names):
                shape = (k_pass,) + (1,) * span.tensors[slot].dim()
                weights[n] = sum(c.view(shape) * basis[slot] for c, basis in zip(columns, span.bases))
            loss_sum = torch.zeros(k_pass, dtype=torch.float64, device=device)
            correct = torch.zeros(k_pass, dtype=torch.int64, device=device)
            for images, labels in data.batches():
                logits = batched(weights, images)
                for k in range(len(group)):
                    loss_sum[k] += nn.functional.cross_entropy(logits[k], labels, reduction="sum").double()
                correct += (logits.argmax(dim=2) == labels).sum(dim=1)
            n = len(data)
            loss_group = loss_sum.cpu().numpy() / n
            acc_group = correct.cpu().numpy() / n
            elapsed = (time.perf_counter() - t0) / len(group)
            for slot, i in enumerate(group):
                loss[i], acc[i], seconds[i] = loss_group[slot], acc_group[slot], elapsed
            progress(group[-1] + 1)
    return PointResults(loss, acc, seconds, "vmap")


def evaluate_points(
    model: nn.Module,
    data: EvalSet,
    delta: Mapping[str, Tensor],
    eta: Mapping[str, Tensor] | None,
    alphas: Sequence[float] | np.ndarray,
    betas: Sequence[float] | np.ndarray | None,
    method: str = "auto",
    points_per_pass: int = POINTS_PER_PASS,
    log_every: float = 30.0,
) -> PointResults:
    """f(α_k, β_k) = L(θ* + α_k δ + β_k η) and the accuracy for every k, θ* = the model's
    weights; with ``eta`` and ``betas`` None, f(α_k) = L(θ* + α_k δ).

    ``delta`` and ``eta`` map every parameter name of ``model`` to a tensor of its shape
    (any device). Buffers are used as they are; the model is left in its original mode with
    its parameters and buffers bit-identical to before.
    """
    alphas = np.asarray(alphas, dtype=np.float64).ravel()
    if (eta is None) != (betas is None):
        raise ValueError("eta and betas go together: give both or neither")
    if betas is not None:
        betas = np.asarray(betas, dtype=np.float64).ravel()
        if alphas.shape != betas.shape:
            raise ValueError(f"{len(alphas)} alphas but {len(betas)} betas")
    named = dict(model.named_parameters())
    for label, direction in (("delta", delta), ("eta", eta)):
        if direction is not None and set(direction) != set(named):
            missing, extra = sorted(set(named) - set(direction)), sorted(set(direction) - set(named))
            raise ValueError(f"direction {label} does not match the model's parameters (missing {missing}, extra {extra})")
    method = method_for(method, model, data)
    along_eta = None if eta is None else [eta[n] for n in named]
    span = grid_span(list(named.values()), [delta[n] for n in named], along_eta, alphas, betas)
    return evaluate_span(model, data, span, method, points_per_pass, log_every)


def evaluate_span(
    model: nn.Module,
    data: EvalSet,
    span: Span,
    method: str,
    points_per_pass: int = POINTS_PER_PASS,
    log_every: float = 30.0,
) -> PointResults:
    """Loss and accuracy at every point of ``span``, whose tensors are ``model``'s own, by
    ``method`` as ``method_for`` resolved it. The model is left in its original mode with its
    tensors put back to ``span.home``."""
    if method not in METHODS[1:]:
        raise ValueError(f"method {method!r}: expected one of {METHODS[1:]} (method_for resolves 'auto')")
    started = last = time.perf_counter()

    def progress(done: int) -> None:
        nonlocal last
        now = time.perf_counter()
        if now - last >= log_every or done == len(span):
            last = now
            log.info("%s: %d/%d points, %.2f points/s", method, done, len(span), done / max(now - started, 1e-12),
                     extra=PROGRESS)

    was_training = model.training
    model.eval()
    try:
        if len(span) == 0:
            return PointResults(np.empty(0), np.empty(0), np.empty(0), method)
        if method == "loop":
            return _loop(model, data, span, progress)
        if method == "first_layer":
            return _first_layer(model, data, span, progress)
        if method == "compile":
            return _compiled_loop(model, data, span, progress)
        return _vmap(model, data, span, points_per_pass, progress)
    finally:
        model.train(was_training)
