"""The last-epoch gradient flow of several experiments on one axis."""

import pandas as pd

from gridscape.logs import log_to_file
from gridscape.plots.style import literal
from gridscape.plots.gradient_flow import plot_gradient_flow_overlay

log = log_to_file(snakemake.log[0])
# labels are unique (checked with the config); literal() keeps a '$' from starting mathtext
frames = {literal(label): pd.read_csv(path) for label, path in zip(snakemake.params.labels, snakemake.input.gradient_flows)}
plot_gradient_flow_overlay(frames, list(snakemake.output), title="Gradient flow, last epoch")
