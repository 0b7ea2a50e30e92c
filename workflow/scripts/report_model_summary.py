"""The final model's layer table and the forward pass on a dummy input."""

from gridscape.logs import log_to_file
from gridscape.report.steps import run_model_summary

log = log_to_file(snakemake.log[0])
check = run_model_summary(
    snakemake.params.config,
    snakemake.input.best,
    snakemake.input.model,
    snakemake.output.csv,
    snakemake.output.check,
)
log.info("forward check: %s", check)
