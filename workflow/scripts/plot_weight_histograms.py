"""|w| histograms of the chosen experiments' weights, one panel per weight tensor."""

import pandas as pd

from gridscape.logs import log_to_file
from gridscape.plots.weights import plot_weight_histograms
from gridscape.weight_stats import order_of_gradient_flow, read_weights

log = log_to_file(snakemake.log[0])
names = list(snakemake.params.names)
models = {
    name: read_weights(model, order_of_gradient_flow(pd.read_csv(flow)))
    for name, model, flow in zip(names, snakemake.input.models, snakemake.input.gradient_flows)
}
plot_weight_histograms(models, dict(zip(names, snakemake.params.labels)), list(snakemake.output),
                       title="Weight magnitudes")
