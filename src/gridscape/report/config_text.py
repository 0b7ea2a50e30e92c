"""The config as run, as YAML for the report's appendix."""

from __future__ import annotations

from typing import Any, Mapping

import yaml




class _ConfigDumper(yaml.SafeDumper):
    """Block style for mappings, flow style for lists of scalars, folded style for long text."""


def _represent_str(dumper: yaml.SafeDumper, text: str):
    if len(text) > 60 or "\n" in text:
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=">")
    return dumper.represent_scalar("tag:yaml.org,2002:str", text)


def _represent_list(dumper: yaml.SafeDumper, items: list):
    flow = all(not isinstance(item, (dict, list)) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)


_ConfigDumper.add_representer(str, _represent_str)
_ConfigDumper.add_representer(list, _represent_list)

# Characters per line of the appendix's typewriter block (\small on the report's text width).
CONFIG_WIDTH = 84


def config_yaml(config: Mapping) -> str:
    """The config as run, as YAML (keys in the schema's order, as validation leaves them)."""
    return yaml.dump(
        _plain(config), Dumper=_ConfigDumper, sort_keys=False, width=CONFIG_WIDTH - 4,
        allow_unicode=True, default_flow_style=False,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def study_fields(config: Mapping) -> dict:
    """What every report's context starts with: the study's name, title and config (as run)."""
    return {
        "study": config["study"],
        "title": config.get("title") or config["study"],
        "config": config,
        "config_yaml": config_yaml(config),
    }
