"""Train one pack of grid cells (fused when it holds several models); write each cell's files."""

from gridscape.jobs import start_job
from gridscape.study import run_pack

log = start_job(snakemake.log[0], snakemake.threads, snakemake.resources.get("gpu", 0), snakemake.params.config["device"])
rows = run_pack(
    snakemake.params.config,
    snakemake.params.pack,
    snakemake.input.data,
    snakemake.input.split,
    snakemake.output.cells,
)
for row in rows:
    log.info("cell done: %s", row)
