"""The final model's settings, resolved once: the study's training config with the best
cell's values set, and the data it is trained on. Every later step (training, testing, the
layer table, the landscape) reads this one file, results/{study}/final/config.json."""

from __future__ import annotations

from typing import Any, Mapping

from gridscape.config.keys import with_values


def resolve_final(config: Mapping, best: Mapping, train_on: str) -> dict[str, Any]:
    """``{"params": the best values, "train_on": ..., "config": config with them set}``."""
    params = dict(best["params"])
    return {"params": params, "train_on": train_on, "config": with_values(config, params)}
