"""One experiment's gradient flow at its first, middle and last epoch."""

import pandas as pd

from gridscape.logs import log_to_file
from gridscape.plots.style import literal
from gridscape.plots.gradient_flow import plot_gradient_flow

log = log_to_file(snakemake.log[0])
plot_gradient_flow(
    pd.read_csv(snakemake.input.gradient_flow), list(snakemake.output), title=f"Gradient flow: {literal(snakemake.params.label)}"
)
