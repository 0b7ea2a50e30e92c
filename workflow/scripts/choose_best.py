"""Choose the best cell of the grid and record why (margin, runner-up, grid edges)."""

import pandas as pd

from gridscape import io
from gridscape.logs import log_to_file
from gridscape.search.best import choose_best

log = log_to_file(snakemake.log[0])
grid = pd.read_csv(snakemake.input.grid)
best = choose_best(grid, snakemake.params.axes, snakemake.params.metric)
io.write_json(snakemake.output.best, best)
log.info("best: %s", best)
