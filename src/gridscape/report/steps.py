"""The report's steps from input files to result files, as the workflow's scripts call them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping

import pandas as pd

from gridscape import io
from gridscape.data.registry import DATASETS

from .compile import compile_pdf
from .latex import render

log = logging.getLogger(__name__)

def run_model_summary(final: Mapping, model_path: str | None, csv_path: str, check_path: str) -> dict:
    """The layer table and the forward check of the model that ``final`` configures (the
    final model's resolved config), with the weights of ``model_path`` when given."""
    from gridscape.models import build_model  # torch: this step only, not every report job

    from .model_summary import forward_check

    spec = DATASETS[final["dataset"]["name"]]
    model = build_model(final["model"], spec.in_shape, spec.num_classes)
    if model_path:
        model.load_state_dict(io.read_safetensors(model_path), strict=True)
    rows, check = forward_check(model, spec.in_shape, spec.num_classes)
    check["weights"] = "final model" if model_path else "fresh initialisation"
    # receptive field and jump are undefined after a fully connected layer: integers with gaps
    io.write_csv(csv_path, pd.DataFrame(rows).astype({"receptive_field": "Int64", "jump": "Int64"}))
    io.write_json(check_path, check)
    if not check["ok"]:
        raise RuntimeError(f"forward check failed: {check}")
    log.info("model summary: %d layers, %d parameters, output %s", len(rows), check["parameters"], check["output_shape"])
    return check


def run_render(kind_name: str, inputs: Mapping, common: Mapping, template_dir: str | Path, tex_path: str | Path) -> dict:
    """Render the report's LaTeX from the result files: the kind of the study builds the
    context from its named ``inputs`` and names the template."""
    from gridscape.kinds import KINDS

    kind = KINDS[kind_name]
    context, template = kind.context(inputs, common), kind.report_template
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
