"""The handout's figure of one architecture: per latent size, the loss curve, an input and its reconstruction."""

import pandas as pd

from gridscape import io
from gridscape.logs import log_to_file
from gridscape.plots.autoencoders import plot_architecture

log = log_to_file(snakemake.log[0])
runs = list(snakemake.params.runs)
plot_architecture(
    snakemake.wildcards.architecture,
    {run: pd.read_csv(path) for run, path in zip(runs, snakemake.input.histories)},
    {run: io.read_npz(path) for run, path in zip(runs, snakemake.input.samples)},
    list(snakemake.output),
)
