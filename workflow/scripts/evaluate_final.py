"""Evaluate the final model on the test set."""

from gridscape import io
from gridscape.jobs import start_workflow_job
from gridscape.final.steps import run_evaluate

log = start_workflow_job(snakemake)
metrics = run_evaluate(
    io.read_json(snakemake.input.final),
    snakemake.input.data,
    snakemake.input.model,
    snakemake.output.metrics,
    snakemake.input.init,
)
log.info("test: %s", metrics)
