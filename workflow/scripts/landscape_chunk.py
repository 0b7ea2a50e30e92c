"""Evaluate one chunk of the landscape grid."""

from gridscape import io
from gridscape.jobs import start_job
from gridscape.landscape.steps import run_chunk

log = start_job(snakemake.log[0], snakemake.threads, snakemake.resources.get("gpu", 0), snakemake.params.config["device"])
run_chunk(
    snakemake.params.config,
    io.read_json(snakemake.input.best),
    snakemake.params.landscape,
    snakemake.params.train_on,
    int(snakemake.wildcards.chunk),
    snakemake.input.data,
    snakemake.input.split,
    snakemake.input.model,
    snakemake.input.directions,
    snakemake.output.chunk,
)
