"""The data-size figure: the gap and both accuracies against the number of training images."""

import pandas as pd

from gridscape.logs import log_to_file
from gridscape.plots.scaling import plot_scaling

log = log_to_file(snakemake.log[0])
plot_scaling(pd.read_csv(snakemake.input.table), list(snakemake.output), chance=1.0 / snakemake.params.n_classes)
