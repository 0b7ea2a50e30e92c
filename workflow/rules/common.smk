# Configuration, the grid's cells and the input functions shared by the rule files.

import os
import re
import sys
from pathlib import Path

from snakemake.utils import validate

# The package holds the logic; make it importable here and in every script job (also on
# cluster nodes, which re-read this file) without requiring it to be pip-installed.
SRC = str(Path(workflow.basedir).parent / "src")
sys.path.insert(0, SRC)
# PYTHONPATH is written, not read as a required setting, hence no envvars: directive.
os.environ.update(
    PYTHONPATH=os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)
)

from gridscape.config import experiment_cells, grid_cells, is_experiment_study, load_schema, validate as check_study
from gridscape.search import plan_packs
from gridscape.landscape.grid import Grid as _LandscapeGrid, effective_chunks as _landscape_chunks
from gridscape.data.registry import DATASETS
from gridscape.gpus import visible_gpu_count
from gridscape.runlock import claim_run

# A run killed with SIGKILL leaves Snakemake's lock behind; the same command must still run.
# Only the main process claims: job processes re-read this file while their run holds the lock.
if workflow.is_main_process:
    _stale_locks = claim_run(Path(".snakemake"))
    if _stale_locks:
        print(
            "gridscape: no other run of this workflow is alive here, so the Snakemake lock left "
            f"by a killed run is stale and was removed: {', '.join(map(str, _stale_locks))}",
            file=sys.stderr,
        )

SCHEMA = str(Path(workflow.basedir) / "schemas" / "config.schema.yaml")

# gridscape's own check first: its messages name the key and what was expected.
config.update(check_study(config, load_schema(SCHEMA)))
validate(config, schema=SCHEMA)

STUDY = config["study"]
DATASET = DATASETS[config["dataset"]["name"]]
DATA_DIR = f"{config['dataset']['root']}/{DATASET.name}"
# A study is either a grid search (then a final model and its landscape) or a list of named
# experiments; the other kind's rules have no jobs.
EXPERIMENT_STUDY = is_experiment_study(config)
EXPERIMENTS = {cell.name: cell for cell in experiment_cells(config)}
CELLS = {} if EXPERIMENT_STUDY else {cell.name: cell for cell in grid_cells(config)}
PACKS = {
    pack.name: pack
    for pack in plan_packs(config, list(CELLS.values()), config["search"]["fuse"])
}
PACK_OF_CELL = {cell.name: pack.name for pack in PACKS.values() for cell in pack.cells}
AXIS_KEYS = [axis["key"] for axis in config["search"]["axes"]]
TRAINING_SECTIONS = ("split", "model", "optimizer", "train", "device")
CONDA_ENV = "../envs/gridscape.yaml"


wildcard_constraints:
    study=STUDY,
    cell="|".join(re.escape(name) for name in CELLS),
    pack="|".join(re.escape(name) for name in PACKS),
    experiment="|".join(re.escape(name) for name in EXPERIMENTS),


def training_config(base=config):
    """The config that changes a trained model (rerun triggers on these only): not the
    download mirror, the figures or the landscape."""
    return {
        "dataset": {"name": base["dataset"]["name"]},
        **{key: base[key] for key in TRAINING_SECTIONS},
    }


def pack_of(wildcards):
    return PACKS[wildcards.pack]


def pack_config(wildcards):
    """Everything that changes a pack's results: retrain it when any of this changes."""
    pack = PACKS[wildcards.pack]
    return {
        "models": list(pack.models),
        "cells": [cell.params for cell in pack.cells],
        **training_config(pack.cells[0].apply(config)),
    }


def pack_dir_of_cell(wildcards):
    return f"results/{wildcards.study}/search/packs/{PACK_OF_CELL[wildcards.cell]}"


def is_gpu_job():
    """gpu=1 for GPU rules when they will use one: device cuda, or auto on a machine with a GPU.

    On a CPU-only machine 'auto' asks for none, so `--resources gpu=1` does not serialise
    the CPU jobs. A cluster profile sets gpu=1 per rule (the submitting host may have no GPU).
    """
    if config["device"] == "cuda":
        return 1
    if config["device"] == "auto" and visible_gpu_count() > 0:
        return 1
    return 0


def experiment_config(wildcards):
    """Everything that changes an experiment's results: retrain it when any of this changes."""
    run_config = EXPERIMENTS[wildcards.experiment].apply(config)
    return {**training_config(run_config), "experiments": {"test_epoch": config["experiments"]["test_epoch"]}}


def experiment_of(wildcards):
    return EXPERIMENTS[wildcards.experiment]


def study_targets():
    return experiment_study_targets() if EXPERIMENT_STUDY else grid_study_targets()


def experiment_study_targets():
    prefix = f"results/{STUDY}"
    figures = ["gallery", "class_counts", "augmentation", "experiments_curves", "gradient_flow_overlay"]
    figures += [f"gradient_flow/{name}" for name in EXPERIMENTS]
    targets = [f"{prefix}/experiments/results.csv", f"{prefix}/report/report.tex", f"{prefix}/report/report.pdf"]
    targets += [f"{prefix}/experiments/{name}/model.safetensors" for name in EXPERIMENTS]
    return targets + [f"{prefix}/figures/{name}.{ext}" for name in figures for ext in ("png", "pdf")]


def grid_study_targets():
    prefix = f"results/{STUDY}"
    figures = [
        "gallery",
        "class_counts",
        "grid_val_loss",
        "grid_val_acc",
        "curves_grid",
        "curves_final",
        "augmentation",
    ]
    targets = [
        f"{prefix}/search/grid.csv",
        f"{prefix}/search/best.json",
        f"{prefix}/final/model.safetensors",
        f"{prefix}/final/metrics.json",
    ]
    if config["landscape"]["enabled"]:
        targets += [
            f"{prefix}/landscape/{name}"
            for name in (
                "directions.safetensors",
                "directions.json",
                "surface.csv",
                "surface.npz",
                "diagnostics.json",
                "line.csv",
                "interpolation.csv",
            )
        ]
        if config["landscape"]["subset_size"] is not None:
            targets.append(f"{prefix}/landscape/subset_indices.csv")
        figures += [
            "landscape_contour",
            "landscape_contourf",
            "landscape_heatmap",
            "landscape_surface3d",
            "landscape_line",
            "landscape_interpolation",
        ]
    targets += [f"{prefix}/report/report.tex", f"{prefix}/report/report.pdf"]
    return targets + [
        f"{prefix}/figures/{name}.{ext}" for name in figures for ext in ("png", "pdf")
    ]


# --- Loss landscape -------------------------------------------------------------------

LANDSCAPE = config["landscape"]
LANDSCAPE_CHUNKS = _landscape_chunks(
    _LandscapeGrid.from_config(LANDSCAPE).size, LANDSCAPE["chunks"]
)
# The keys each rule depends on, so that e.g. changing line_points reruns only the line.
LANDSCAPE_DATA_KEYS = ("data", "subset_size", "subset_seed", "eval_batch_size")
LANDSCAPE_DIRECTION_KEYS = ("delta_seed", "eta_seed", "normalization", "ignore")
LANDSCAPE_GRID_KEYS = ("alpha", "beta", "chunks", "method")


def landscape_params(*keys):
    return {key: LANDSCAPE[key] for key in keys}


def landscape_line_params():
    """The line needs the alpha range, not its number of points."""
    params = landscape_params(*LANDSCAPE_DATA_KEYS, "method", "line_points")
    params["alpha"] = {key: LANDSCAPE["alpha"][key] for key in ("min", "max")}
    return params


def landscape_subset_output():
    """subset_indices.csv exists only when a subset is asked for."""
    if LANDSCAPE["subset_size"] is None:
        return {}
    return {"subset": "results/{study}/landscape/subset_indices.csv"}
