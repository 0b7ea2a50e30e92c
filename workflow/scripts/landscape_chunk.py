"""Evaluate one chunk of the landscape grid."""

from gridscape import io
from gridscape.jobs import start_workflow_job
from gridscape.landscape.steps import run_chunk

log = start_workflow_job(snakemake)
run_chunk(
    io.read_json(snakemake.input.final),
    snakemake.params.landscape,
    int(snakemake.wildcards.chunk),
    snakemake.input.data,
    snakemake.input.split,
    snakemake.input.model,
    snakemake.input.directions,
    snakemake.output.chunk,
)
