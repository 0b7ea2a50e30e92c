"""The experiments kind: a few named runs with hand-picked settings (the VGG coursework's plain,
BatchNorm and residual networks), each trained, validated every epoch, its gradient flow
recorded and its chosen epoch tested once."""

from __future__ import annotations

from typing import Mapping

import jsonschema

from gridscape.config.errors import ConfigError
from gridscape.config.keys import format_value, get_key, section
from gridscape.config.options import check_options
from gridscape.config.schema import check_key, check_value

from .base import Run, StudyKind, check_distinct_names, figure, result
from .common import DATA_OUTPUTS, DATASET_SECTIONS, REPORT_OUTPUTS


def experiment_runs(config: Mapping) -> list[Run]:
    """The named experiments of the study, in the order of its results table; with
    ``experiments.repeat`` each once per value, named <name>-r<value>."""
    runs = [
        Run(name=run["name"], params=dict(run["set"]), title=run["label"] or run["name"],
            where=f"experiments.runs[{index}] ({run['name']})")
        for index, run in enumerate(config["experiments"]["runs"])
    ]
    repeat = config["experiments"].get("repeat")
    if not repeat:
        return runs
    return [
        Run(name=f"{run.name}-r{value}", params={**run.params, repeat["key"]: value},
            title=f"{run.title} ({repeat['key'].rsplit('.', 1)[-1]} {value})", where=f"{run.where}, repeat {value}")
        for run in runs for value in repeat["values"]
    ]


def check_written(raw: Mapping, defaults: Mapping) -> None:
    """Each experiment's settings are read by the model and optimiser in force for it (as
    written: before the schema has checked their shape)."""
    runs = section(raw, "experiments").get("runs") or []
    check_options(raw, defaults, [
        (f"experiments.runs[{index}].set", dict(run["set"]) if isinstance(run.get("set"), Mapping) else {})
        for index, run in enumerate(runs) if isinstance(run, Mapping)
    ])


def check(config: Mapping, schema: Mapping) -> None:
    """At least one experiment; names and labels distinct; each one's settings valid keys and
    values; the overlay names experiments."""
    runs = config["experiments"]["runs"]
    if not runs:
        raise ConfigError("config key experiments.runs: a study of kind 'experiments' lists no run; expected at least one")
    names = [run["name"] for run in runs]
    check_distinct_names(names, "experiments.runs")
    labels = [run["label"] or run["name"] for run in runs]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise ConfigError(
            f"config key experiments.runs: the label {', '.join(map(repr, repeated))} is shown for two experiments; "
            "expected distinct labels (a label defaults to the name), so that tables and legends tell them apart"
        )
    validator = jsonschema.Draft202012Validator(schema)
    check_repeat(config, schema, validator)
    for index, run in enumerate(runs):
        for key, value in run["set"].items():
            where = f"experiments.runs[{index}].set.{key}"
            check_key(config, key, where)
            check_value(config, validator, key, value, where)
    names = [run.name for run in experiment_runs(config)]  # with repeats, the repeated names
    check_scaling(config)
    for key in ("gradient_flow_overlay", "weight_histograms"):
        unknown = [name for name in config["figures"][key] if name not in names]
        if unknown:
            raise ConfigError(
                f"config key figures.{key}: {', '.join(map(repr, unknown))} names no experiment; "
                f"expected some of {', '.join(names)}"
            )


def check_scaling(config: Mapping) -> None:
    """The data-size figure needs repeats (its error bars are their spread) and configured runs
    that each train on another amount of data: equal amounts would be averaged as repeats."""
    scaling = config["figures"]["scaling"]
    if not scaling:
        return
    if not config["experiments"]["repeat"]:
        raise ConfigError(
            "config key figures.scaling: the data-size table gives the mean and spread over repeats; expected "
            "experiments.repeat (for example {key: train.seed, values: [0, 1, 2]})"
        )
    key = scaling["key"]
    amounts = [run["set"].get(key, get_key(config, key)) for run in config["experiments"]["runs"]]
    repeated = sorted({format_value(a) for a in amounts if amounts.count(a) > 1})
    if repeated or len(amounts) < 2:
        raise ConfigError(
            f"config key figures.scaling: the runs set {key} to {', '.join(map(format_value, amounts))}; expected "
            "at least two runs, each with its own amount of data (equal amounts would be averaged as repeats)"
        )


def check_repeat(config: Mapping, schema: Mapping, validator) -> None:
    """The repeated key is a key a run may set, its values valid for it, no run sets it too,
    and the repeated names stay names."""
    repeat = config["experiments"]["repeat"]
    if not repeat:
        return
    key = repeat["key"]
    check_key(config, key, "experiments.repeat.key")
    for index, value in enumerate(repeat["values"]):
        check_value(config, validator, key, value, f"experiments.repeat.values[{index}]")
    for index, run in enumerate(config["experiments"]["runs"]):
        if key in run["set"]:
            raise ConfigError(
                f"config key experiments.runs[{index}].set.{key}: the runs are repeated over {key} "
                "(experiments.repeat); expected it set by the repeats alone"
            )
        longest = f"{run['name']}-r{max(repeat['values'])}"
        if len(longest) > 64:
            raise ConfigError(
                f"config key experiments.runs[{index}].name: repeated, it becomes {longest!r}, over 64 characters; "
                "expected a shorter name"
            )


def has_scaling(config: Mapping) -> bool:
    return bool(config["figures"]["scaling"])


def experiment_names(config: Mapping) -> dict[str, list[str]]:
    return {"experiment": [run.name for run in experiment_runs(config)]}


OUTPUTS = (
    *DATA_OUTPUTS,
    result("experiments/results.csv", "experiment_results", "Experiments", "Tables", "results table"),
    result("experiments/{experiment}/model.safetensors", wildcards=experiment_names),
    figure("experiments_curves", "Experiments", "Curves", "learning curves"),
    figure("gradient_flow_overlay", "Experiments", "Gradient flow", "", labels={"experiment": "overlay"}),
    figure("gradient_flow/{experiment}", "Experiments", "Gradient flow", "", caption="gradient_flow",
           labels={"experiment": "{experiment}"}, wildcards=experiment_names),
    result("experiments/weight_stats.csv", "weight_stats", "Experiments", "Weights", "weight statistics"),
    figure("weight_histograms", "Experiments", "Weights", "weight histograms"),
    result("experiments/scaling.csv", "scaling_table", "Experiments", "Data size", "data-size table", when=has_scaling),
    figure("scaling", "Experiments", "Data size", "accuracy against data size", when=has_scaling),
    *REPORT_OUTPUTS,
)


def report_inputs(config: Mapping) -> dict:
    scaling = {"scaling": "results/{study}/experiments/scaling.csv"} if has_scaling(config) else {}
    return {
        **scaling,
        "counts": "results/{study}/data/class_counts.csv",
        "results": "results/{study}/experiments/results.csv",
        "weight_stats": "results/{study}/experiments/weight_stats.csv",
        "gradient_flows": [
            f"results/{{study}}/experiments/{name}/gradient_flow.csv" for name in experiment_names(config)["experiment"]
        ],
        "histories": [
            f"results/{{study}}/experiments/{name}/history.csv" for name in experiment_names(config)["experiment"]
        ],
    }


EXPERIMENTS = StudyKind(
    name="experiments",
    description="named experiments, each trained, validated, its gradient flow recorded and tested",
    sections=DATASET_SECTIONS | {"experiments"},
    check=check,
    runs=experiment_runs,
    check_written=check_written,
    rules=("data.smk", "figures.smk", "experiments.smk"),
    outputs=OUTPUTS,
    report_inputs=report_inputs,
    build_context="gridscape.report.experiments_context:context_from_files",
    summary="gridscape.summary.experiments:summarise",
    report_template="experiments_report.tex.j2",
    landing="workflow-experiments.rst",
    ignored_keys=("figures.test_predictions",),  # a search study's final model predicts test images
)
