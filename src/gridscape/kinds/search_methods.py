"""The methods of the search kind (``search.method``): which keys each reads, its rule file, its
stages, and the checks of random and staged search's space before any job.

A grid's cells are known from its axes; the trials of random and staged search are drawn by
the plan jobs, so what can be checked up front is the space itself and one run at each end of
every range and at each of its values (``probe_runs``).
"""

from __future__ import annotations

from typing import Any, Mapping

import jsonschema

from gridscape.config.errors import ConfigError
from gridscape.config.keys import format_value, get_key, section
from gridscape.config.options import check_option, written_options
from gridscape.config.schema import check_key, check_value

from .base import Run

METHODS = ("grid", "random", "staged")
SAMPLED = ("random", "staged")
# The search keys only some methods read.
METHOD_KEYS = {
    "axes": ("grid",), "fuse": ("grid",), "space": SAMPLED, "trials": ("random",), "seed": SAMPLED,
    "stages": ("staged",), "trials_per_job": SAMPLED,
}
RULE_FILES = {"grid": "search.smk", "random": "trials.smk", "staged": "trials.smk"}
KEEP_TOP_DEFAULT = 0.25  # search.stages[].keep_top in the schema


def method_of(config: Mapping) -> str:
    return section(config, "search").get("method", "grid")


def is_grid(config: Mapping) -> bool:
    return method_of(config) == "grid"


def is_sampled(config: Mapping) -> bool:
    return method_of(config) in SAMPLED


def is_staged(config: Mapping) -> bool:
    return method_of(config) == "staged"


def searched_entries(config: Mapping) -> list[Mapping[str, Any]]:
    """What a search varies, each entry with its ``key``: a grid's axes (``values``), or a
    random or staged search's space (``values``, ``low``/``high`` or ``subsets_of``); none for
    a study without a search."""
    search = section(config, "search")
    return list((search.get("axes") if method_of(config) == "grid" else search.get("space")) or [])


def searched_entry(config: Mapping, key: str) -> Mapping[str, Any]:
    """The entry that varies ``key`` ({} when the search leaves it at the study's value)."""
    return next((entry for entry in searched_entries(config) if entry.get("key") == key), {})


def stage_specs(config: Mapping) -> list[dict]:
    """Each stage's trials, epochs and keep_top: a random search is one stage of
    ``search.trials`` trials of ``train.epochs``; a grid one stage of its cells."""
    search = config["search"]
    if search["method"] == "staged":
        return [dict(stage) for stage in search["stages"]]
    if search["method"] == "random":
        return [{"trials": search["trials"], "epochs": config["train"]["epochs"], "keep_top": None}]
    return [{"trials": 0, "epochs": config["train"]["epochs"], "keep_top": None}]


def stage_numbers(config: Mapping) -> list[int]:
    return list(range(1, len(stage_specs(config)) + 1))


def check_method_keys(raw: Mapping, defaults: Mapping) -> None:
    """Keys of another method, written away from their default, are refused: a grid's axes in a
    random search would be silently ignored."""
    search = section(raw, "search")
    method = search.get("method", "grid")
    if method not in METHODS:
        return  # the schema names the allowed methods
    for key, methods in METHOD_KEYS.items():
        if key in search and method not in methods and search[key] != defaults["search"][key]:
            raise ConfigError(
                f"config key search.{key}: read only by search.method {' or '.join(methods)}, but here search.method "
                f"is {method}; expected no search.{key}"
                + (" (a random or staged search lists its hyperparameters in search.space)" if key == "axes" else "")
                + (" (a grid lists its values in search.axes)" if key == "space" else "")
            )


def check_written_space(raw: Mapping, defaults: Mapping) -> None:
    """Each hyperparameter of the space varies a key that the study's model and optimiser read;
    a staged search reads neither a first stage's keep_top nor train.epochs."""
    search = section(raw, "search")
    stages = search.get("stages") if search.get("method") == "staged" else None
    if isinstance(stages, list) and stages and all(isinstance(stage, Mapping) for stage in stages):
        # its default, as a config with the defaults filled in holds it, is no error
        if stages[0].get("keep_top", KEEP_TOP_DEFAULT) != KEEP_TOP_DEFAULT:
            raise ConfigError(
                "config key search.stages[0].keep_top: the first stage draws from the whole space, so it keeps no "
                "trials of a stage before; expected keep_top from the second stage on"
            )
        epochs, last = section(raw, "train").get("epochs"), stages[-1].get("epochs")
        if epochs is not None and epochs != last:
            raise ConfigError(
                f"config key train.epochs: {epochs}, but a staged search trains each trial for its stage's epochs "
                f"and the final model for the last stage's ({last}); expected train.epochs left out or {last}"
            )
    written = written_options(raw, defaults)
    for index, entry in enumerate(section(raw, "search").get("space") or []):
        if isinstance(entry, Mapping) and isinstance(entry.get("key"), str):
            check_option(written, defaults, entry["key"], f"search.space[{index}].key")


def check_space(config: Mapping, schema: Mapping) -> None:
    """The space of a random or staged search: each entry one kind of parameter with valid
    values for its key, and the stages' settings."""
    search = config["search"]
    method = search["method"]
    space = search["space"]
    if not space:
        raise ConfigError(
            f"config key search.space: empty, but search.method {method} draws its trials from it; expected at "
            "least one hyperparameter such as {key: optimizer.lr, low: 0.0001, high: 0.1, log: true}"
        )
    keys = [entry["key"] for entry in space]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ConfigError(f"config key search.space: {', '.join(repeated)} appears twice; expected distinct keys")
    validator = jsonschema.Draft202012Validator(schema)
    for index, entry in enumerate(space):
        check_entry(config, validator, entry, f"search.space[{index}]")
    if method == "staged":
        check_stages(config)


def check_entry(config: Mapping, validator, entry: Mapping[str, Any], where: str) -> None:
    key = entry["key"]
    forms = [name for name in ("values", "subsets_of") if name in entry] + (["low/high"] if "low" in entry or "high" in entry else [])
    if len(forms) != 1:
        raise ConfigError(
            f"config key {where}: {key} has {' and '.join(forms) if forms else 'none of low/high, values, subsets_of'}; "
            "expected exactly one of a range (low and high), values, or subsets_of"
        )
    if ("log" in entry or "integer" in entry) and forms != ["low/high"] and (entry.get("log") or entry.get("integer")):
        raise ConfigError(f"config key {where}.{'log' if entry.get('log') else 'integer'}: read only with a range (low, high); expected it left out")
    try:
        current = get_key(config, key)
    except KeyError:
        current = None
    if "subsets_of" in entry:
        if not isinstance(current, list):
            raise ConfigError(
                f"config key {where}.subsets_of: {key} holds {'nothing' if current is None else 'a single value'}; "
                "expected a list-valued key such as train.augmentation (a single-valued key takes values or low/high)"
            )
        check_value(config, validator, key, list(entry["subsets_of"]), f"{where}.subsets_of")
        dropped = [member for member in current if member not in entry["subsets_of"]]
        if dropped:
            raise ConfigError(
                f"config key {where}.subsets_of: every trial sets {key} to a subset of {list(entry['subsets_of'])}, "
                f"which would drop the study's own {dropped}; expected them among subsets_of (or left out of {key})"
            )
        return
    check_key(config, key, f"{where}.key")
    if key == "train.epochs" and config["search"]["method"] == "staged":
        raise ConfigError(
            f"config key {where}.key: train.epochs in a staged search's space, but each stage sets its trials' "
            "epochs (search.stages[].epochs); expected it left out of search.space"
        )
    if "values" in entry:
        for position, value in enumerate(entry["values"]):
            check_value(config, validator, key, value, f"{where}.values[{position}]")
        return
    if "low" not in entry or "high" not in entry:
        raise ConfigError(f"config key {where}: {key} has only {'low' if 'low' in entry else 'high'}; expected both low and high")
    low, high = entry["low"], entry["high"]
    if low >= high:
        raise ConfigError(f"config key {where}.low: {low} is not below high {high}; expected low < high")
    if entry.get("log") and low <= 0:
        raise ConfigError(f"config key {where}.low: {low} with log: true; expected low above 0 (a log-uniform range)")
    if key_type(validator.schema, key) == "integer" and not entry.get("integer"):
        raise ConfigError(
            f"config key {where}.integer: {key} takes whole numbers, but a range without integer: true draws "
            f"real ones; expected integer: true (or a list of values)"
        )
    if entry.get("integer"):
        for name in ("low", "high"):
            if float(entry[name]) != int(entry[name]):
                raise ConfigError(f"config key {where}.{name}: {entry[name]} with integer: true; expected a whole number")
    for name in ("low", "high"):
        value = int(entry[name]) if entry.get("integer") else entry[name]
        check_value(config, validator, key, value, f"{where}.{name}")


def key_type(schema: Mapping, key: str) -> Any:
    """The JSON type the schema gives a dotted key (None where it names none)."""
    node: Any = schema
    for part in key.split("."):
        node = (node.get("properties") or {}).get(part, {}) if isinstance(node, Mapping) else {}
    return node.get("type") if isinstance(node, Mapping) else None


def check_stages(config: Mapping) -> None:
    stages = config["search"]["stages"]
    if not stages:
        raise ConfigError(
            "config key search.stages: empty, but search.method staged searches in stages; expected a list such as "
            "[{trials: 60, epochs: 1}, {trials: 20, epochs: 5, keep_top: 0.25}]"
        )


def probe_runs(config: Mapping) -> list[Run]:
    """Runs at each end of every range and at each listed value (each with the other keys at
    the study's values): what ``check_run`` must see before any trial is drawn."""
    runs = []
    for index, entry in enumerate(config["search"]["space"]):
        key = entry["key"]
        if "subsets_of" in entry:
            choices = [list(entry["subsets_of"])]
        elif "values" in entry:
            choices = list(entry["values"])
        else:
            choices = [int(entry[end]) if entry.get("integer") else entry[end] for end in ("low", "high")]
        for value in choices:
            name = f"space{index}-{format_value(value)}"
            runs.append(Run(name, {key: value}, where=f"search.space[{index}] at {key}={format_value(value)}"))
    return runs
