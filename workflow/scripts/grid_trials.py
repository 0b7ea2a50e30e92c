"""A grid's cells as search/trials.csv and its axes as one stage's space.json: the search
analysis reads the same files for every search method."""

from gridscape import io
from gridscape.logs import log_to_file
from gridscape.search.trial_table import grid_space, grid_trials

log = log_to_file(snakemake.log[0])
axes = snakemake.params.axes
table = grid_trials(io.read_csv_exact(snakemake.input.grid), snakemake.params.cells, [axis["key"] for axis in axes],
                    [io.read_json(path) for path in snakemake.input.metrics])
io.write_csv(snakemake.output.trials, table)
io.write_json(snakemake.output.space, grid_space(axes, snakemake.params.epochs))
log.info("%d cells as trials", len(table))
