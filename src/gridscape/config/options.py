"""Keys that the chosen model, optimiser or schedule would silently ignore.

A key of the model or optimizer section that only some choices read (``model.block`` is
VGG's) is a mistake worth stopping for when another choice is made. The check runs on the
config as written, before defaults are filled in; a key set to its default value is never an
error, so that a config with its defaults filled in passes again.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from .errors import ConfigError
from .keys import get_key, section

# The keys of the model and optimizer sections that only some choices read (the models'
# registry reads this table too).
MODEL_OPTIONS = {
    "lenet5": ("activation", "batch_norm"),
    "vgg": ("num_filters", "num_stages", "blocks_per_stage", "block", "residual"),
    "resnet": ("depth",),
    "mlp": ("activation", "hidden_layers", "hidden_size", "dropout"),
}
OPTIMIZER_OPTIONS = {"sgd": ("momentum",), "adam": ()}
SCHEDULE_OPTIONS = {"constant": (), "cosine": ("min_lr",)}
# Which choice reads which keys: (dotted key of the choice, {choice: keys it reads}).
OPTION_OWNERS = {
    "model": ("model.name", MODEL_OPTIONS),
    "optimizer": ("optimizer.name", OPTIMIZER_OPTIONS),
    "schedule": ("optimizer.schedule", SCHEDULE_OPTIONS),
}
OPTION_SECTIONS = ("model", "optimizer")
# train keys that parameterise one augmentation, the augmentations that read each, and its default
AUGMENTATION_OPTIONS = {"train.flip_p": (("hflip", "vflip"), 0.5), "train.crop_padding": (("crop",), 4)}
AUGMENTATION_KEYS = tuple(AUGMENTATION_OPTIONS)


def written_options(raw: Mapping, defaults: Mapping) -> dict[str, Any]:
    """The model and optimizer keys the study sets to something other than their default."""
    return {
        f"{name}.{key}": value
        for name in OPTION_SECTIONS for key, value in section(raw, name).items()
        if value != get_key(defaults, f"{name}.{key}")
    }


def check_options(raw: Mapping, defaults: Mapping, variants: Iterable[tuple[str, Mapping[str, Any]]] = ()) -> None:
    """Each written option is read by the choices in force; ``variants`` are the settings that
    runs add on top of the study's (where they are written, such as ``experiments.runs[0].set``,
    and the settings)."""
    base = written_options(raw, defaults)
    variants = list(variants)
    for effective in [{**base, **settings} for _, settings in variants] or [base]:
        for key in base:
            check_option(effective, defaults, key, key)
    for where, settings in variants:
        for key in settings:
            check_option({**base, **settings}, defaults, key, f"{where}.{key}")


def check_option(effective: Mapping[str, Any], defaults: Mapping, key: str, where: str) -> None:
    """``key`` is read by the model, optimiser or schedule that ``effective`` (dotted keys the
    user set) and the ``defaults`` choose."""
    section_name, _, option = key.partition(".")
    for selector, table in OPTION_OWNERS.values():
        if not selector.startswith(section_name + ".") or key == selector:
            continue
        chosen = effective.get(selector, get_key(defaults, selector))
        owners = [choice for choice, options in table.items() if option in options]
        if owners and chosen in table and chosen not in owners:
            raise ConfigError(
                f"config key {where}: {key} is read only by {selector} {' or '.join(owners)}, "
                f"but here {selector} is {chosen}; expected no {key}"
            )
