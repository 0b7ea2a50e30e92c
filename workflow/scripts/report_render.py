"""Render the report's LaTeX from the result files; the study's kind builds the context."""

from pathlib import Path

from gridscape.logs import log_to_file
from gridscape.report.steps import run_render

log = log_to_file(snakemake.log[0])
params = snakemake.params
inputs = {name: snakemake.input[name] for name in params.input_names}
common = dict(
    config=params.config,
    report_dir=Path(snakemake.output.tex).parent,
    figures_dir=Path(params.figures_dir),
    benchmarks=Path(params.benchmarks),
    repo=Path(params.repo),
    snakemake_version=params.snakemake_version,
)
run_render(params.kind, inputs, common, params.template_dir, snakemake.output.tex)
