"""gridscape against the notebook way, on one machine, same random CIFAR-shaped data.

    .venv/bin/python benchmarks/run.py            # or: make benchmark
    .venv/bin/python benchmarks/run.py --quick    # smaller data, one repeat: a smoke run

Times side by side (medians of --repeats runs, with their spread) and writes
benchmarks/results.md:
  1. one LeNet-5 epoch and its validation pass (as the handout's notebook loop does): a Dataset
     of PIL images with ToTensor + Normalize through a DataLoader (batch 64; validation batch
     1000), training the handout's LeNet-5, against gridscape's in-memory training path;
  2. a 3x3 learning-rate x momentum grid: nine notebook trainings one after another against
     gridscape's fused pack;
  3. loss-landscape points, per point: the reference way (load_state_dict per point, then a
     DataLoader pass with batch 1000) over --points points against what a landscape chunk job
     runs once its files are loaded (``gridscape.landscape.steps.evaluate_grid_points`` with the
     default config, on the channels-last model ``load_model`` gives) over a default chunk's
     --job-points points (``method: first_layer`` shares each batch's first layer among them),
     and the loop and the compiled loop (``method: compile``) with its one-off compile time;
  4. the peak resident memory of a CIFAR-10 training job, in its own process;
and the fraction of the machine's float32 matrix-multiply rate that training reaches.
The ways alternate within each repeat, so a busy neighbour slows both alike.
"""

from __future__ import annotations

import argparse
import copy
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader, Dataset

from gridscape.config import validate
from gridscape.kinds.search import grid_cells
from gridscape.data.loader import TensorData
from gridscape.landscape.directions import parameters_of, random_direction
from gridscape.landscape.steps import evaluate_grid_points
from gridscape.models import build_model
from gridscape.models.lenet import in_course_order
from gridscape.train import seed_everything, train
from gridscape.train_fused import train_fused

ROOT = Path(__file__).resolve().parents[1]
STUDY_START, STUDY_END = "<!-- benchmark-study: start -->", "<!-- benchmark-study: end -->"  # study.py's section
# where every way runs (--device); the notebook and reference ways move each batch there
DEVICE = torch.device("cpu")


def elapsed(start: float) -> float:
    """Seconds since ``start``, once the device has finished what was queued."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize(DEVICE)
    return time.perf_counter() - start

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)
TRAIN_FLOP_PER_IMAGE = 3.2e6  # LeNet-5 forward 0.65 M multiply-adds; training about 2.5x that
GRID = [(lr, m) for lr in (0.1, 0.01, 0.001) for m in (0.2, 0.5, 0.8)]


class PILDataset(Dataset):
    """What a notebook reads: torchvision's CIFAR10 dataset, in effect. Like
    ``torchvision.datasets.CIFAR10`` it holds the images as one (N, H, W, C) uint8 array and
    makes each item a PIL image (``Image.fromarray``) before ``ToTensor`` and ``Normalize``."""

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        from torchvision import transforms

        self.data = np.ascontiguousarray(images.transpose(0, 2, 3, 1))
        self.targets = labels.tolist()
        self.transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)])

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i):
        from PIL import Image

        return self.transform(Image.fromarray(self.data[i])), self.targets[i]


def lenet() -> nn.Module:
    """gridscape's LeNet-5: with ReLU it max-pools before the activation (same numbers, faster;
    ``gridscape.models.lenet.POOL_FIRST``)."""
    return build_model({"name": "lenet5", "activation": "relu"}, (3, 32, 32), 10)


def handout_lenet() -> nn.Module:
    """LeNet-5 as the handout writes it: ReLU before each of PyTorch's own max-pools."""
    return in_course_order(lenet())


def notebook_epochs(dataset: Dataset, eval_set: Dataset, lr: float, momentum: float, epochs: int, seed: int = 42,
                    make_model=handout_lenet) -> float:
    """The handout notebook's loop: train an epoch, then validate (test batch size 1000)."""
    torch.manual_seed(seed)
    model = make_model().to(DEVICE)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loader = DataLoader(dataset, batch_size=64, shuffle=True, num_workers=0)
    eval_loader = DataLoader(eval_set, batch_size=1000, shuffle=False, num_workers=0)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for x, y in loader:
            x, y = x.to(DEVICE), y.to(DEVICE)
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            for x, y in eval_loader:
                x, y = x.to(DEVICE), y.to(DEVICE)
                nn.functional.cross_entropy(model(x), y, reduction="sum").item()
    return elapsed(start)


def study_config(epochs: int) -> dict:
    return validate({"study": "bench", "device": "cpu", "train": {"epochs": epochs, "batch_size": 64}})


def gridscape_epochs(train_data: TensorData, eval_data: TensorData, epochs: int) -> float:
    config = study_config(epochs)
    seed_everything(42)
    model = lenet().to(DEVICE)
    start = time.perf_counter()
    train(model, train_data, eval_data, config["optimizer"], config["train"], progress=False)
    return elapsed(start)


def gridscape_grid(train_data: TensorData, eval_data: TensorData, epochs: int) -> float:
    config = study_config(epochs)
    models = []
    for _ in GRID:
        seed_everything(42)
        models.append(lenet())
    optimizers = [{**config["optimizer"], "lr": lr, "momentum": m} for lr, m in GRID]
    start = time.perf_counter()
    train_fused(models, optimizers, [42] * len(GRID), train_data, eval_data, config["train"], progress=False)
    return elapsed(start)


def reference_landscape(model: nn.Module, dataset: Dataset, delta, eta, coords) -> float:
    """The reference code's way: for each point, load_state_dict, then a DataLoader pass."""
    theta = {k: v.clone() for k, v in model.state_dict().items()}
    loader = DataLoader(dataset, batch_size=1000, shuffle=False, num_workers=0)
    start = time.perf_counter()
    model.eval()
    for a, b in coords:
        state = dict(theta)
        for name in delta:
            state[name] = theta[name] + a * delta[name] + b * eta[name]
        model.load_state_dict(state)
        total = 0.0
        with torch.no_grad():
            for x, y in loader:
                x, y = x.to(DEVICE), y.to(DEVICE)
                total += nn.functional.cross_entropy(model(x), y, reduction="sum").item()
    model.load_state_dict(theta)
    return elapsed(start)


def gridscape_landscape(model: nn.Module, data: TensorData, delta, eta, coords, method: str = "auto") -> tuple[float, str]:
    """A chunk job's evaluation as the workflow runs it (normalising the images included),
    with the default landscape config; ``model`` is laid out as ``load_model`` gives it."""
    landscape = dict(study_config(1)["landscape"], method=method)
    start = time.perf_counter()
    result = evaluate_grid_points(model, data, delta, eta, [a for a, _ in coords], [b for _, b in coords], landscape)
    return elapsed(start), result.method


def pack_job_peak_memory(train_images: int, test_images: int) -> tuple[float, str]:
    """Peak resident memory (MB) of the default study's first training job (``train_pack``: its
    nine lr x momentum cells fused, one epoch) on random data of CIFAR-10's shape, run in a
    fresh process as the workflow runs it: the prepared .npz and the split read from disk, the
    split's train part ``train_images`` (45,000 for CIFAR-10, plus 5,000 validation images).
    Returns the MB and what the job trained."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, __file__, "--pack-job", tmp, "--train-images", str(train_images),
                   "--eval-images", str(test_images)]
        done = subprocess.run(command, check=True, capture_output=True, text=True)
    what, peak = done.stdout.strip().splitlines()[-1].rsplit(" ", 1)
    return float(peak), what


def run_pack_job(workdir: Path, train_images: int, test_images: int) -> None:
    """The job ``pack_job_peak_memory`` measures; prints what it trained and its peak RSS in MB."""
    import yaml

    from gridscape.data.split import stratified_split
    from gridscape.io import write_csv, write_npz
    from gridscape.search.packs import plan_packs
    from gridscape.search.steps import run_pack

    raw = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    raw["train"]["epochs"] = 1
    config = validate(raw)
    total = round(train_images / (1 - config["split"]["val_fraction"]))
    rng = np.random.default_rng(0)
    train_labels = rng.integers(0, 10, total)
    write_npz(
        workdir / "cifar10.npz",
        train_images=rng.integers(0, 256, (total, 3, 32, 32), dtype=np.uint8),
        train_labels=train_labels,
        test_images=rng.integers(0, 256, (test_images, 3, 32, 32), dtype=np.uint8),
        test_labels=rng.integers(0, 10, test_images),
        classes=np.array([f"class{i}" for i in range(10)]),
        mean=np.array(MEAN, dtype=np.float32),
        std=np.array(STD, dtype=np.float32),
    )
    write_csv(workdir / "split.csv", stratified_split(train_labels, config["split"]["val_fraction"], config["split"]["seed"]))
    pack = plan_packs(config, grid_cells(config), config["search"]["fuse"])[0]
    run_pack(config, pack, str(workdir / "cifar10.npz"), str(workdir / "split.csv"), str(workdir / "pack"))
    # VmHWM, not ru_maxrss: Linux carries the parent's ru_maxrss over fork and exec
    status = Path("/proc/self/status").read_text()
    peak = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024
    print(f"{len(pack.models)} fused LeNet-5s, 1 epoch on {train_images} images, read from a prepared .npz of "
          f"{total + test_images} uint8 images {peak:.0f}")


def cpu_name() -> str:
    """The CPU's model name (Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({platform.machine()})"
    except OSError:
        pass
    return platform.processor() or platform.machine()


def matmul_gflops(size: int = 2048, repeats: int = 5) -> float:
    a, b = torch.randn(size, size, device=DEVICE), torch.randn(size, size, device=DEVICE)
    a @ b
    elapsed(time.perf_counter())  # waits for the warm-up product
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(elapsed(start))
    return 2 * size**3 / min(times) / 1e9


def summary(times: list[float]) -> str:
    return f"{statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f})"


def point_summary(times: list[float]) -> str:
    return f"{statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-images", type=int, default=45000)
    parser.add_argument("--eval-images", type=int, default=10000)
    parser.add_argument("--grid-epochs", type=int, default=2)
    parser.add_argument("--points", type=int, default=25, help="landscape points of the reference way")
    parser.add_argument("--job-points", type=int, default=125,
                        help="landscape points of gridscape's ways: a chunk job's (the default 625 points in 5 chunks)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="4,500 / 1,000 images, 1 repeat")
    parser.add_argument("--skip-grid", action="store_true",
                        help="leave out the 3x3 grid (its nine notebook trainings are most of the run time)")
    parser.add_argument("--skip-memory", action="store_true",
                        help="leave out the peak memory of a CIFAR-10 training job (about a minute)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="where every way trains and evaluates (cuda: also times the landscape's eager loop)")
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("results.md"))
    parser.add_argument("--pack-job", type=Path, help=argparse.SUPPRESS)  # the process pack_job_peak_memory starts
    args = parser.parse_args()
    if args.pack_job:
        run_pack_job(args.pack_job, args.train_images, args.eval_images)
        return
    if args.quick:
        args.train_images, args.eval_images, args.repeats, args.grid_epochs, args.points, args.job_points = 4500, 1000, 1, 1, 9, 25
    global DEVICE
    DEVICE = torch.device(args.device)
    if DEVICE.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no GPU here; run with --device cpu")
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    train_images = rng.integers(0, 256, (args.train_images, 3, 32, 32), dtype=np.uint8)
    train_labels = rng.integers(0, 10, args.train_images)
    eval_images = rng.integers(0, 256, (args.eval_images, 3, 32, 32), dtype=np.uint8)
    eval_labels = rng.integers(0, 10, args.eval_images)
    train_data = TensorData.from_arrays(train_images, train_labels, MEAN, STD, DEVICE)
    eval_data = TensorData.from_arrays(eval_images, eval_labels, MEAN, STD, DEVICE)
    notebook_train = PILDataset(train_images, train_labels)
    notebook_eval = PILDataset(eval_images, eval_labels)
    seed_everything(0)  # as every job does: deterministic kernels, no TF32 on a GPU
    landscape_model = lenet()
    weights = parameters_of(landscape_model)
    delta, eta = random_direction(weights, 1), random_direction(weights, 2)
    landscape_model = landscape_model.to(DEVICE)
    delta_on_device, eta_on_device = ({k: v.to(DEVICE) for k, v in d.items()} for d in (delta, eta))
    side = int(round(args.points**0.5))
    axis = np.linspace(-1, 1, side)
    coords = [(float(a), float(b)) for b in axis for a in axis]
    job_side = int(round(args.job_points**0.5))
    job_axis = np.linspace(-1, 1, job_side)
    job_coords = [(float(a), float(b)) for b in job_axis for a in job_axis]
    # the landscape jobs' model: the same weights, channels-last as load_model lays them out
    # when train.channels_last is true (the default)
    job_model = copy.deepcopy(landscape_model)
    if study_config(1)["train"]["channels_last"]:
        job_model = job_model.to(memory_format=torch.channels_last)
    # the first compiled call of a process pays for compiling (once per job in the workflow);
    # timed here, then the repeats time the compiled points alone
    compile_first, _ = gridscape_landscape(job_model, eval_data, delta, eta, job_coords, "compile")

    handout_model = in_course_order(landscape_model)

    results: dict[str, list[float]] = {k: [] for k in (
        "epoch_notebook", "epoch_notebook_pool_first", "epoch_gridscape", "grid_notebook", "grid_gridscape",
        "land_reference", "land_reference_pool_first", "land_gridscape", "land_loop", "land_compiled")}
    auto_method = ""
    for repeat in range(args.repeats):
        results["epoch_notebook"].append(notebook_epochs(notebook_train, notebook_eval, 0.01, 0.5, 1))
        results["epoch_notebook_pool_first"].append(
            notebook_epochs(notebook_train, notebook_eval, 0.01, 0.5, 1, make_model=lenet))
        results["epoch_gridscape"].append(gridscape_epochs(train_data, eval_data, 1))
        if not args.skip_grid:
            results["grid_notebook"].append(sum(notebook_epochs(notebook_train, notebook_eval, lr, m, args.grid_epochs) for lr, m in GRID))
            results["grid_gridscape"].append(gridscape_grid(train_data, eval_data, args.grid_epochs))
        for key, model in (("land_reference", handout_model), ("land_reference_pool_first", landscape_model)):
            results[key].append(reference_landscape(model, notebook_eval, delta_on_device, eta_on_device, coords))
        seconds, auto_method = gridscape_landscape(job_model, eval_data, delta, eta, job_coords)
        results["land_gridscape"].append(seconds)
        if auto_method != "loop":
            results["land_loop"].append(gridscape_landscape(job_model, eval_data, delta, eta, job_coords, "loop")[0])
        results["land_compiled"].append(gridscape_landscape(job_model, eval_data, delta, eta, job_coords, "compile")[0])
        print(f"repeat {repeat + 1}/{args.repeats}: " + ", ".join(f"{k} {v[-1]:.1f}s" for k, v in results.items() if v), flush=True)
    gflops = matmul_gflops()
    memory_line = "Peak resident memory of a CIFAR-10 training job: not measured (--skip-memory)."
    if not args.skip_memory:
        peak_mb, trained = pack_job_peak_memory(args.train_images, args.eval_images)
        memory_line = (
            f"Peak resident memory of a CIFAR-10 training job (the default study's first `train_pack` job in its own "
            f"process: {trained}): {peak_mb:.0f} MB "
            "(target: under 1,500 MB)."
        )
    # landscape times per point: the reference over its points, gridscape's ways over a job's
    for key, count in (("land_reference", len(coords)), ("land_reference_pool_first", len(coords)),
                       ("land_gridscape", len(job_coords)), ("land_loop", len(job_coords)), ("land_compiled", len(job_coords))):
        results[key] = [seconds / count for seconds in results[key]]
    med = {k: statistics.median(v) for k, v in results.items() if v}
    # both epoch times include the validation pass, so the training rate is a lower bound
    train_rate = args.train_images / med["epoch_gridscape"]
    lines = [
        "# Benchmark: gridscape against the notebook way",
        "",
        f"Command: `{' '.join(['python', *sys.argv])}`, {time.strftime('%Y-%m-%d %H:%M')}.",
        f"Machine: {cpu_name()}, {torch.get_num_threads()} torch threads, "
        f"Python {platform.python_version()}, torch {torch.__version__}, torchvision {torchvision.__version__}, "
        + (f"every way on {torch.cuda.get_device_name(DEVICE)} (notebook data loading on the CPU)."
           if DEVICE.type == "cuda" else "CPU only."),
        f"Data: random uint8 images 3x32x32, 10 classes, {args.train_images} training and {args.eval_images} "
        f"evaluation images. Medians of {args.repeats} repeats (min, max); the ways alternate within a repeat.",
        "",
        "| what | notebook / reference way | gridscape | speed-up |",
        "|---|---|---|---|",
        f"| one LeNet-5 epoch (batch 64) and its validation pass | {summary(results['epoch_notebook'])} | "
        f"{summary(results['epoch_gridscape'])} | {med['epoch_notebook'] / med['epoch_gridscape']:.2f}x |",
        ("| 3x3 lr x momentum grid | not run (--skip-grid) | | |" if args.skip_grid else
         f"| 3x3 lr x momentum grid, {args.grid_epochs} epochs per cell | {summary(results['grid_notebook'])} | "
         f"{summary(results['grid_gridscape'])} | {med['grid_notebook'] / med['grid_gridscape']:.2f}x |"),
        f"| a landscape point on {args.eval_images} images, per point (`method: auto` chose {auto_method}) | "
        f"{point_summary(results['land_reference'])} | "
        f"{point_summary(results['land_gridscape'])} | {med['land_reference'] / med['land_gridscape']:.2f}x |",
        f"| the same, `method: compile`, compiling excluded (see below) | {point_summary(results['land_reference'])} | "
        f"{point_summary(results['land_compiled'])} | {med['land_reference'] / med['land_compiled']:.2f}x |",
        *([f"| the same, `method: loop` | {point_summary(results['land_reference'])} | "
           f"{point_summary(results['land_loop'])} | {med['land_reference'] / med['land_loop']:.2f}x |"]
          if results["land_loop"] else []),
        "",
        f"Landscape: the reference way over {len(coords)} points, gridscape's ways over a chunk job's {len(job_coords)} "
        f"(a point's time does not depend on the others for the reference and the loops; `first_layer` shares each "
        f"batch's first layer among the job's points). The first compiled call of the process took {compile_first:.1f} s "
        f"for the {len(job_coords)} points, so compiling cost about {compile_first - med['land_compiled'] * len(job_coords):.1f} s "
        "once (a workflow job pays this once; inductor's on-disk cache makes later jobs' compiles shorter).",
        "Where the speed-up comes from: the notebook and reference ways run LeNet-5 as the handout writes it (ReLU "
        "before each of PyTorch's max-pools); gridscape's pools first and, where no gradient is wanted, pools without "
        "recording indices, which gives the same numbers (tests/test_models.py). With "
        f"gridscape's model the notebook epoch takes {summary(results['epoch_notebook_pool_first'])} "
        f"({med['epoch_notebook'] / med['epoch_notebook_pool_first']:.2f}x from the model, "
        f"{med['epoch_notebook_pool_first'] / med['epoch_gridscape']:.2f}x from the data path and loop) and the "
        f"reference landscape point {point_summary(results['land_reference_pool_first'])} "
        f"({med['land_reference'] / med['land_reference_pool_first']:.2f}x from the model, "
        f"{med['land_reference_pool_first'] / med['land_gridscape']:.2f}x from gridscape's evaluation).",
        f"Matrix multiply (float32, 2048x2048): {gflops:.0f} GFLOP/s. gridscape's training step runs "
        f"{train_rate:,.0f} images/s = {train_rate * TRAIN_FLOP_PER_IMAGE / 1e9:.1f} GFLOP/s, "
        f"{train_rate * TRAIN_FLOP_PER_IMAGE / 1e9 / gflops:.0%} of that rate"
        + ("." if args.skip_grid else f" (fused grid: "
           f"{args.train_images * args.grid_epochs * len(GRID) / med['grid_gridscape'] * TRAIN_FLOP_PER_IMAGE / 1e9 / gflops:.0%})."),
        memory_line,
        f"Peak resident memory of this benchmark process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
        "(it holds the data twice: as tensors and as the notebook's arrays).",
        "",
    ]
    # the whole-study section (benchmarks/study.py) and the notes after it stay as written
    kept = ""
    if args.output.is_file() and STUDY_START in (old := args.output.read_text()):
        kept = "\n" + STUDY_START + old.split(STUDY_START, 1)[1]
    args.output.write_text("\n".join(lines) + kept)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
