"""Check the chunks and assemble the surface and its diagnostics."""

from gridscape.landscape.merge import run_merge
from gridscape.logs import log_to_file

log = log_to_file(snakemake.log[0])
run_merge(
    snakemake.params.landscape,
    list(snakemake.input.chunks),
    snakemake.input.meta,
    snakemake.input.reference,
    snakemake.output.csv,
    snakemake.output.npz,
    snakemake.output.diagnostics,
)
