"""A study's configuration: the schema with its defaults, dotted keys, and the checks that run
before any work (each error names the key and what was expected)."""

from .errors import ConfigError
from .keys import format_value, get_key, set_key, settings_text, with_values
from .options import MODEL_OPTIONS
from .schema import SCHEMA_PATH, load_schema
from .validate import check_run, validate

__all__ = [
    "ConfigError", "MODEL_OPTIONS", "SCHEMA_PATH", "check_run", "format_value", "get_key", "load_schema",
    "set_key", "settings_text", "validate", "with_values",
]
