"""The template context of a study of named experiments (the MLP coursework's report).

Every number comes from the result files: ``experiments/results.csv`` (checked against the
histories when it was written), each experiment's ``gradient_flow.csv`` and
``data/class_counts.csv``. The diagnosis (which
networks are stuck at the loss of a uniform guess, how many orders of magnitude the gradient
loses from the output back to the input) is computed here; the templates put it into words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from gridscape.config.keys import settings_text
from gridscape.config.options import AUGMENTATION_KEYS
from gridscape.data.augment import headers
from gridscape.kinds.base import run_values
from gridscape.scaling import group_column, trend
from gridscape.kinds.experiments import EXPERIMENTS, experiment_runs

from . import provenance
from .config_text import study_fields
from .experiments_discussion import LARGE_GAP, discussion
from .experiments_topics import topics
from .data_context import data_context
from .helpers import MODEL_TITLES, figure_pdfs

# A run is stuck when its last training loss is within this fraction of ln(classes) and its
# accuracy below twice chance: it predicts (nearly) the uniform distribution, as the course's
# VGG_38 does (4.605 = ln 100).
STUCK_LOSS_TOLERANCE = 0.02
BLOCK_NAMES = {"plain": "plain", "bn": "BatchNorm", "rc": "residual connections", "bn_rc": "BatchNorm and residual connections"}
# The experiments kind's figures without a wildcard, as its registry entry declares them.
FIGURES = tuple(o.path.removeprefix("figures/") for o in EXPERIMENTS.outputs if o.figure and "{" not in o.path)


@dataclass
class ExperimentReportInputs:
    config: Mapping
    counts: Path
    results: Path
    gradient_flows: Mapping[str, Path]  # by experiment name
    histories: Mapping[str, Path]  # by experiment name
    weight_stats: Path
    report_dir: Path
    figures_dir: Path
    benchmarks: Path | None = None
    repo: Path | None = None
    snakemake_version: str | None = None
    scaling: Path | None = None  # experiments/scaling.csv, with figures.scaling


def describe_model(model: Mapping) -> dict:
    """Depth and variant of the experiment's network, for the table and the text."""
    if model["name"] == "mlp":  # hidden layers x units, and the dropout where there is one
        dropout = float(model.get("dropout", 0.0))
        variant = f"{model.get('hidden_layers', 1)} × {model.get('hidden_size', 128)}" + (f", dropout {dropout:g}" if dropout else "")
        return {"name": "MLP", "depth": int(model.get("hidden_layers", 1)) + 1, "convs": None, "variant": variant,
                "batch_norm": False, "residual": False, "residual_form": None, "activation": model.get("activation"),
                "init": model.get("init", "default")}
    if model["name"] != "vgg":
        batch_norm = bool(model.get("batch_norm", False)) or model["name"] == "resnet"
        return {"name": MODEL_TITLES.get(model["name"], model["name"]), "depth": model.get("depth") if model["name"] == "resnet" else None,
                "convs": None,
                "variant": "BatchNorm" if batch_norm else "", "batch_norm": batch_norm, "residual": False,
                "residual_form": None, "activation": model.get("activation"), "init": model.get("init", "default")}
    convs = 1 + model["num_stages"] * (2 * model["blocks_per_stage"] + 2)
    return {
        "name": "VGG",
        "depth": convs + 1,
        "convs": convs,
        "variant": BLOCK_NAMES[model["block"]],
        "batch_norm": model["block"] in ("bn", "bn_rc"),
        "residual": model["block"] in ("rc", "bn_rc"),
        "residual_form": model.get("residual", "identity") if model["block"] in ("rc", "bn_rc") else None,
        "activation": None, "init": model.get("init", "default"),
    }


def gradient_summary(flow: pd.DataFrame) -> dict:
    """First and last weight tensor's mean |grad| at the last epoch, and the orders of magnitude between."""
    last = flow[flow["epoch"] == flow["epoch"].max()].sort_values("order")
    first_value, last_value = float(last["mean_abs_grad"].iloc[0]), float(last["mean_abs_grad"].iloc[-1])
    finite = all(math.isfinite(v) and v > 0 for v in (first_value, last_value))
    orders = math.log10(last_value / first_value) if finite else math.nan
    return {
        "epoch": int(last["epoch"].iloc[0]),
        "tensors": len(last),
        "first_layer": str(last["layer"].iloc[0]),
        "first": first_value,
        "last_layer": str(last["layer"].iloc[-1]),
        "last": last_value,
        "orders": orders,
        "smallest": float(last["mean_abs_grad"].min()),
    }


def experiment_rows(config: Mapping, results: pd.DataFrame, flows: Mapping[str, pd.DataFrame], n_classes: int) -> list[dict]:
    """One row per experiment: its results, its network, and whether it diverged, stayed at
    the loss of a uniform guess ('stuck') or learned."""
    chance_loss = math.log(n_classes)
    experiments = {run.name: run for run in experiment_runs(config)}
    rows = []
    for _, row in results.iterrows():
        name = str(row["experiment"])
        experiment = experiments[name]
        run_config = experiment.apply(config)
        last_loss = float(row["last_train_loss"])
        diverged = row["status"] != "ok" or not math.isfinite(last_loss)
        stuck = (
            not diverged
            and abs(last_loss - chance_loss) <= STUCK_LOSS_TOLERANCE * chance_loss
            and float(row["last_train_acc"]) < 2.0 / n_classes
        )
        rows.append({
            **{key: row[key] for key in row.index},
            "name": name,
            "label": experiment.label,  # from the config: a new label needs no retraining
            "settings": settings_text(experiment.params),
            "params": dict(experiment.params),
            "model": describe_model(run_config["model"]),
            "optimizer": run_config["optimizer"]["name"],
            "diverged": diverged,
            "stuck": stuck,
            "learning": not (diverged or stuck),
            "gradient": gradient_summary(flows[name]),
            "figure": "",
        })
    learning_rates = {float(r["lr"]) for r in rows if r["learning"]}
    for r in rows:
        # "the same learning rate trains another network" rules the step size out as the cause
        r["lr_trains_another"] = float(r["lr"]) in learning_rates
    return rows


def best_by_validation(rows: Sequence[Mapping]) -> Mapping:
    """The experiment a study would choose: the highest validation accuracy at its tested epoch
    (the first in the config's order on ties). Never the test accuracy: choosing by the test
    set would make its number an optimistic estimate of the chosen model's."""
    def validation(row: Mapping) -> float:
        value = float(row["val_acc"])
        return value if math.isfinite(value) else -1.0

    return max(rows, key=validation)


def figure_paths(inputs: ExperimentReportInputs, names: Sequence[str]) -> dict[str, str]:
    """Figure name -> its PDF relative to the report folder ('' when it does not exist)."""
    return figure_pdfs([*FIGURES, *(f"gradient_flow/{n}" for n in names)], inputs.figures_dir, inputs.report_dir)


def build_experiments_context(inputs: ExperimentReportInputs) -> dict:
    config = inputs.config
    counts = pd.read_csv(inputs.counts, dtype={"class": str})
    results = pd.read_csv(inputs.results, dtype={"experiment": str, "label": str})
    flows = {name: pd.read_csv(path) for name, path in inputs.gradient_flows.items()}
    histories = {name: pd.read_csv(path) for name, path in inputs.histories.items()}
    data = data_context(config, counts, {})
    rows = experiment_rows(config, results, flows, data["n_classes"])
    chosen = topics(config, experiment_runs(config), rows, histories, pd.read_csv(inputs.weight_stats),
                    int(data["n_val"]), math.log(data["n_classes"]))
    figures = figure_paths(inputs, [r["name"] for r in rows])
    for row in rows:
        row["figure"] = figures[f"gradient_flow/{row['name']}"]
    stuck = [r for r in rows if r["stuck"]]
    learning = [r for r in rows if r["learning"]]
    diverged = [r for r in rows if r["diverged"]]
    best = best_by_validation(learning or rows)
    first = results.iloc[0]
    return {
        **study_fields(config),
        "data": data,
        "experiments": rows,
        "topics": chosen,
        "scaling": scaling_context(inputs.scaling, config, data["n_classes"], rows),
        "stuck": stuck,
        "learning": learning,
        "diverged": diverged,
        "best": best,
        "discussion": discussion(rows, best if learning else None, int(config["train"]["epochs"]),
                                 chosen["pairs_by_key"].get("optimizer.lr", []),
                                 repeated=bool(config["experiments"].get("repeat"))),
        "large_gap": LARGE_GAP,
        "chance_loss": math.log(data["n_classes"]),
        "chance_acc": 1.0 / data["n_classes"],
        "test_epoch_rule": config["experiments"]["test_epoch"],
        "epochs": int(config["train"]["epochs"]),
        "train": config["train"],
        "optimizer": config["optimizer"],
        "augmentation": headers(config["train"], run_values(config, experiment_runs(config), AUGMENTATION_KEYS)),
        "figures": figures,
        "provenance": provenance.provenance(
            config, inputs.repo or Path.cwd(), {"device": str(first["device"])},
            inputs.benchmarks or Path(inputs.report_dir).parent / "benchmarks",
            snakemake_version=inputs.snakemake_version,
        ),
    }


def scaling_context(path: Path | None, config: Mapping, n_classes: int, rows: Sequence[Mapping] = ()) -> dict | None:
    """The data-size table and what it shows (``scaling.trend``), or None without one."""
    if path is None:
        return None
    table = pd.read_csv(path)
    if table.empty:
        return None
    column = group_column(config["figures"]["scaling"]["key"])
    return {"key": config["figures"]["scaling"]["key"], "column": column, "rows": table.to_dict("records"),
            "repeats": config["experiments"].get("repeat"), **trend(table, n_classes),
            "left_out": [row["label"] for row in rows if row["diverged"]]}


def context_from_files(inputs: Mapping[str, Any], common: Mapping[str, Any]) -> dict:
    """The experiments kind's report context from the render rule's named inputs (see
    ``gridscape.kinds.experiments.report_inputs``) and the facts every report shares."""
    names = [run.name for run in experiment_runs(common["config"])]
    return build_experiments_context(ExperimentReportInputs(
        **common, counts=Path(inputs["counts"]), results=Path(inputs["results"]),
        gradient_flows=dict(zip(names, map(Path, inputs["gradient_flows"]))),
        histories=dict(zip(names, map(Path, inputs["histories"]))),
        weight_stats=Path(inputs["weight_stats"]),
        scaling=Path(inputs["scaling"]) if "scaling" in inputs else None,
    ))
