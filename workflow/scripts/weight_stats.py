"""Weight statistics of trained models (weight_stats.csv), read without torch."""

import pandas as pd

from gridscape import io
from gridscape.logs import log_to_file
from gridscape.weight_stats import order_of_gradient_flow, order_of_model_summary, study_weight_stats

log = log_to_file(snakemake.log[0])
names = list(snakemake.params.names)
# the network's order of the weights: a gradient flow's, or a layer table's
if "gradient_flows" in snakemake.input.keys():
    orders = [order_of_gradient_flow(pd.read_csv(path)) for path in snakemake.input.gradient_flows]
else:
    orders = [order_of_model_summary(pd.read_csv(snakemake.input.summary))]
table = study_weight_stats(dict(zip(names, snakemake.input.models)), dict(zip(names, orders)))
io.write_csv(snakemake.output[0], table)
log.info("weight statistics of %d models, %d rows", len(names), len(table))
