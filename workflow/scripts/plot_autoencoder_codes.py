"""The two-dimensional codes of the training images, coloured by class."""

import numpy as np

from gridscape import io
from gridscape.logs import log_to_file
from gridscape.plots.autoencoders import plot_codes

log = log_to_file(snakemake.log[0])
with np.load(snakemake.input.data, allow_pickle=False) as prepared:
    classes = [str(name) for name in prepared["classes"]]
plot_codes({run: io.read_npz(path) for run, path in zip(snakemake.params.runs, snakemake.input.latents)}, classes,
           list(snakemake.output))
