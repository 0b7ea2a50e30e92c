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

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
AXIS_SECTIONS = ("model", "optimizer", "train")


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
    """Fill schema defaults into nested objects, top-down, as Snakemake's validate does."""
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
    check_axes(checked, schema)
    check_landscape(checked["landscape"])
    return checked


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


def check_axes(config: Mapping, schema: Mapping) -> None:
    """Each axis names an existing key, and each of its values is valid for that key."""
    axes = config["search"]["axes"]
    keys = [axis["key"] for axis in axes]
    if len(set(keys)) != len(keys):
        raise ConfigError(f"config key search.axes: the same key appears twice ({keys}); expected distinct keys")
    validator = jsonschema.Draft202012Validator(schema)
    for index, axis in enumerate(axes):
        where = f"search.axes[{index}]"
        try:
            current = get_key(config, axis["key"])
        except KeyError:
            raise ConfigError(
                f"config key {where}.key: '{axis['key']}' is not a key of the study; expected a key "
                f"under {', '.join(AXIS_SECTIONS)} such as optimizer.lr, train.batch_size or model.activation"
            ) from None
        if isinstance(current, (dict, list)):
            raise ConfigError(f"config key {where}.key: '{axis['key']}' holds a {type(current).__name__}; expected a key with a single value")
        for position, value in enumerate(axis["values"]):
            trial = copy.deepcopy(dict(config))
            set_key(trial, axis["key"], value)
            problems = list(validator.iter_errors(trial))
            if problems:
                hint = ""
                if isinstance(value, str) and _looks_like_number(value):
                    hint = " (YAML reads 1e-3 as text: write 0.001 or 1.0e-3)"
                raise ConfigError(
                    f"config key {where}.values[{position}]: {value!r} is not a valid value of "
                    f"{axis['key']}{hint}; expected: {_expected(problems[0])}"
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
    """One point of the grid: its name (a file-name-safe id) and its axis values."""

    name: str
    params: dict[str, Any]

    def apply(self, config: Mapping) -> dict:
        """A copy of ``config`` with this cell's values set."""
        result = copy.deepcopy(dict(config))
        for key, value in self.params.items():
            set_key(result, key, value)
        return result

    @property
    def label(self) -> str:
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

