"""Images per class in the train, validation and test parts."""

import pandas as pd

from gridscape.logs import log_to_file
from gridscape.plots.images import plot_class_counts

log = log_to_file(snakemake.log[0])
plot_class_counts(pd.read_csv(snakemake.input.counts), list(snakemake.output), title="Images per class")
