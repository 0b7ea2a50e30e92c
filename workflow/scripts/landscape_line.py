"""The 1-D loss along δ and along the straight path θ0 -> θ*."""

from gridscape import io
from gridscape.jobs import start_workflow_job
from gridscape.landscape.steps import run_line

log = start_workflow_job(snakemake)
run_line(
    io.read_json(snakemake.input.final),
    snakemake.params.landscape,
    snakemake.input.data,
    snakemake.input.split,
    snakemake.input.model,
    snakemake.input.init,
    snakemake.input.directions,
    snakemake.input.reference,
    snakemake.output.line,
    snakemake.output.interpolation,
)
