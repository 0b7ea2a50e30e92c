"""Loss and accuracy curves of every experiment on shared axes."""

import pandas as pd

from gridscape.logs import log_to_file
from gridscape.plots.style import literal
from gridscape.plots.curves import plot_grid_curves

log = log_to_file(snakemake.log[0])
# labels are unique (checked with the config); literal() keeps a '$' from starting mathtext
histories = {literal(label): pd.read_csv(path) for label, path in zip(snakemake.params.labels, snakemake.input.histories)}
plot_grid_curves(histories, list(snakemake.output), title="Experiments: learning curves", run_kind="experiment")
