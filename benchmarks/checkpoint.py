"""What a checkpoint costs: its size, the time to write and to read it, against an epoch.

Two jobs of the shipped studies, on random data of their datasets' full size: the default
study's grid pack (nine LeNet-5s fused, SGD with momentum, CIFAR-10's 45,000 training images)
and one VGG_38 of the MLP coursework (Adam with a cosine schedule, CIFAR-100's 47,500). Each
trains a few steps, is sent SIGTERM (as SLURM does before a time limit) and so writes the
largest checkpoint it ever writes, one taken mid-epoch with the epoch's order of images; then
a new checkpointer reads it back. Writes benchmarks/checkpoint.md.

    .venv/bin/python benchmarks/checkpoint.py [--steps 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from gridscape.checkpoint import Checkpointer, CheckpointPlace, StoppedForCheckpoint, fingerprint
from gridscape.config import validate
from gridscape.data.loader import TensorData
from gridscape.device import set_threads
from gridscape.models import build_model, count_parameters
from gridscape.train import seed_everything, train
from gridscape.train_fused import train_fused

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from run import cpu_name  # noqa: E402  (the component benchmark's machine description)


def random_data(n: int, classes: int, seed: int = 0) -> TensorData:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, classes, n)
    return TensorData.from_arrays(images, labels, [0.5] * 3, [0.25] * 3, torch.device("cpu"))


class Timed(Checkpointer):
    """A checkpointer that times its writes and its steps, and sends SIGTERM after ``steps``."""

    def __init__(self, place: CheckpointPlace, steps: int):
        super().__init__(place, fingerprint({"benchmark": True}, []))
        self.steps, self.boundaries, self.save_seconds = steps, 0, None
        self.started = time.perf_counter()
        self.step_seconds = None

    def due(self, epoch_end: bool) -> bool:
        self.boundaries += 1
        if self.boundaries == 1:
            self.started = time.perf_counter()  # from the end of the first step: no warm-up
        if self.boundaries == self.steps + 1:
            self.step_seconds = (time.perf_counter() - self.started) / self.steps
            os.kill(os.getpid(), signal.SIGTERM)
        return super().due(epoch_end)

    def save(self, tensors, state) -> None:
        start = time.perf_counter()
        try:
            super().save(tensors, state)
        finally:
            self.save_seconds = time.perf_counter() - start


def measure(name: str, run, n_batches: int, steps: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="gridscape-checkpoint-"))
    place = CheckpointPlace(folder)
    timed = Timed(place, steps)
    try:
        with timed:
            run(timed)
    except StoppedForCheckpoint:
        pass
    size = timed.path.stat().st_size
    start = time.perf_counter()
    loaded = Checkpointer(place, timed.fingerprint).load()
    load_seconds = time.perf_counter() - start
    assert loaded is not None
    timed.clear()
    epoch = timed.step_seconds * n_batches
    return {
        "job": name, "size_mb": size / 1e6, "save_s": timed.save_seconds, "load_s": load_seconds,
        "step_s": timed.step_seconds, "epoch_s": epoch, "share": timed.save_seconds / epoch,
    }


def lenet_pack(steps: int, images: int | None) -> dict:
    configs = [validate({"study": "b", "optimizer": {"lr": lr, "momentum": m}, "train": {"seed": 42}})
               for lr in (0.1, 0.01, 0.001) for m in (0.2, 0.5, 0.8)]
    n = images or 45_000
    data = random_data(n, 10)
    eval_data = random_data(1000, 10, seed=1)

    def models():
        seed_everything(42)
        return [build_model(configs[0]["model"], (3, 32, 32), 10) for _ in configs]

    def run(checkpointer):
        train_fused(models(), [c["optimizer"] for c in configs], [42] * 9, data, eval_data, configs[0]["train"],
                    progress=False, checkpointer=checkpointer)

    batch = configs[0]["train"]["batch_size"]
    result = measure("default study's grid pack: 9 fused LeNet-5s, SGD, CIFAR-10", run, math.ceil(n / batch), steps)
    result["parameters"] = 9 * count_parameters(models()[0])
    return result


def vgg38(steps: int, images: int | None) -> dict:
    config = validate({
        "study": "b", "dataset": {"name": "cifar100"},
        "model": {"name": "vgg", "num_filters": 32, "num_stages": 3, "blocks_per_stage": 5, "block": "plain"},
        "optimizer": {"name": "adam", "lr": 0.001, "weight_decay": 0.0, "schedule": "cosine", "min_lr": 2e-5},
        "train": {"seed": 0, "batch_size": 100, "epochs": 100, "augmentation": ["crop4", "hflip"]},
    })
    n = images or 47_500
    data = random_data(n, 100)
    eval_data = random_data(1000, 100, seed=1)

    def model():
        seed_everything(0)
        return build_model(config["model"], (3, 32, 32), 100)

    def run(checkpointer):
        train(model(), data, eval_data, config["optimizer"], config["train"], progress=False, checkpointer=checkpointer)

    result = measure("MLP coursework's VGG_38: Adam, cosine, CIFAR-100", run, math.ceil(n / 100), steps)
    result["parameters"] = count_parameters(model())
    return result


def fingerprint_seconds(megabytes: int = 184) -> float:
    """A job's fingerprint at its start: the digest of its inputs, here one file of CIFAR-10's
    prepared size (184 MB)."""
    with tempfile.NamedTemporaryFile(prefix="gridscape-input-") as handle:
        handle.write(np.random.default_rng(0).integers(0, 256, megabytes * 10**6, dtype=np.uint8).tobytes())
        handle.flush()
        start = time.perf_counter()
        fingerprint({"benchmark": True}, [handle.name])
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5, help="training steps timed before the stop")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "checkpoint.md")
    parser.add_argument("--train-images", type=int, help="fewer training images than the datasets' (tests)")
    args = parser.parse_args()
    set_threads(args.threads)
    rows = [lenet_pack(args.steps, args.train_images), vgg38(args.steps, args.train_images)]
    start_cost = fingerprint_seconds()
    lines = [
        "# What a checkpoint costs",
        "",
        f"`.venv/bin/python benchmarks/checkpoint.py --steps {args.steps} --threads {args.threads}"
        f"{f' --train-images {args.train_images}' if args.train_images else ''}` on "
        f"{cpu_name()} ({os.cpu_count()} CPUs), torch {torch.__version__}, "
        f"{time.strftime('%Y-%m-%d')}. Each job's largest checkpoint (mid-epoch, with the epoch's order "
        "of images), written on SIGTERM after a few steps; the epoch is estimated from those steps.",
        "",
        "| job | parameters | checkpoint | write | read | one step | one epoch (est.) | a write per epoch costs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['job']} | {r['parameters']:,} | {r['size_mb']:.1f} MB | {r['save_s'] * 1000:.0f} ms | "
            f"{r['load_s'] * 1000:.0f} ms | {r['step_s'] * 1000:.0f} ms | {r['epoch_s']:.0f} s | {100 * r['share']:.3f} % |"
        )
    lines += [
        "",
        "A checkpoint at the end of every epoch (`checkpoint.every_minutes: 0`, the default) thus "
        "costs the last column of the training time; on a GPU the epoch is shorter and the write "
        "about the same, so `every_minutes` can space them out.",
        "",
        f"At its start a job also computes its fingerprint (the digests of its input files and of "
        f"gridscape's code): {start_cost:.2f} s for a CIFAR-10-sized prepared dataset (184 MB).",
        "",
    ]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
