"""The whole study through Snakemake, timed: ``make benchmark-study``.

Writes generated archives of the study's dataset at full size (the tests' generator,
``tests/fakedata.py``, in the official formats), runs the study on them through Snakemake as
a user does (``--cores``, ``--resources gpu=1`` with ``--device cuda``), and writes into
``benchmarks/results.md`` (``results-gpu.md`` on a GPU), between its markers:

* the wall time, per rule and per stage (rule file), from Snakemake's log and the jobs' own
  logs: each job logs its start-up (Python, Snakemake's script preamble, imports) and its peak
  resident memory (``gridscape.logs``);
* Snakemake's own share: the time before the first job and between jobs;
* the arithmetic floor: the study's floating-point operations (forward passes counted layer
  by layer, training as three forward passes) divided by this machine's float32
  matrix-multiply rate, both measured in this run;
* the notebook way for the same study, from the notebook's per-image costs measured here
  as ``benchmarks/run.py`` measures them (its epoch and its landscape point);
* how training and the landscape scale with torch's threads on this machine's cores.

``--quick`` runs a small version (a tenth of the images, 2 epochs, a 5x5 landscape) in a few
minutes; ``--images-per-class``, ``--set KEY=VALUE`` (YAML values, dotted keys) size any run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks")]

from fakedata import make_cifar10_archive, make_cifar100_archive, make_mnist_files  # noqa: E402

from gridscape.logs import PEAK_MEMORY_PREFIX, STARTUP_PREFIX  # noqa: E402

import run  # noqa: E402 - the component benchmark: its measures of the notebook way and the machine
from run import STUDY_END as END, STUDY_START as START  # noqa: E402 - the markers results.md keeps
# images per class of the official releases: (train, test); CIFAR-10's train is 5 batches
FULL_SIZE = {"cifar10": (5000, 1000), "cifar100": (500, 100), "mnist": (6000, 1000), "fashion_mnist": (6000, 1000)}
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")
SNAKEMAKE_TIME = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")


# --------------------------------------------------------------------------- the run


def write_archives(dataset: str, mirror: Path, per_class: tuple[int, int]) -> dict[str, str]:
    """The dataset's official files (one of ``FULL_SIZE``), generated, in ``mirror``; returns {file name: md5}."""
    train, test = per_class
    if dataset == "cifar10":
        path, md5, _ = make_cifar10_archive(mirror, images_per_class_per_batch=max(1, train // 5), test_images_per_class=test)
        return {path.name: md5}
    if dataset == "cifar100":
        path, md5, _ = make_cifar100_archive(mirror, train_images_per_class=train, test_images_per_class=test)
        return {path.name: md5}
    return make_mnist_files(mirror, train_images_per_class=train, test_images_per_class=test)[1]  # an MNIST format


def set_dotted(config: dict, assignment: str) -> None:
    key, _, value = assignment.partition("=")
    if not value:
        raise SystemExit(f"--set {assignment!r}: expected KEY=VALUE, e.g. train.epochs=2")
    *path, last = key.split(".")
    node = config
    for part in path:
        node = node.setdefault(part, {})
    node[last] = yaml.safe_load(value)


def study_config(args, workdir: Path) -> dict:
    config = yaml.safe_load(Path(args.config).read_text())
    for assignment in args.set:
        set_dotted(config, assignment)
    dataset = config["dataset"]["name"]
    full = FULL_SIZE.get(dataset)
    if full is None:
        raise SystemExit(f"benchmarks/study.py: no generated archive for dataset.name {dataset!r}; expected one of {sorted(FULL_SIZE)}")
    per_class = tuple(args.images_per_class or full) if not args.quick else tuple(max(1, n // 10) for n in full)
    mirror = workdir / "mirror"
    checksums = write_archives(dataset, mirror, per_class)
    config["dataset"] = {**config["dataset"], "mirror": mirror.resolve().as_uri() + "/", "checksums": checksums,
                         "root": "resources/datasets"}
    config["device"] = args.device
    return config


def run_study(args, workdir: Path, config: dict) -> float:
    (workdir / "config").mkdir(parents=True, exist_ok=True)
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "workflow" / "Snakefile"),
               "--directory", str(workdir), "--cores", str(args.cores), "--forceall"]
    if args.device == "cuda":
        command += ["--resources", "gpu=1"]
    print("benchmark-study:", " ".join(command), flush=True)
    start = time.perf_counter()
    subprocess.run(command, check=True, env={**os.environ, "MPLBACKEND": "Agg"})
    return time.perf_counter() - start


# --------------------------------------------------------------------------- what the run shows


@dataclass
class Job:
    rule: str
    start: float  # seconds since the Snakemake run began (1 s resolution, Snakemake's log)
    end: float
    log: str | None
    startup: float | None = None  # from the job's own log
    peak_mb: float | None = None
    measured: float | None = None  # the process's lifetime, from its own log (to the millisecond)

    @property
    def seconds(self) -> float:
        return self.measured if self.measured is not None else self.end - self.start


def parse_snakemake_log(path: Path) -> tuple[list[Job], float]:
    """Every job of a Snakemake log with its rule, start, end and log file; and the time of
    the log's first line (``Date:``) to the last timestamp."""
    text = path.read_text().splitlines()
    began = None
    stamp = None
    started: dict[str, dict] = {}
    jobs: list[Job] = []
    last = 0.0
    current: dict | None = None
    for line in text:
        if began is None and line.strip().startswith("Date:"):
            began = datetime.datetime.strptime(line.split("Date:", 1)[1].strip(), "%Y-%m-%d %H:%M:%S").timestamp()
        match = SNAKEMAKE_TIME.match(line.strip())
        if match:
            stamp = datetime.datetime.strptime(match.group(1), "%a %b %d %H:%M:%S %Y").timestamp() - (began or 0.0)
            last = max(last, stamp)
            continue
        rule = re.match(r"^(?:local)?rule (\w+):$", line.strip())
        if rule:
            current = {"rule": rule.group(1), "start": stamp, "log": None}
            continue
        if current is not None and line.strip().startswith("log: "):
            current["log"] = line.strip()[5:].split(", ")[0]
        if current is not None and line.strip().startswith("jobid: "):
            started[line.strip()[7:]] = current
            current = None
        finished = re.match(r"^Finished jobid: (\d+)", line.strip())
        if finished and finished.group(1) in started:
            job = started.pop(finished.group(1))
            jobs.append(Job(job["rule"], job["start"], stamp, job["log"]))
    return jobs, last


def read_job_log(job: Job, workdir: Path) -> None:
    """The job's start-up and peak memory from its own log; and, where both lines are there,
    its duration to the millisecond: start-up, then from that line to the one logged at exit."""
    if not job.log or not (workdir / job.log).is_file():
        return
    began = ended = None
    for line in (workdir / job.log).read_text(errors="replace").splitlines():
        stamp = LOG_TIME.match(line)
        if STARTUP_PREFIX in line:
            job.startup = float(line.split(STARTUP_PREFIX, 1)[1].split()[0])
            began = stamp and datetime.datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S,%f")
        elif PEAK_MEMORY_PREFIX in line:
            job.peak_mb = float(line.split(PEAK_MEMORY_PREFIX, 1)[1].split()[0])
            ended = stamp and datetime.datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S,%f")
    if began and ended and job.startup is not None:
        job.measured = job.startup + (ended - began).total_seconds()


def rule_files() -> dict[str, str]:
    """Each rule's stage: the rule file (workflow/rules/*.smk) that defines it."""
    stages = {}
    for path in [ROOT / "workflow" / "Snakefile", *sorted((ROOT / "workflow" / "rules").rglob("*.smk"))]:
        for name in re.findall(r"^\s*(?:local)?rule (\w+):", path.read_text(), flags=re.MULTILINE):
            stages.setdefault(name, path.stem)
    return stages


def busy_seconds(jobs: list[Job]) -> float:
    """Seconds during which at least one job ran (the union of the jobs' intervals)."""
    total, reach = 0.0, -math.inf
    for job in sorted(jobs, key=lambda j: j.start):
        if job.end > reach:
            total += job.end - max(job.start, reach)
            reach = job.end
    return total


def summarise(workdir: Path, log_path: Path | None = None) -> dict:
    """The run's jobs, per rule and per stage, from the newest Snakemake log in ``workdir``."""
    logs = sorted((workdir / ".snakemake" / "log").glob("*.snakemake.log"))
    jobs, last = parse_snakemake_log(log_path or logs[-1])
    jobs = [j for j in jobs if j.rule != "all"]
    for job in jobs:
        read_job_log(job, workdir)
    stages = rule_files()
    rows = []
    for rule in sorted({j.rule for j in jobs}):
        mine = [j for j in jobs if j.rule == rule]
        startups = [j.startup for j in mine if j.startup is not None]
        peaks = [j.peak_mb for j in mine if j.peak_mb is not None]
        rows.append({"rule": rule, "stage": stages.get(rule, "?"), "jobs": len(mine),
                     "seconds": sum(j.seconds for j in mine), "startup": sum(startups) if startups else math.nan,
                     "peak_mb": max(peaks) if peaks else math.nan})
    table = pd.DataFrame(rows).sort_values("seconds", ascending=False, ignore_index=True)
    stage_rows = []
    for stage in table["stage"].unique():
        mine = [j for j in jobs if stages.get(j.rule, "?") == stage]
        stage_rows.append({"stage": stage, "jobs": len(mine), "seconds": sum(j.seconds for j in mine),
                           "span": max(j.end for j in mine) - min(j.start for j in mine)})
    stage_table = pd.DataFrame(stage_rows).sort_values("seconds", ascending=False, ignore_index=True)
    first_start = min(j.start for j in jobs)
    return {"jobs": jobs, "rules": table, "stages": stage_table, "wall_log": last, "before_first_job": first_start,
            "idle_between_jobs": last - first_start - busy_seconds(jobs)}


# --------------------------------------------------------------------------- measurements beside the run


def forward_flops(config: dict) -> int:
    """Floating-point operations of one image's forward pass: every convolution and linear
    layer's multiply-adds, twice (activations, pooling and losses are a few percent more)."""
    import torch

    from gridscape.data import DATASETS
    from gridscape.models import build_model

    spec = DATASETS[config["dataset"]["name"]]
    model = build_model(config["model"], spec.in_shape, spec.num_classes).eval()
    total = 0

    def count(module, inputs, output):
        nonlocal total
        weight = module.weight
        per_output = weight[0].numel() if isinstance(module, torch.nn.Conv2d) else weight.shape[1]
        total += 2 * per_output * output[0].numel()

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        model(torch.zeros(1, *spec.in_shape))
    for hook in hooks:
        hook.remove()
    return total


def study_images(workdir: Path, config: dict) -> dict[str, int]:
    study = workdir / "results" / config["study"]
    split = pd.read_csv(study / "data" / "split.csv")
    counts = split["subset"].value_counts()
    landscape = json.loads((study / "landscape" / "reference.json").read_text())["data"]["n_images"]
    from gridscape.config import validate

    train_on = validate(config)["final"]["train_on"]
    final = int(counts.get("train", 0) + (counts.get("val", 0) if train_on == "train+val" else 0))
    return {"train": int(counts.get("train", 0)), "val": int(counts.get("val", 0)), "final": final, "landscape": int(landscape)}


def study_passes(workdir: Path, config: dict, images: dict[str, int]) -> dict[str, dict[str, float]]:
    """Images through the network per stage: training (forward and backward) and evaluation
    (forward only), from the config as resolved and the result files."""
    from gridscape.config import validate

    resolved = validate(config)
    study = workdir / "results" / config["study"]
    grid = pd.read_csv(study / "search" / "grid.csv")
    epochs = int(resolved["train"]["epochs"])
    final_epochs = int(json.loads((study / "final" / "config.json").read_text())["config"]["train"]["epochs"])
    landscape = resolved["landscape"]
    points = int(landscape["alpha"]["num"]) * int(landscape["beta"]["num"])
    line_points = int(landscape["line_points"])
    return {
        "grid search": {"train": len(grid) * epochs * images["train"], "eval": len(grid) * epochs * images["val"]},
        "retraining": {"train": final_epochs * images["final"], "eval": 0},
        "landscape grid": {"train": 0, "eval": points * images["landscape"]},
        "1-D slice and interpolation": {"train": 0, "eval": 2 * line_points * images["landscape"]},
    }


def matmul_gflops(device: str) -> float:
    """The component benchmark's own measure, on ``device``."""
    import torch

    run.DEVICE = torch.device(device)
    return run.matmul_gflops()


def notebook_costs(device: str, train_images: int, eval_images: int) -> dict[str, float]:
    """The notebook way's seconds per training image (with its share of nothing else) and per
    evaluated image, measured as benchmarks/run.py measures the notebook epoch and the
    reference landscape point, on random CIFAR-shaped images."""
    import torch

    run.DEVICE = torch.device(device)
    rng = np.random.default_rng(0)
    train = run.PILDataset(rng.integers(0, 256, (train_images, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, train_images))
    evaluation = run.PILDataset(rng.integers(0, 256, (eval_images, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, eval_images))
    model = run.handout_lenet().to(run.DEVICE)
    from gridscape.landscape.directions import parameters_of, random_direction

    weights = parameters_of(model)
    delta = {k: v.to(run.DEVICE) for k, v in random_direction(weights, 1, "filter", "biasbn").items()}
    eta = {k: v.to(run.DEVICE) for k, v in random_direction(weights, 2, "filter", "biasbn").items()}
    coords = [(0.1, 0.2), (-0.3, 0.4)]
    point = run.reference_landscape(model, evaluation, delta, eta, coords) / len(coords)
    epoch = run.notebook_epochs(train, evaluation, 0.01, 0.5, 1)
    per_eval = point / eval_images
    return {"train_image": (epoch - per_eval * eval_images) / train_images, "eval_image": per_eval,
            "epoch_seconds": epoch, "point_seconds": point}


def thread_scaling(device: str) -> dict[str, dict[int, float]]:
    """Images per second of a LeNet-5 training epoch and of landscape evaluation with 1 and
    with all of torch's threads."""
    import torch

    from gridscape.data.loader import TensorData
    from gridscape.landscape.directions import parameters_of, random_direction
    from gridscape.landscape.evaluate import EvalSet, evaluate_points

    most = torch.get_num_threads()
    rng = np.random.default_rng(0)
    data = TensorData.from_arrays(rng.integers(0, 256, (4000, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, 4000),
                                  [0.5] * 3, [0.25] * 3, torch.device(device))
    model = run.lenet().to(device).to(memory_format=torch.channels_last)
    weights = parameters_of(model)
    delta, eta = (random_direction(weights, s, "filter", "biasbn") for s in (1, 2))
    out: dict[str, dict[int, float]] = {"training": {}, "landscape": {}}
    for threads in sorted({1, most}):
        torch.set_num_threads(threads)
        run.gridscape_epochs(data, data, 1)  # warm-up
        out["training"][threads] = 2 * len(data) / run.gridscape_epochs(data, data, 1)
        evalset = EvalSet.from_tensor_data(data, 1000, normalise_now=False)
        start = time.perf_counter()
        evaluate_points(model, evalset, delta, eta, np.linspace(-1, 1, 10), np.linspace(1, -1, 10))
        out["landscape"][threads] = 10 * len(data) / (time.perf_counter() - start)
    torch.set_num_threads(most)
    return out


# --------------------------------------------------------------------------- the report


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:04.1f} s" if seconds >= 60 else f"{seconds:.1f} s"


def report(args, config: dict, wall: float, summary: dict, flops: dict, rate: float, notebook: dict,
           scaling: dict, machine: str) -> str:
    rules: pd.DataFrame = summary["rules"]
    job_seconds = float(rules["seconds"].sum())
    startup = float(np.nansum(rules["startup"]))
    floor = {stage: value / (rate * 1e9) for stage, value in flops["stages"].items()}
    floor_total = sum(floor.values())
    notebook_total = sum(notebook["stages"].values())
    heavy = rules[rules["seconds"] >= 0.02 * job_seconds]
    light = rules[rules["seconds"] < 0.02 * job_seconds]
    lines = [
        START,
        "## The whole study through Snakemake (`make benchmark-study`)",
        "",
        f"Command: `python benchmarks/study.py {' '.join(sys.argv[1:])}`, {datetime.datetime.now():%Y-%m-%d %H:%M}.",
        f"Machine: {machine}. Study: `{args.config}` ({config['study']}), device {args.device}, "
        f"`--cores {args.cores}`, on generated archives of {flops['images']['train'] + flops['images']['val']:,} "
        f"training images (train {flops['images']['train']:,}, val {flops['images']['val']:,}).",
        "",
        f"**Wall time: {minutes(wall)}** for {len(summary['jobs'])} jobs; the jobs ran for {minutes(job_seconds)} in all "
        f"(two or more at once where the cores allowed).",
        "",
        "| stage (rule file) | jobs | job seconds | from its first job's start to its last one's end |",
        "|---|---|---|---|",
        *(f"| {row.stage} | {row.jobs} | {row.seconds:.1f} | {minutes(row.span)} |" for row in summary["stages"].itertuples()),
        "",
        "| rule | stage (rule file) | jobs | job seconds | start-up seconds | peak memory |",
        "|---|---|---|---|---|---|",
    ]
    for row in heavy.itertuples():
        peak = "" if math.isnan(row.peak_mb) else f"{row.peak_mb:,.0f} MB"
        up = "" if math.isnan(row.startup) else f"{row.startup:.1f}"
        lines.append(f"| {row.rule} | {row.stage} | {row.jobs} | {row.seconds:.1f} | {up} | {peak} |")
    light_peak = np.nanmax(light["peak_mb"]) if len(light) and light["peak_mb"].notna().any() else math.nan
    lines.append(f"| {len(light)} other rules | | {int(light['jobs'].sum())} | {light['seconds'].sum():.1f} | "
                 f"{np.nansum(light['startup']):.1f} | {'' if math.isnan(light_peak) else f'{light_peak:,.0f} MB'} |")
    peak_all = np.nanmax(rules["peak_mb"]) if rules["peak_mb"].notna().any() else math.nan
    lines += [
        "",
        f"A job's seconds are its process's lifetime (start-up included) from its own log, to the millisecond, or "
        f"for a job that logs no start-up from Snakemake's log (whole seconds). Start-up (Python, Snakemake's "
        f"script preamble, imports, as each job logs it): {startup:.0f} s over {len(summary['jobs'])} jobs. "
        f"Snakemake itself: {summary['before_first_job']:.0f} s before the first job (parsing, the DAG), "
        f"{max(0.0, summary['idle_between_jobs']):.0f} s with no job running, and "
        f"{max(0.0, wall - summary['wall_log']):.0f} s outside its log (starting Python and Snakemake, the summary at "
        f"the end; 0 with --reuse-run). Largest peak resident memory of a job: "
        f"{peak_all:,.0f} MB (target: under 1,500 MB).",
        "",
        f"**Arithmetic floor** (float32 matrix multiply measured here: {rate:.0f} GFLOP/s; one forward pass "
        f"{flops['forward']:,} FLOP per image, training counted as three forward passes):",
        "",
        "| stage | images through the network | floor | notebook way |",
        "|---|---|---|---|",
    ]
    for stage, value in flops["stages"].items():
        passes = flops["passes"][stage]
        lines.append(f"| {stage} | {passes['train']:,} trained, {passes['eval']:,} evaluated | {minutes(floor[stage])} | "
                     f"{minutes(notebook['stages'][stage])} |")
    lines += [
        f"| **the study** | | **{minutes(floor_total)}** | **{minutes(notebook_total)}** |",
        "",
        f"The whole study took {wall / floor_total:.2f}x its arithmetic floor (target: at most 2x); the notebook way "
        f"would take {notebook_total / wall:.1f}x as long as this run for the same study (target: at least 10x). "
        f"The notebook way is computed from its per-image costs measured in this run as `benchmarks/run.py` measures "
        f"them: a notebook epoch ({notebook['train_images']:,} training images, then {notebook['eval_images']:,} "
        f"validated) took {notebook['epoch_seconds']:.1f} s, a reference landscape point on {notebook['eval_images']:,} "
        f"images {notebook['point_seconds']:.2f} s; the other jobs (figures, report) are not counted for it. The "
        f"floor counts every landscape point as a whole forward pass; method `first_layer` computes the first layer "
        f"once per batch instead, so it can do less arithmetic than its floor row.",
        "",
        "**Threads** (torch threads in one process, images per second):",
        "",
        "| work | " + " | ".join(f"{t} thread{'s' if t > 1 else ''}" for t in scaling["training"]) + " | speed-up |",
        "|---|" + "---|" * (len(scaling["training"]) + 1),
    ]
    for work, per in scaling.items():
        counts = list(per)
        lines.append(f"| {work} | " + " | ".join(f"{per[t]:,.0f}" for t in counts) +
                     f" | {per[counts[-1]] / per[counts[0]]:.2f}x |")
    most = list(scaling["training"])[-1]
    # the training row counts an epoch's images and its validation's alike: (3 + 1) forward passes per 2 images
    kernel_rates = {"training": scaling["training"][most] * 2 * flops["forward"] / 1e9,
                    "landscape": scaling["landscape"][most] * flops["forward"] / 1e9}
    lines += [
        "",
        f"In one process, with no Snakemake and no start-up, {most} thread{'s' if most > 1 else ''} of one LeNet-5 "
        f"reached {kernel_rates['training']:.0f} GFLOP/s training (validation included) and "
        f"{kernel_rates['landscape']:.0f} GFLOP/s evaluating landscape points (counted as whole forward passes): "
        f"{kernel_rates['training'] / rate:.0%} and {kernel_rates['landscape'] / rate:.0%} of the matrix-multiply "
        f"rate that the floor assumes for every layer.",
        "",
        "Beyond these cores a single job gains what its threads give (above); the study's other gain is jobs side "
        "by side: the grid's packs, the landscape's chunks and the line run at once when `--cores` allows, so on "
        "more cores the wall time approaches the longest chain of jobs (the grid pack, the retraining, one "
        "landscape chunk and the merge) rather than their sum.",
        END,
    ]
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    text = path.read_text() if path.is_file() else ""
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + section.rstrip("\n") + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(ROOT / "config" / "config.yaml"))
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--workdir", default=str(ROOT / "resources" / "benchmark-study"))
    parser.add_argument("--output", default=None, help="default: benchmarks/results.md, results-gpu.md with --device cuda")
    parser.add_argument("--quick", action="store_true", help="a tenth of the images, 2 epochs, a 5x5 landscape")
    parser.add_argument("--images-per-class", type=int, nargs=2, metavar=("TRAIN", "TEST"))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--reuse-run", action="store_true",
                        help="no new run: report the last one in --workdir (its wall time from Snakemake's log)")
    args = parser.parse_args()
    if args.quick:
        args.set = ["train.epochs=2", "landscape.alpha.num=5", "landscape.beta.num=5", "landscape.chunks=2",
                    "landscape.line_points=5", *args.set]
    output = Path(args.output or ROOT / "benchmarks" / ("results-gpu.md" if args.device == "cuda" else "results.md"))
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if args.reuse_run:
        config = yaml.safe_load((workdir / "config" / "config.yaml").read_text())
    else:
        config = study_config(args, workdir)
    from gridscape.config import validate

    if validate(config)["search"]["method"] != "grid":
        raise SystemExit("benchmarks/study.py counts the floor of a grid-search study (search.method grid)")
    wall = None if args.reuse_run else run_study(args, workdir, config)
    summary = summarise(workdir)
    wall = summary["wall_log"] if wall is None else wall
    images = study_images(workdir, config)
    passes = study_passes(workdir, config, images)
    forward = forward_flops(config)
    flops = {"forward": forward, "images": images, "passes": passes,
             "stages": {stage: forward * (3 * p["train"] + p["eval"]) for stage, p in passes.items()}}
    rate = matmul_gflops(args.device)
    costs = notebook_costs(args.device, 2000 if args.quick else 10000, 1000 if args.quick else 5000)
    notebook = {**costs, "train_images": 2000 if args.quick else 10000, "eval_images": 1000 if args.quick else 5000,
                "stages": {stage: p["train"] * costs["train_image"] + p["eval"] * costs["eval_image"]
                           for stage, p in passes.items()}}
    scaling = thread_scaling(args.device)
    machine = f"{run.cpu_name()}, {os.cpu_count()} cores"
    if args.device == "cuda":
        import torch

        machine += f", {torch.cuda.get_device_name(0)}"
    section = report(args, config, wall, summary, flops, rate, notebook, scaling, machine)
    write_section(output, section)
    print(section)


if __name__ == "__main__":
    main()
