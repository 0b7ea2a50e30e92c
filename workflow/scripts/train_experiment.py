"""Train one named experiment; write its history, gradient flow, tested model and metrics."""

from gridscape.experiments import run_experiment
from gridscape.jobs import checkpoint_place, start_workflow_job

log = start_workflow_job(snakemake)
metrics = run_experiment(
    snakemake.params.config,
    snakemake.params.experiment,
    snakemake.input.data,
    snakemake.input.split,
    snakemake.output.history,
    snakemake.output.gradient_flow,
    snakemake.output.model,
    snakemake.output.metrics,
    checkpoint=checkpoint_place(snakemake),
)
log.info("experiment done: %s", metrics)
