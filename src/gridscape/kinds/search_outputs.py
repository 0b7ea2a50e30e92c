"""The search analysis's declared files (workflow/rules/search_analysis.smk): W&B's parameter
importance offline and the figures of every trial, for every search method (grid, random and
staged search all write ``search/trials.csv``)."""

from __future__ import annotations

from typing import Mapping

from .base import figure, result

CATEGORY = "Search analysis"


def has_stages(config: Mapping) -> bool:
    """A staged search of more than one stage: its space narrows from stage to stage."""
    search = config.get("search") or {}
    return search.get("method") == "staged" and len(search.get("stages") or []) > 1


ANALYSIS_OUTPUTS = (
    result("search/importance.csv", "search_importance_table", CATEGORY, "Tables", "parameter importance (table)"),
    result("search/marginals.csv", "search_marginals_table", CATEGORY, "Tables", "metric per parameter value (table)"),
    result("search/parallel.html", "search_parallel_page", CATEGORY, "Trials", "parallel coordinates (interactive)"),
    figure("search_parallel", CATEGORY, "Trials", "parallel coordinates"),
    figure("search_history", CATEGORY, "Trials", "metric per trial"),
    figure("search_importance", CATEGORY, "Parameters", "parameter importance"),
    figure("search_marginals", CATEGORY, "Parameters", "metric per parameter value"),
    figure("search_stages", CATEGORY, "Stages", "space per stage", when=has_stages),
)
