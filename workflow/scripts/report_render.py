"""Render the report's LaTeX from the result files."""

from pathlib import Path

from gridscape.logs import log_to_file
from gridscape.report.context import ReportInputs
from gridscape.report.steps import run_render

log = log_to_file(snakemake.log[0])
inputs = snakemake.input
landscape = {
    key: Path(inputs[key]) if key in inputs.keys() else None
    for key in ("directions", "diagnostics", "surface", "line", "interpolation")
}
run_render(
    ReportInputs(
        config=snakemake.params.config,
        split=Path(inputs.split),
        counts=Path(inputs.counts),
        grid=Path(inputs.grid),
        best=Path(inputs.best),
        metrics=Path(inputs.metrics),
        history=Path(inputs.history),
        model_summary=Path(inputs.model_summary),
        forward_check=Path(inputs.forward_check),
        report_dir=Path(snakemake.output.tex).parent,
        figures_dir=Path(snakemake.params.figures_dir),
        benchmarks=Path(snakemake.params.benchmarks),
        repo=Path(snakemake.params.repo),
        landscape=landscape,
        snakemake_version=snakemake.params.snakemake_version,
    ),
    snakemake.params.template_dir,
    snakemake.output.tex,
)
