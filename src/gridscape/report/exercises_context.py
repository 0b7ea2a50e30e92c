"""The exercises kind's report context: the computed answers (``gridscape.exercises.steps``),
the figures, and the facts every report shares. Imports no torch: the report job reads files."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from gridscape.exercises.steps import build_exercises_context

from . import provenance
from .config_text import study_fields
from .helpers import figure_pdfs


def context_from_files(inputs: Mapping[str, Any], common: Mapping[str, Any]) -> dict:
    """From the render rule's named inputs (see ``gridscape.kinds.exercises.report_inputs``)."""
    config = common["config"]
    names = [run["name"] for run in config["exercises"]["trajectories"]]
    paths = {key: inputs[key] for key in ("check", "escape_csv", "escape_json", "receptive_field", "ops")}
    paths["trajectories"] = dict(zip(names, inputs["trajectories"]))
    answers = build_exercises_context(paths, config)
    report_dir = Path(common["report_dir"])
    figures = figure_pdfs(["functions", "escape", *(f"trajectory/{name}" for name in names)],
                          common["figures_dir"], report_dir)
    for name, run in answers["trajectories"].items():
        run["figure"] = figures[f"trajectory/{name}"]
    return {
        **answers,
        **study_fields(config),
        "figures": figures,
        "provenance": provenance.provenance(
            config, common.get("repo") or Path.cwd(), {},
            common.get("benchmarks") or report_dir.parent / "benchmarks",
            snakemake_version=common.get("snakemake_version"),
        ),
    }
