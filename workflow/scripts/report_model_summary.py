"""The final model's layer table and the forward pass on a dummy input."""

from gridscape import io
from gridscape.logs import log_to_file
from gridscape.report.steps import run_model_summary

log = log_to_file(snakemake.log[0])
check = run_model_summary(
    io.read_json(snakemake.input.final)["config"],
    snakemake.input.model,
    snakemake.output.csv,
    snakemake.output.check,
)
log.info("forward check: %s", check)
