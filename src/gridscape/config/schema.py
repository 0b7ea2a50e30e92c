"""The config schema: loading it, filling its defaults, and checking one key's value against it.

The schema (``workflow/schemas/config.schema.yaml``) says what each key is; every error here
names the key and what was expected.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Collection, Mapping

import jsonschema
import yaml

from .errors import ConfigError
from .keys import dotted, get_key, set_key

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "config.schema.yaml"
AXIS_SECTIONS = ("model", "optimizer", "train")


def load_schema(path: str | Path = SCHEMA_PATH) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def fill_defaults(instance: Any, schema: Mapping, only: Collection[str] | None = None) -> None:
    """Fill schema defaults into nested objects (and the objects of arrays), top-down;
    ``only`` limits the top level to those keys (the sections a study's kind reads)."""
    if isinstance(instance, list) and schema.get("type") == "array" and isinstance(schema.get("items"), Mapping):
        for item in instance:
            fill_defaults(item, schema["items"])
        return
    if not isinstance(instance, dict) or schema.get("type") != "object":
        return
    properties = schema.get("properties", {})
    for key, subschema in properties.items():
        if only is not None and key not in only:
            continue
        if key not in instance and "default" in subschema:
            instance[key] = copy.deepcopy(subschema["default"])
        if key in instance:
            fill_defaults(instance[key], subschema)
    # a map of named objects (exercises.functions): each object gets its own defaults
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping) and only is None:
        for key in instance:
            if key not in properties:
                fill_defaults(instance[key], extra)


def in_schema_order(instance: Any, schema: Mapping | None) -> Any:
    """``instance`` with every mapping's keys in one order: the schema's properties first, in
    the schema's order, then any other keys sorted. The same settings written in any order
    give the same config, so rule parameters built from it, and Snakemake's rerun triggers that
    compare them, depend on what a study says, not on how its file is laid out. Lists keep
    their order (it means something: the axes, the runs)."""
    schema = schema if isinstance(schema, Mapping) else {}
    if isinstance(instance, Mapping):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        known = [key for key in properties if key in instance]
        others = sorted((key for key in instance if key not in properties), key=str)
        return {
            key: in_schema_order(instance[key], properties.get(key, extra if isinstance(extra, Mapping) else None))
            for key in known + others
        }
    if isinstance(instance, list):
        items = schema.get("items")
        return [in_schema_order(item, items if isinstance(items, Mapping) else None) for item in instance]
    return instance


def defaults_of(schema: Mapping) -> dict:
    """Every section with every default filled in."""
    defaults: dict = {}
    fill_defaults(defaults, schema)
    return defaults


def expected(error: jsonschema.ValidationError) -> str:
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        return f"known keys are: {', '.join(allowed)}" if allowed else "no extra keys"
    if description:
        return " ".join(str(description).split())
    return f"a value satisfying {error.validator} {error.validator_value!r}"


def check_schema(config: Mapping, schema: Mapping) -> None:
    """Every schema error at once, each naming its key."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if not errors:
        return
    lines = []
    for error in errors:
        key = dotted(error.absolute_path)
        if error.validator == "additionalProperties":
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            key = ", ".join(dotted([*error.absolute_path, name]) for name in extra)
            lines.append(f"unknown config key {key}: {expected(error)}")
        else:
            lines.append(f"config key {key}: {error.message}; expected: {expected(error)}")
    raise ConfigError("invalid study configuration:\n  " + "\n  ".join(lines))


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
            f"config key {where}: {value!r} is not a valid value of {key}{hint}; expected: {expected(problems[0])}"
        )


def _looks_like_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
