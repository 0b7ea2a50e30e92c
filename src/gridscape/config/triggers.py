"""What of a study's config retrains its models when it changes (Snakemake's params trigger):
the dataset's name and the sections that shape training, not the mirror, figures or landscape.

Keys added to the schema after studies already had results (``ADDED_KEYS``) are left out while
they hold their default: at the default they change nothing a model computes (the default
LeNet-5, initialisation, penalty and augmentations are bit-identical to before,
tests/test_lab_options.py), so those studies keep their trained models instead of retraining
every one of them for a key they never set.
"""

from __future__ import annotations

import copy
from typing import Mapping

from .keys import get_or_none

TRAINING_SECTIONS = ("split", "model", "optimizer", "train", "device")
# the LeNet-5 lab's keys (issue 17), the data-size keys (issue 18), the MLP's (issue 16)
ADDED_KEYS = ("model.batch_norm", "model.init", "optimizer.l1", "train.flip_p", "train.crop_padding",
              "train.per_class", "train.min_epoch_size", "model.depth",
              "model.hidden_layers", "model.hidden_size", "model.dropout")


def training_settings(config: Mapping, defaults: Mapping) -> dict:
    """The settings that retrain a model when they change, less ``ADDED_KEYS`` at their default."""
    settings = {"dataset": {"name": config["dataset"]["name"]},
                **{name: copy.deepcopy(config[name]) for name in TRAINING_SECTIONS}}
    for key in ADDED_KEYS:
        section, _, option = key.partition(".")
        if option in settings[section] and settings[section][option] == get_or_none(defaults, key):
            del settings[section][option]
    return settings

