"""The report's steps from input files to result files, as the workflow's scripts call them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping

import pandas as pd

from gridscape import io
from gridscape.data.registry import DATASETS
from gridscape.models import build_model

from .compile import compile_pdf
from .context import ReportInputs, build_context
from .experiments_context import ExperimentReportInputs, build_experiments_context
from .latex import render
from .model_summary import forward_check

log = logging.getLogger(__name__)

MAIN_TEMPLATE = "report.tex.j2"
EXPERIMENTS_TEMPLATE = "experiments_report.tex.j2"


def final_model_config(config: Mapping, best: Mapping | None) -> dict:
    """``config`` with the chosen grid values set (the final model's architecture)."""
    from gridscape.study import best_config

    return best_config(config, best) if best else dict(config)


def run_model_summary(
    config: Mapping, best_path: str | None, model_path: str | None, csv_path: str, check_path: str
) -> dict:
    """The layer table and the forward check of the final model (weights loaded when given)."""
    final = final_model_config(config, io.read_json(best_path) if best_path else None)
    spec = DATASETS[final["dataset"]["name"]]
    model = build_model(final["model"], spec.in_shape, spec.num_classes)
    if model_path:
        model.load_state_dict(io.read_safetensors(model_path), strict=True)
    rows, check = forward_check(model, spec.in_shape, spec.num_classes)
    check["weights"] = "final model" if model_path else "fresh initialisation"
    io.write_csv(csv_path, pd.DataFrame(rows))
    io.write_json(check_path, check)
    if not check["ok"]:
        raise RuntimeError(f"forward check failed: {check}")
    log.info("model summary: %d layers, %d parameters, output %s", len(rows), check["parameters"], check["output_shape"])
    return check


def run_render(inputs: ReportInputs | ExperimentReportInputs, template_dir: str | Path, tex_path: str | Path) -> dict:
    """Render the report's LaTeX from the result files: the grid-search report, or the report
    of a study of named experiments when ``inputs`` are an ``ExperimentReportInputs``."""
    if isinstance(inputs, ExperimentReportInputs):
        context, template = build_experiments_context(inputs), EXPERIMENTS_TEMPLATE
    else:
        context, template = build_context(inputs), MAIN_TEMPLATE
    text = render(template_dir, template, context)
    io.write_text(tex_path, text)
    log.info("wrote %s (%d characters)", tex_path, len(text))
    return context


def run_compile(tex_path: str | Path, pdf_path: str | Path | None = None) -> Path:
    """latexmk in the report's folder; the PDF lands beside the .tex."""
    pdf = compile_pdf(tex_path)
    if pdf_path is not None and Path(pdf_path).resolve() != pdf:
        raise RuntimeError(f"latexmk wrote {pdf}, but the rule expects {pdf_path}")
    log.info("compiled %s", pdf)
    return pdf
