"""The final model's settings, resolved once: the study's training config with the best
cell's values set, and the data it is trained on. Every later step (training, testing, the
layer table, the landscape) reads this one file, results/{study}/final/config.json."""

from __future__ import annotations

from typing import Any, Mapping

from gridscape.config.keys import with_values
from gridscape.kinds.search_methods import searched_entry


def resolve_final(config: Mapping, best: Mapping, train_on: str) -> dict[str, Any]:
    """``{"params": the best values, "train_on": ..., "config": config with them set}``."""
    params = dict(best["params"])
    return {"params": params, "train_on": train_on, "config": with_values(config, params)}


NORMALISATION_KEY = "train.normalization"


def saves_normalisation(config: Mapping) -> bool:
    """Whether train_final writes final/normalisation.safetensors (the mean and std images the
    final model is normalised with): when the study normalises with 'pixel', or when its
    search varies train.normalization (the final model's then depends on the best values; a
    final model that ends up with 'dataset' or 'none' gets the statistics those apply). Other
    studies, a grid over 'dataset' and 'none' included, keep their outputs as they were."""
    if config["train"]["normalization"] == "pixel":
        return True
    return "pixel" in searched_entry(config, NORMALISATION_KEY).get("values", [])
