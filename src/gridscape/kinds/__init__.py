"""The registry of study kinds: each kind is one module here that declares what it reads,
checks, runs, writes and reports (see ``base.StudyKind``). The workflow, the config check and
the report read the kind of a study from here instead of branching on it.

Adding a kind: a module beside these with its ``StudyKind``, its entry in ``KINDS``, its
section in the config schema, its rule file(s) and its report template (README, "Adding a
study kind").
"""

from __future__ import annotations

from typing import Mapping

from gridscape.config.errors import ConfigError

from .autoencoder import AUTOENCODER
from .base import Output, Run, StudyKind
from .exercises import EXERCISES
from .experiments import EXPERIMENTS
from .search import SEARCH

KINDS: dict[str, StudyKind] = {kind.name: kind for kind in (SEARCH, EXPERIMENTS, EXERCISES, AUTOENCODER)}


def infer_kind(config: Mapping) -> str:
    """The kind of a study that does not name one: named experiments when it lists runs,
    exercises when it has an exercises section, else a search (the two kinds that existed
    before ``kind:``, and the one whose section says what it is)."""
    if "exercises" in config:
        return "exercises"
    if "autoencoder" in config:
        return "autoencoder"
    experiments = config.get("experiments")
    if isinstance(experiments, Mapping) and experiments.get("runs"):
        return "experiments"
    return "search"


def kind_of(config: Mapping) -> StudyKind:
    """The study's kind: its ``kind`` key, or inferred when it has none."""
    name = config.get("kind") or infer_kind(config)
    if not isinstance(name, str) or name not in KINDS:
        raise ConfigError(f"config key kind: {name!r} is not a kind of study; expected one of {', '.join(KINDS)}")
    return KINDS[name]


__all__ = ["KINDS", "Output", "Run", "StudyKind", "infer_kind", "kind_of"]
