"""Train one cell of the grid and write its history and summary."""

from gridscape.device import set_threads
from gridscape.logs import log_to_file
from gridscape.study import run_cell

log = log_to_file(snakemake.log[0])
set_threads(snakemake.threads)
log.info("cell %s", snakemake.params.cell)
summary = run_cell(
    snakemake.params.config,
    snakemake.params.cell,
    snakemake.input.data,
    snakemake.input.split,
    snakemake.output.history,
    snakemake.output.metrics,
)
log.info("cell done: %s", summary)
