"""Dotted keys (``optimizer.lr``) of a study's config: reading, setting, and their values' text."""

from __future__ import annotations

import copy
from typing import Any, Iterable, Mapping


def get_key(config: Mapping, key: str) -> Any:
    node: Any = config
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(key)
        node = node[part]
    return node


def get_or_none(config: Mapping, key: str) -> Any:
    try:
        return get_key(config, key)
    except KeyError:
        return None


def set_key(config: dict, key: str, value: Any) -> None:
    parts = key.split(".")
    node = config
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value


def with_values(config: Mapping, values: Mapping[str, Any]) -> dict:
    """A copy of ``config`` with the dotted keys of ``values`` set."""
    result = copy.deepcopy(dict(config))
    for key, value in values.items():
        set_key(result, key, value)
    return result


def dotted(path: Iterable[Any]) -> str:
    """A JSON path (``['search', 'axes', 0, 'key']``) as the user writes it: search.axes[0].key."""
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts) or "<top level>"


def section(raw: Mapping, name: str) -> Mapping:
    value = raw.get(name)
    return value if isinstance(value, Mapping) else {}


def format_value(value: Any) -> str:
    """The text of an axis value in file names and tables: short, exact, and stable."""
    if hasattr(value, "item"):  # numpy scalars, as read back by pandas
        value = value.item()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def settings_text(settings: Mapping[str, Any]) -> str:
    """An experiment's settings as ``key=value`` pairs, for tables."""
    return ", ".join(f"{key}={format_value(value)}" for key, value in settings.items()) or "the study's settings"
