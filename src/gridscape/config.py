"""Study configuration: schema validation with defaults, dotted keys, and the grid's cells.

The schema (``workflow/schemas/config.schema.yaml``) says what each key is; the checks here
say what JSON Schema cannot: that an axis names a real key, that each axis value is valid for
that key. Every error names the key and what was expected, and is raised before any work.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import jsonschema
import yaml

from gridscape.data.registry import DATASETS

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
AXIS_SECTIONS = ("model", "optimizer", "train")
# The keys of the model and optimizer sections that only some choices read: setting one for
# another choice is a mistake worth stopping for (the models' registry reads this table too).
MODEL_OPTIONS = {
    "lenet5": ("activation",),
    "vgg": ("num_filters", "num_stages", "blocks_per_stage", "block"),
}
OPTIMIZER_OPTIONS = {"sgd": ("momentum",), "adam": ()}
SCHEDULE_OPTIONS = {"constant": (), "cosine": ("min_lr",)}
# Keys only a study of named experiments reads.
EXPERIMENT_ONLY_KEYS = ("experiments.test_epoch", "figures.gradient_flow_overlay")
# Sections a study of named experiments does not use (it has no grid, final model or landscape).
GRID_ONLY_SECTIONS = ("search", "final", "landscape")


class ConfigError(ValueError):
    """A study configuration that cannot be run; the message names the key."""


def load_schema(path: str | Path = SCHEMA_PATH) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _dotted(path: Iterable[Any]) -> str:
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts) or "<top level>"


def _expected(error: jsonschema.ValidationError) -> str:
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        return f"known keys are: {', '.join(allowed)}" if allowed else "no extra keys"
    if description:
        return " ".join(str(description).split())
    return f"a value satisfying {error.validator} {error.validator_value!r}"


def _fill_defaults(instance: Any, schema: Mapping) -> None:
    """Fill schema defaults into nested objects (and the objects of arrays), top-down."""
    if isinstance(instance, list) and schema.get("type") == "array" and isinstance(schema.get("items"), Mapping):
        for item in instance:
            _fill_defaults(item, schema["items"])
        return
    if not isinstance(instance, dict) or schema.get("type") != "object":
        return
    for key, subschema in schema.get("properties", {}).items():
        if key not in instance and "default" in subschema:
            instance[key] = copy.deepcopy(subschema["default"])
        if key in instance:
            _fill_defaults(instance[key], subschema)


def validate(config: Mapping, schema: Mapping | None = None) -> dict:
    """Return a copy of ``config`` with defaults filled in, or raise ConfigError."""
    schema = load_schema() if schema is None else schema
    check_unused_keys(config, schema)
    checked = copy.deepcopy(dict(config))
    _fill_defaults(checked, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(checked), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        lines = []
        for error in errors:
            key = _dotted(error.absolute_path)
            if error.validator == "additionalProperties":
                extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
                key = ", ".join(_dotted([*error.absolute_path, name]) for name in extra)
                lines.append(f"unknown config key {key}: {_expected(error)}")
            else:
                lines.append(f"config key {key}: {error.message}; expected: {_expected(error)}")
        raise ConfigError("invalid study configuration:\n  " + "\n  ".join(lines))
    if checked["experiments"]["runs"]:
        check_experiments(checked, schema)
        runs = [(f"experiments.runs[{i}] ({cell.name})", cell.apply(checked)) for i, cell in enumerate(experiment_cells(checked))]
    else:
        check_axes(checked, schema)
        check_landscape(checked["landscape"])
        runs = [(f"search cell {cell.label}", cell.apply(checked)) for cell in grid_cells(checked)]
    for where, run in runs:
        check_run(run, where)
    return checked


def check_run(config: Mapping, where: str) -> None:
    """What only a whole run's settings show: a schedule that would raise the rate, a network
    deeper than the images allow. ``where`` names the experiment or grid cell."""
    optimizer = config["optimizer"]
    if optimizer["schedule"] == "cosine" and optimizer["min_lr"] >= optimizer["lr"]:
        raise ConfigError(
            f"config key optimizer.min_lr: {optimizer['min_lr']} is not below the learning rate {optimizer['lr']} "
            f"of {where}; expected the cosine schedule to end below where it starts"
        )
    model = config["model"]
    _, height, width = DATASETS[config["dataset"]["name"]].in_shape
    if model["name"] == "vgg" and 2 ** model["num_stages"] > min(height, width):
        raise ConfigError(
            f"config key model.num_stages: {model['num_stages']} stages of {where} halve the "
            f"{height}x{width} images of {config['dataset']['name']} below one pixel; expected at most "
            f"{min(height, width).bit_length() - 1}"
        )


def get_key(config: Mapping, key: str) -> Any:
    node: Any = config
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(key)
        node = node[part]
    return node


def set_key(config: dict, key: str, value: Any) -> None:
    parts = key.split(".")
    node = config
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value


def _section(raw: Mapping, name: str) -> Mapping:
    value = raw.get(name)
    return value if isinstance(value, Mapping) else {}


# Which choice reads which keys: (dotted key of the choice, {choice: keys it reads}).
OPTION_OWNERS = {
    "model": ("model.name", MODEL_OPTIONS),
    "optimizer": ("optimizer.name", OPTIMIZER_OPTIONS),
    "schedule": ("optimizer.schedule", SCHEDULE_OPTIONS),
}


def check_unused_keys(raw: Mapping, schema: Mapping) -> None:
    """Keys that the chosen model, optimiser, schedule or kind of study would silently ignore.

    Runs on the config as written, before defaults are filled in. A key set to its default
    value is never an error, so that a config with its defaults filled in passes again.
    """
    defaults: dict = {}
    _fill_defaults(defaults, schema)
    runs = [run for run in _section(raw, "experiments").get("runs") or [] if isinstance(run, Mapping)]
    for section in GRID_ONLY_SECTIONS if runs else ():
        written = copy.deepcopy(dict(_section(raw, section)))
        _fill_defaults(written, schema["properties"][section])
        if section in raw and written != defaults[section]:
            raise ConfigError(
                f"config key {section}: a study of named experiments (experiments.runs) has no grid search, "
                f"final retraining or landscape; expected no '{section}' section (or no experiments.runs)"
            )
    if not runs:
        for key in EXPERIMENT_ONLY_KEYS:
            value = _get(raw, key)
            if value is not None and value != get_key(defaults, key):
                raise ConfigError(
                    f"config key {key}: only a study of named experiments (experiments.runs) uses it; "
                    "expected it left out in a grid-search study"
                )
    base = {
        f"{name}.{key}": value
        for name in ("model", "optimizer") for key, value in _section(raw, name).items()
        if value != get_key(defaults, f"{name}.{key}")
    }
    run_settings = [dict(run["set"]) if isinstance(run.get("set"), Mapping) else {} for run in runs]
    for effective in [{**base, **settings} for settings in run_settings] or [base]:
        for key in base:
            _check_option(effective, defaults, key, key)
    for index, settings in enumerate(run_settings):
        for key in settings:
            _check_option({**base, **settings}, defaults, key, f"experiments.runs[{index}].set.{key}")
    for index, axis in enumerate([] if runs else _section(raw, "search").get("axes") or []):
        if isinstance(axis, Mapping) and isinstance(axis.get("key"), str):
            _check_option(base, defaults, axis["key"], f"search.axes[{index}].key")


def _get(config: Mapping, key: str) -> Any:
    try:
        return get_key(config, key)
    except KeyError:
        return None


def _check_option(effective: Mapping[str, Any], defaults: Mapping, key: str, where: str) -> None:
    """``key`` is read by the model, optimiser or schedule that ``effective`` (dotted keys the
    user set) and the ``defaults`` choose."""
    section, _, option = key.partition(".")
    for selector, table in OPTION_OWNERS.values():
        if not selector.startswith(section + ".") or key == selector:
            continue
        chosen = effective.get(selector, get_key(defaults, selector))
        owners = [choice for choice, options in table.items() if option in options]
        if owners and chosen in table and chosen not in owners:
            raise ConfigError(
                f"config key {where}: {key} is read only by {selector} {' or '.join(owners)}, "
                f"but here {selector} is {chosen}; expected no {key}"
            )


def check_key(config: Mapping, key: str, where: str) -> None:
    """``key`` names an existing single-valued key of ``config``."""
    try:
        current = get_key(config, key)
    except KeyError:
        raise ConfigError(
            f"config key {where}: '{key}' is not a key of the study; expected a key "
            f"under {', '.join(AXIS_SECTIONS)} such as optimizer.lr, train.batch_size or model.activation"
        ) from None
    if isinstance(current, (dict, list)):
        raise ConfigError(f"config key {where}: '{key}' holds a {type(current).__name__}; expected a key with a single value")


def check_value(config: Mapping, validator: jsonschema.Draft202012Validator, key: str, value: Any, where: str) -> None:
    """``value`` is valid for the (existing) ``key`` of ``config``."""
    trial = copy.deepcopy(dict(config))
    set_key(trial, key, value)
    problems = list(validator.iter_errors(trial))
    if problems:
        hint = ""
        if isinstance(value, str) and _looks_like_number(value):
            hint = " (YAML reads 1e-3 as text: write 0.001 or 1.0e-3)"
        raise ConfigError(
            f"config key {where}: {value!r} is not a valid value of {key}{hint}; expected: {_expected(problems[0])}"
        )


def check_axes(config: Mapping, schema: Mapping) -> None:
    """Each axis names an existing key, and each of its values is valid for that key."""
    axes = config["search"]["axes"]
    keys = [axis["key"] for axis in axes]
    if len(set(keys)) != len(keys):
        raise ConfigError(f"config key search.axes: the same key appears twice ({keys}); expected distinct keys")
    validator = jsonschema.Draft202012Validator(schema)
    for index, axis in enumerate(axes):
        check_key(config, axis["key"], f"search.axes[{index}].key")
        for position, value in enumerate(axis["values"]):
            check_value(config, validator, axis["key"], value, f"search.axes[{index}].values[{position}]")


def check_experiments(config: Mapping, schema: Mapping) -> None:
    """Experiment names are distinct, and each one's settings are valid keys and values."""
    runs = config["experiments"]["runs"]
    names = [run["name"] for run in runs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"config key experiments.runs: the name {', '.join(repeated)} is used twice; expected distinct names")
    labels = [run["label"] or run["name"] for run in runs]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise ConfigError(
            f"config key experiments.runs: the label {', '.join(map(repr, repeated))} is shown for two experiments; "
            "expected distinct labels (a label defaults to the name), so that tables and legends tell them apart"
        )
    validator = jsonschema.Draft202012Validator(schema)
    for index, run in enumerate(runs):
        for key, value in run["set"].items():
            where = f"experiments.runs[{index}].set.{key}"
            check_key(config, key, where)
            check_value(config, validator, key, value, where)
    overlay = config["figures"]["gradient_flow_overlay"]
    unknown = [name for name in overlay if name not in names]
    if unknown:
        raise ConfigError(
            f"config key figures.gradient_flow_overlay: {', '.join(map(repr, unknown))} names no experiment; "
            f"expected some of {', '.join(names)}"
        )


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


def _looks_like_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def format_value(value: Any) -> str:
    """The text of an axis value in file names and tables: short, exact, and stable."""
    if hasattr(value, "item"):  # numpy scalars, as read back by pandas
        value = value.item()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(value)
    return str(value)


@dataclass(frozen=True)
class Cell:
    """One point of the grid, or one named experiment: its name (a file-name-safe id), the
    values it sets and, for experiments, the label shown in tables."""

    name: str
    params: dict[str, Any]
    title: str = ""

    def apply(self, config: Mapping) -> dict:
        """A copy of ``config`` with this cell's values set."""
        result = copy.deepcopy(dict(config))
        for key, value in self.params.items():
            set_key(result, key, value)
        return result

    @property
    def label(self) -> str:
        if self.title:
            return self.title
        return ", ".join(f"{key.split('.')[-1]}={format_value(value)}" for key, value in self.params.items())


def grid_cells(config: Mapping) -> list[Cell]:
    """The cells of the grid, first axis varying slowest (row-major, as in the tables)."""
    axes = config["search"]["axes"]
    cells = []
    for combination in itertools.product(*(axis["values"] for axis in axes)):
        params = {axis["key"]: value for axis, value in zip(axes, combination)}
        name = "_".join(f"{key}~{format_value(value)}" for key, value in params.items())
        cells.append(Cell(name=name, params=params))
    return cells



def settings_text(settings: Mapping[str, Any]) -> str:
    """An experiment's settings as ``key=value`` pairs, for tables."""
    return ", ".join(f"{key}={format_value(value)}" for key, value in settings.items()) or "the study's settings"


def experiment_cells(config: Mapping) -> list[Cell]:
    """The named experiments of the study, in the order of its results table."""
    return [
        Cell(name=run["name"], params=dict(run["set"]), title=run["label"] or run["name"])
        for run in config["experiments"]["runs"]
    ]


def is_experiment_study(config: Mapping) -> bool:
    return bool(config["experiments"]["runs"])
