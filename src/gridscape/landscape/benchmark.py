"""Measure the two evaluation strategies on this machine: grid points per second.

    python -m gridscape.landscape.benchmark --images 1000 10000 --points 16 --threads 2

LeNet-5 on random 3x32x32 images (the cost does not depend on the pixel values), directions
filter-normalised as in the workflow. The strategies are timed in interleaved rounds (so a
busy neighbour on a shared machine slows all of them alike); one line per (images, memory
layout, method) with the median and the best round, and the largest relative difference
between the method's losses and the loop's.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from gridscape.data.loader import TensorData
from gridscape.models import LeNet5

from .directions import parameters_of, random_direction
from .evaluate import EvalSet, evaluate_points


def setup(images: int, batch_size: int, channels_last: bool, device: torch.device):
    torch.manual_seed(0)
    model = LeNet5((3, 32, 32), 10).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    rng = np.random.default_rng(0)
    data = TensorData.from_arrays(
        rng.integers(0, 256, (images, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, images),
        [0.5] * 3, [0.25] * 3, device, channels_last,
    )
    weights = parameters_of(model)
    return model, EvalSet.from_tensor_data(data, batch_size), random_direction(weights, 1), random_direction(weights, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--points", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--per-pass", type=int, nargs="+", default=[4, 8, 16], help="vmap: points per forward pass")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--layouts", nargs="+", default=["channels_last", "contiguous"])
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"torch {torch.__version__}, device {device}, {torch.get_num_threads()} threads, eval batch {args.batch_size}, "
          f"{args.points} points per timing, {args.rounds} interleaved rounds")
    alphas = np.linspace(-1, 1, args.points)
    betas = np.linspace(1, -1, args.points)
    methods = [("loop", 1)] + [("vmap", k) for k in args.per_pass]
    for images in args.images:
        for layout in args.layouts:
            model, data, delta, eta = setup(images, args.batch_size, layout == "channels_last", device)
            times: dict[tuple[str, int], list[float]] = {m: [] for m in methods}
            losses = {}
            for method, k in methods:  # warm-up
                evaluate_points(model, data, delta, eta, alphas[:2], betas[:2], method, k)
            for _ in range(args.rounds):
                for method, k in methods:
                    start = time.perf_counter()
                    result = evaluate_points(model, data, delta, eta, alphas, betas, method, k)
                    times[(method, k)].append(time.perf_counter() - start)
                    losses[(method, k)] = result.loss
            reference = losses[("loop", 1)]
            for method, k in methods:
                rates = [args.points / t for t in times[(method, k)]]
                diff = float(np.max(np.abs(losses[(method, k)] - reference) / np.abs(reference)))
                name = "loop" if method == "loop" else f"vmap K={k}"
                print(f"{images:6d} images  {layout:13s}  {name:10s}  median {statistics.median(rates):7.2f}  "
                      f"best {max(rates):7.2f} points/s   max rel diff to loop {diff:.1e}", flush=True)


if __name__ == "__main__":
    main()
