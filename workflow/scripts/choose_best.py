"""Choose the best cell of the grid and record why (margin, runner-up, grid edges, the paired
test against the runner-up on the same validation images, the clean training accuracy)."""

import pandas as pd

from gridscape import io
from gridscape.logs import log_to_file
from gridscape.search.best import choose_best, with_paired_evidence

log = log_to_file(snakemake.log[0])
grid = pd.read_csv(snakemake.input.grid)
best = choose_best(grid, snakemake.params.axes, snakemake.params.metric)
cells = snakemake.params.cells
best = with_paired_evidence(
    best,
    dict(zip(cells, snakemake.input.metrics)),
    dict(zip(cells, snakemake.input.predictions)),
    snakemake.params.cell_params,
)
io.write_json(snakemake.output.best, best)
log.info("best: %s", best)
