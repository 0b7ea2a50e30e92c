"""Evaluate the final model on the test set."""

from gridscape import io
from gridscape.jobs import start_job
from gridscape.study import run_evaluate

log = start_job(snakemake.log[0], snakemake.threads, snakemake.resources.get("gpu", 0), snakemake.params.config["device"])
metrics = run_evaluate(
    snakemake.params.config,
    io.read_json(snakemake.input.best),
    snakemake.input.data,
    snakemake.input.model,
    snakemake.output.metrics,
)
log.info("test: %s", metrics)
