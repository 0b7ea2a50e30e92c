"""The training and test loss of every autoencoder run per epoch."""

import pandas as pd

from gridscape.logs import log_to_file
from gridscape.plots.autoencoders import plot_losses

log = log_to_file(snakemake.log[0])
histories = {run: pd.read_csv(path) for run, path in zip(snakemake.params.runs, snakemake.input.histories)}
plot_losses(histories, list(snakemake.output))
