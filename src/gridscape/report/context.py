"""The template context: every number the report prints, read from the study's result files.

Nothing here is typed in: sizes come from ``class_counts.csv``, the grid from ``grid.csv``
and ``best.json``, the final model from ``final/metrics.json`` and ``final/history.csv``, the
layer table from ``model_summary.csv``, the landscape from its JSON files. This module
assembles the search kind's context from the section contexts (``data_context``,
``search_context``, ``landscape_context``), which compute every claim, so the templates only
put it into words.

Strings that come from a config or a dataset are passed raw, and the templates escape them;
values whose key ends in ``_tex`` are already LaTeX (built from escaped parts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from gridscape import io
from gridscape.search.analysis import read_trials

from . import provenance
from .latex import join_words
from .helpers import ALL_FIGURES, LANDSCAPE_FIGURES, dig, figure_pdfs
from .config_text import study_fields
from .data_context import augment_context, data_context, network_context
from .landscape_context import landscape_context
from .search_context import final_context, search_context
from .search_analysis_context import analysis_context, no_analysis
from .trials_context import trials_search_context


@dataclass
class ReportInputs:
    """Where the result files are. Landscape paths may be None (landscape disabled)."""

    config: Mapping
    split: Path
    counts: Path
    grid: Path | None
    best: Path
    metrics: Path
    history: Path
    model_summary: Path
    forward_check: Path
    report_dir: Path
    figures_dir: Path
    benchmarks: Path | None = None
    repo: Path | None = None
    landscape: dict[str, Path | None] = field(default_factory=dict)
    snakemake_version: str | None = None
    trials: Path | None = None  # search/trials.csv (every method)
    importance: Path | None = None  # search/importance.csv (every method)
    spaces: list[Path] = field(default_factory=list)  # the stages' space.json (random, staged)


def figure_paths(inputs: ReportInputs, landscape_enabled: bool) -> dict[str, str]:
    """Figure name -> path of its PDF relative to the report folder ('' when it does not exist)."""
    names = [name for name in ALL_FIGURES if landscape_enabled or name not in LANDSCAPE_FIGURES]
    return {name: "" for name in ALL_FIGURES} | figure_pdfs(names, inputs.figures_dir, inputs.report_dir)


def build_context(inputs: ReportInputs) -> dict:
    """Everything the templates print, from the result files named in ``inputs``."""
    config = inputs.config
    counts = pd.read_csv(inputs.counts, dtype={"class": str})
    best = io.read_json(inputs.best)
    metrics = io.read_json(inputs.metrics)
    history = pd.read_csv(inputs.history)
    layers = pd.read_csv(inputs.model_summary)
    forward = io.read_json(inputs.forward_check)

    data = data_context(config, counts, forward)
    # the section describes the final model's inputs: a search may have chosen the normalisation
    data["normalization"] = best.get("params", {}).get("train.normalization", data["normalization"])
    spaces = [io.read_json(path) for path in inputs.spaces]
    trials = read_trials(inputs.trials) if inputs.trials is not None else None
    if inputs.grid is not None:
        search = search_context(config, pd.read_csv(inputs.grid), best, data["n_val"])
    else:
        search = trials_search_context(config, trials, best, spaces, data["n_val"], data["n_classes"])
    analysis = (analysis_context(config, trials, pd.read_csv(inputs.importance), spaces)
                if inputs.importance is not None and trials is not None else no_analysis(config))
    final = final_context(config, metrics, history, data, search)
    landscape_enabled = bool(dig(config, "landscape.enabled", False))
    figures = figure_paths(inputs, landscape_enabled)
    return {
        **study_fields(config),
        "data": data,
        "network": network_context(config, layers, forward),
        "search": search,
        "analysis": analysis,
        "final": final,
        "augment": augment_context(config, best.get("params")),
        "landscape": landscape_context(config, inputs.landscape or {}, figures, data["n_classes"]),
        "figures": figures,
        "provenance": provenance.provenance(
            config, inputs.repo or Path.cwd(), metrics, inputs.benchmarks or Path(inputs.report_dir).parent / "benchmarks",
            snakemake_version=inputs.snakemake_version,
        ),
    }


LANDSCAPE_FILES = ("directions", "diagnostics", "surface", "line", "interpolation")


def context_from_files(inputs: Mapping[str, Any], common: Mapping[str, Any]) -> dict:
    """The search kind's report context from the render rule's named inputs (see
    ``gridscape.kinds.search.report_inputs``) and the facts every report shares."""
    files = {name: Path(inputs[name]) for name in (
        "split", "counts", "best", "metrics", "history", "model_summary", "forward_check")}
    optional = {name: Path(inputs[name]) if name in inputs else None for name in ("grid", "trials", "importance")}
    spaces = [Path(path) for path in inputs.get("spaces", [])]
    landscape = {name: Path(inputs[name]) if name in inputs else None for name in LANDSCAPE_FILES}
    return build_context(ReportInputs(**common, **files, **optional, spaces=spaces, landscape=landscape))


__all__ = ["ReportInputs", "build_context", "context_from_files", "dig", "join_words"]
