"""The search kind: a hyperparameter search over keys of the model, optimizer and train sections
(a grid, a random search or a staged random search: ``search_methods``), the best setting
retrained as the final model and tested once, and its loss landscape."""

from __future__ import annotations

import itertools
from typing import Mapping

import jsonschema

from gridscape.config.errors import ConfigError
from gridscape.config.keys import format_value, get_key, section
from gridscape.config.options import check_option, written_options
from gridscape.config.schema import check_key, check_value, defaults_of

from .base import Run, StudyKind, figure, result
from .common import DATA_OUTPUTS, DATASET_SECTIONS, REPORT_OUTPUTS
from .final_outputs import PREDICTION_OUTPUTS
from .search_outputs import ANALYSIS_OUTPUTS
from .search_methods import (
    RULE_FILES, check_method_keys, check_space, check_written_space, is_grid, is_sampled, probe_runs, searched_entries,
    stage_numbers,
)


def grid_cells(config: Mapping) -> list[Run]:
    """The cells of the grid, first axis varying slowest (row-major, as in the tables)."""
    axes = config["search"]["axes"]
    cells = []
    for combination in itertools.product(*(axis["values"] for axis in axes)):
        params = {axis["key"]: value for axis, value in zip(axes, combination)}
        name = "_".join(f"{key}~{format_value(value)}" for key, value in params.items())
        cells.append(Run(name, params, where=f"search cell {Run(name, params).label}"))
    return cells


def check_axes(config: Mapping, schema: Mapping) -> None:
    """Each axis names an existing key that the study's model and optimiser read, and each of
    its values is valid for that key."""
    axes = config["search"]["axes"]
    keys = [axis["key"] for axis in axes]
    if len(set(keys)) != len(keys):
        raise ConfigError(f"config key search.axes: the same key appears twice ({keys}); expected distinct keys")
    validator = jsonschema.Draft202012Validator(schema)
    for index, axis in enumerate(axes):
        check_key(config, axis["key"], f"search.axes[{index}].key")
        for position, value in enumerate(axis["values"]):
            check_value(config, validator, axis["key"], value, f"search.axes[{index}].values[{position}]")


def check_landscape(landscape: Mapping) -> None:
    """The trained model (alpha = beta = 0) must be a grid point, and the two directions differ."""
    for name in ("alpha", "beta"):
        spec = landscape[name]
        if spec["min"] > spec["max"]:
            raise ConfigError(f"config key landscape.{name}: min {spec['min']} is above max {spec['max']}; expected min <= max")
        if spec["min"] < 0 < spec["max"]:
            step = (spec["max"] - spec["min"]) / max(spec["num"] - 1, 1)
            position = -spec["min"] / step
            if spec["num"] < 2 or abs(position - round(position)) > 1e-9:
                raise ConfigError(
                    f"config key landscape.{name}.num: {spec['num']} points from {spec['min']} to {spec['max']} "
                    f"miss {name} = 0, where the trained model lies; expected a count that puts 0 on the grid "
                    f"(for a symmetric range, an odd number such as {spec['num'] + 1 if spec['num'] % 2 == 0 else spec['num']})"
                )
    if landscape["delta_seed"] == landscape["eta_seed"]:
        raise ConfigError(
            f"config key landscape.eta_seed: equal to landscape.delta_seed ({landscape['eta_seed']}), which makes "
            "eta = delta and the plane degenerate; expected two different seeds"
        )


def check_written(raw: Mapping, defaults: Mapping) -> None:
    """Each axis or hyperparameter the study writes varies a key that its model and optimiser
    read, and the search keys it writes are read by its method."""
    check_method_keys(raw, defaults)
    written = written_options(raw, defaults)
    for index, axis in enumerate(section(raw, "search").get("axes") or []):
        if isinstance(axis, Mapping) and isinstance(axis.get("key"), str):
            check_option(written, defaults, axis["key"], f"search.axes[{index}].key")
    check_written_space(raw, defaults)


def check(config: Mapping, schema: Mapping) -> None:
    if is_grid(config):
        check_axes(config, schema)
    else:
        check_space(config, schema)
    check_landscape(config["landscape"])
    check_experiment_only_keys(config, defaults_of(schema))


def search_runs(config: Mapping) -> list[Run]:
    """A grid's cells; for random and staged search, the probes of the space's ends and values."""
    return grid_cells(config) if is_grid(config) else probe_runs(config)


def rule_files(config: Mapping) -> tuple[str, ...]:
    return ("data.smk", "figures.smk", RULE_FILES[config["search"]["method"]], "search_analysis.smk", "final.smk",
            "landscape.smk")


# train keys of named experiments only: a grid pack trains on the whole training part
EXPERIMENT_ONLY = ("train.per_class", "train.min_epoch_size")


def check_experiment_only_keys(config: Mapping, defaults: Mapping) -> None:
    """A search sets none of the keys only named experiments read, in the study, as an axis or
    in its space."""
    axes = {entry["key"] for entry in searched_entries(config)}
    for key in EXPERIMENT_ONLY:
        if key in axes or get_key(config, key) != get_key(defaults, key):
            raise ConfigError(
                f"config key {key}: a grid search trains every cell on the whole training part; expected it left "
                "out (a study of kind 'experiments' reads it)"
            )


def has_landscape(config: Mapping) -> bool:
    return bool(config["landscape"]["enabled"])


def has_subset(config: Mapping) -> bool:
    return has_landscape(config) and config["landscape"]["subset_size"] is not None


def stages(config: Mapping) -> dict[str, list[int]]:
    return {"stage": stage_numbers(config)}


LANDSCAPE_FILES = ("directions.safetensors", "directions.json", "surface.npz", "diagnostics.json", "line.csv", "interpolation.csv")
OUTPUTS = (
    *DATA_OUTPUTS,
    result("search/grid.csv", "grid_table", "Grid search", "Tables", "grid table", when=is_grid),
    result("search/best.json", "best", "Grid search", "Tables", "chosen cell", when=is_grid),
    figure("grid_val_loss", "Grid search", "Heat maps", "validation loss", when=is_grid),
    figure("grid_val_acc", "Grid search", "Heat maps", "validation accuracy", when=is_grid),
    figure("curves_grid", "Grid search", "Curves", "curves of every cell", when=is_grid),
    result("search/best.json", "best_trial", "Search", "Tables", "chosen trial", when=is_sampled),
    result("search/trials.csv", "trials_table", "Search", "Tables", "every trial"),
    result("search/stages/{stage}/space.json", when=is_sampled, wildcards=stages),
    result("search/stages/{stage}/plan.csv", when=is_sampled, wildcards=stages),
    result("search/stages/{stage}/trials.csv", when=is_sampled, wildcards=stages),
    result("search/stages/1/space.json", when=is_grid),
    figure("curves_trials", "Search", "Curves", "curves of the last stage's trials", when=is_sampled),
    *ANALYSIS_OUTPUTS,
    result("final/config.json"),
    result("final/model.safetensors"),
    result("final/metrics.json", "metrics", "Final model", "Metrics", "test metrics"),
    result("report/model_summary.csv", "model_summary", "Final model", "Network", "layer table"),
    result("final/weight_stats.csv", "final_weight_stats", "Final model", "Network", "weight statistics"),
    figure("curves_final", "Final model", "Curves", "training curves"),
    *PREDICTION_OUTPUTS,
    *(result(f"landscape/{name}", when=has_landscape) for name in LANDSCAPE_FILES),
    result("landscape/surface.csv", "landscape_surface", "Loss landscape", "Tables", "surface", when=has_landscape),
    result("landscape/subset_indices.csv", when=has_subset),
    figure("landscape_contour", "Loss landscape", "Surface", "contour lines", when=has_landscape),
    figure("landscape_contourf", "Loss landscape", "Surface", "filled contours", when=has_landscape),
    figure("landscape_heatmap", "Loss landscape", "Surface", "heat map", when=has_landscape),
    figure("landscape_surface3d", "Loss landscape", "Surface", "3-D surface", when=has_landscape),
    figure("landscape_line", "Loss landscape", "Slices", "along delta", when=has_landscape),
    figure("landscape_interpolation", "Loss landscape", "Slices", "from theta0 to theta*", when=has_landscape),
    *REPORT_OUTPUTS,
)


def report_inputs(config: Mapping) -> dict:
    files = {
        "counts": "data/class_counts.csv",
        "split": "data/split.csv",
        **({"grid": "search/grid.csv"} if is_grid(config) else {}),
        "trials": "search/trials.csv",
        "importance": "search/importance.csv",
        "best": "search/best.json",
        "metrics": "final/metrics.json",
        "history": "final/history.csv",
        "model_summary": "report/model_summary.csv",
        "forward_check": "report/forward_check.json",
    }
    if has_landscape(config):
        files.update({name: f"landscape/{name}.{ext}" for name, ext in (
            ("directions", "json"), ("diagnostics", "json"), ("surface", "csv"), ("line", "csv"), ("interpolation", "csv"))})
    inputs = {name: f"results/{{study}}/{path}" for name, path in files.items()}
    inputs["spaces"] = [f"results/{{study}}/search/stages/{stage}/space.json" for stage in stage_numbers(config)]
    return inputs


SEARCH = StudyKind(
    name="search",
    description="a hyperparameter search, the best values retrained and tested, and the loss landscape",
    sections=DATASET_SECTIONS | {"search", "final", "landscape"},
    check=check,
    check_written=check_written,
    runs=search_runs,
    rules=rule_files,
    outputs=OUTPUTS,
    report_inputs=report_inputs,
    build_context="gridscape.report.context:context_from_files",
    summary="gridscape.summary.search:summarise",
    report_template="report.tex.j2",
    landing="workflow-search.rst",
    ignored_keys=("figures.gradient_flow_overlay", "figures.weight_histograms", "figures.scaling"),
)
