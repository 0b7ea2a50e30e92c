"""Render the report's LaTeX from the result files (a grid-search or an experiments study)."""

from pathlib import Path

from gridscape.logs import log_to_file
from gridscape.report.context import ReportInputs
from gridscape.report.experiments_context import ExperimentReportInputs
from gridscape.report.steps import run_render

log = log_to_file(snakemake.log[0])
inputs = snakemake.input
params = snakemake.params
common = dict(
    config=params.config,
    counts=Path(inputs.counts),
    report_dir=Path(snakemake.output.tex).parent,
    figures_dir=Path(params.figures_dir),
    benchmarks=Path(params.benchmarks),
    repo=Path(params.repo),
    snakemake_version=params.snakemake_version,
)
if params.experiments:
    report_inputs = ExperimentReportInputs(
        **common,
        results=Path(inputs.results),
        gradient_flows=dict(zip(params.experiments, map(Path, inputs.gradient_flows))),
    )
else:
    landscape_files = ("directions", "diagnostics", "surface", "line", "interpolation")
    report_inputs = ReportInputs(
        **common,
        split=Path(inputs.split),
        grid=Path(inputs.grid),
        best=Path(inputs.best),
        metrics=Path(inputs.metrics),
        history=Path(inputs.history),
        model_summary=Path(inputs.model_summary),
        forward_check=Path(inputs.forward_check),
        landscape={key: Path(inputs[key]) if key in inputs.keys() else None for key in landscape_files},
    )
run_render(report_inputs, params.template_dir, snakemake.output.tex)
