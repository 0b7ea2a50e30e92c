"""Retrain with the best values; save θ0, θ* (safetensors) and the per-epoch history."""

from gridscape import io
from gridscape.jobs import checkpoint_place, start_workflow_job
from gridscape.final.steps import run_final

log = start_workflow_job(snakemake)
run_final(
    io.read_json(snakemake.input.final),
    snakemake.input.data,
    snakemake.input.split,
    snakemake.output.model,
    snakemake.output.init,
    snakemake.output.history,
    checkpoint=checkpoint_place(snakemake),
)
