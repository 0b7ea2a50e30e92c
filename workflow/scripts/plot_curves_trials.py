"""Training curves of the last stage's trials in one figure."""

import pandas as pd

from gridscape.logs import log_to_file
from gridscape.plots.curves import plot_grid_curves

log = log_to_file(snakemake.log[0])
histories = {label: pd.read_csv(path) for label, path in zip(snakemake.params.labels, snakemake.input.histories)}
plot_grid_curves(histories, list(snakemake.output),
                 title=f"Search stage {snakemake.params.stage}: training and validation curves")
