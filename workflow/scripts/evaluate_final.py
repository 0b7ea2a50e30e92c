"""Evaluate the final model on the test set."""

from gridscape import io
from gridscape.jobs import start_workflow_job
from gridscape.study import run_evaluate

log = start_workflow_job(snakemake)
metrics = run_evaluate(
    snakemake.params.config,
    io.read_json(snakemake.input.best),
    snakemake.input.data,
    snakemake.input.model,
    snakemake.output.metrics,
)
log.info("test: %s", metrics)
