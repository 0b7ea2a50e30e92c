"""The final model's own loss on the landscape's images, and the subset's indices."""

from gridscape import io
from gridscape.jobs import start_workflow_job
from gridscape.landscape.steps import run_reference

log = start_workflow_job(snakemake)
run_reference(
    io.read_json(snakemake.input.final),
    snakemake.params.landscape,
    snakemake.input.data,
    snakemake.input.split,
    snakemake.input.model,
    snakemake.output.reference,
    snakemake.output.get("subset"),
)
