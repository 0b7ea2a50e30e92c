"""Evaluate the final model on the test set."""

from gridscape import io
from gridscape.device import set_threads
from gridscape.logs import log_to_file
from gridscape.study import run_evaluate

log = log_to_file(snakemake.log[0])
set_threads(snakemake.threads)
metrics = run_evaluate(
    snakemake.params.config,
    io.read_json(snakemake.input.best),
    snakemake.input.data,
    snakemake.input.model,
    snakemake.output.metrics,
)
log.info("test: %s", metrics)
