"""Train one pack of grid cells (fused when it holds several models); write each cell's files."""

from gridscape.device import set_threads
from gridscape.logs import log_to_file
from gridscape.study import run_pack

log = log_to_file(snakemake.log[0])
set_threads(snakemake.threads)
rows = run_pack(
    snakemake.params.config,
    snakemake.params.pack,
    snakemake.input.data,
    snakemake.input.split,
    snakemake.output.cells,
)
for row in rows:
    log.info("cell done: %s", row)
