"""The grid's validation loss and accuracy as annotated heat maps, best cell outlined."""

import pandas as pd

from gridscape import io
from gridscape.logs import log_to_file
from gridscape.plots.search import plot_grid_heatmap

log = log_to_file(snakemake.log[0])
grid = pd.read_csv(snakemake.input.grid)
best = io.read_json(snakemake.input.best)["params"]
keys = snakemake.params.axis_keys
plot_grid_heatmap(grid, keys, "val_loss", list(snakemake.output.loss), title="Validation loss", best=best)
plot_grid_heatmap(grid, keys, "val_acc", list(snakemake.output.acc), title="Validation accuracy", best=best)
