"""Evaluate one chunk of the landscape grid."""

from gridscape import io
from gridscape.device import set_threads
from gridscape.landscape.steps import run_chunk
from gridscape.logs import log_to_file

log = log_to_file(snakemake.log[0])
set_threads(snakemake.threads)
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
