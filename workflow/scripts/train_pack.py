"""Train one pack of grid cells (fused when it holds several models); write each cell's files."""

from gridscape.jobs import checkpoint_place, start_workflow_job
from gridscape.search.steps import run_pack

log = start_workflow_job(snakemake)
rows = run_pack(
    snakemake.params.config,
    snakemake.params.pack,
    snakemake.input.data,
    snakemake.input.split,
    snakemake.output.cells,
    checkpoint=checkpoint_place(snakemake),
)
for row in rows:
    log.info("cell done: %s", row)
