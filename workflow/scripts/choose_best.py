"""Choose the best cell of the grid and record why (margin, runner-up, grid edges, the paired
test against the runner-up on the same validation images, the clean training accuracy)."""

from gridscape import io
from gridscape.logs import log_to_file
from gridscape.search.best import choose_best, with_paired_evidence

log = log_to_file(snakemake.log[0])
grid = io.read_csv_exact(snakemake.input.grid)
best = choose_best(grid, snakemake.params.axes, snakemake.params.metric)
best = with_paired_evidence(best, list(snakemake.input.metrics), list(snakemake.input.predictions))
io.write_json(snakemake.output.best, best)
log.info("best: %s", best)
