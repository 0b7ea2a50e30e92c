"""The one error of the config check."""


class ConfigError(ValueError):
    """A study configuration that cannot be run; the message names the key."""
