"""Collect the cells' summaries into grid.csv, in grid order."""

from gridscape import io
from gridscape.logs import log_to_file
from gridscape.search.best import aggregate

log = log_to_file(snakemake.log[0])
rows = [io.read_json(path) for path in snakemake.input.metrics]
grid = aggregate(rows, snakemake.params.axis_keys)
io.write_csv(snakemake.output.grid, grid)
log.info("grid of %d cells, %d diverged", len(grid), int((grid["status"] != "ok").sum()))
