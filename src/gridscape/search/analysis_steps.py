"""The search analysis as one job: the importance and marginals tables and every figure of
them, from search/trials.csv, the stages' space.json and best.json (one process instead of
six: each would spend longer starting than drawing). Torch-free."""

from __future__ import annotations

import logging
from typing import Mapping, Sequence

from gridscape import io

from .analysis import importance, marginals, merge_spaces, read_spaces, read_trials

log = logging.getLogger(__name__)


def run_search_analysis(
    trials_path: str, space_paths: Sequence[str], best_path: str, metric: str, seed: int,
    outputs: Mapping[str, Sequence[str] | str],
) -> None:
    """Write ``outputs``: ``importance`` and ``marginals`` (CSV), ``page`` (the interactive
    parallel coordinates, HTML), and the figures ``parallel``, ``history``,
    ``importance_figure``, ``marginals_figure`` and, where named, ``stages`` (each its PNG and
    PDF paths)."""
    from gridscape.plots.search_analysis import (
        plot_search_history, plot_search_importance, plot_search_marginals, plot_search_parallel, plot_search_stages,
    )

    trials = read_trials(trials_path)
    spaces = read_spaces(space_paths)
    params = merge_spaces(spaces)
    chosen = io.read_json(best_path)
    # a grid's best.json names its row of grid.csv, whose order trials.csv keeps
    best = chosen["trial"] if "trial" in chosen else trials["trial"].iloc[int(chosen["grid_row"])]
    table = importance(trials, params, metric, seed)
    io.write_csv(outputs["importance"], table)
    io.write_csv(outputs["marginals"], marginals(trials, params, metric))
    top = table.head(3)
    log.info("importance of %d parameters over %d usable trials (of %d); most important: %s", len(table),
             int(table["n_trials"].iloc[0]) if len(table) else 0, len(trials),
             ", ".join(f"{p} {v:.2f}" for p, v in zip(top["param"], top["importance"])))
    plot_search_parallel(trials, params, metric, list(outputs["parallel"]), best=best)
    if "page" in outputs:
        from gridscape.plots.parallel_html import parallel_page

        io.write_text(outputs["page"], parallel_page(trials, params, metric, best=best))
    plot_search_history(trials, metric, list(outputs["history"]), best=best, spaces=spaces)
    plot_search_importance(table, metric, list(outputs["importance_figure"]))
    plot_search_marginals(trials, params, metric, list(outputs["marginals_figure"]))
    if "stages" in outputs:
        plot_search_stages(spaces, list(outputs["stages"]), trials=trials)
