"""The data-size table, experiments/scaling.csv, from results.csv."""

import pandas as pd

from gridscape import io
from gridscape.logs import log_to_file
from gridscape.scaling import scaling_table

log = log_to_file(snakemake.log[0])
table = scaling_table(pd.read_csv(snakemake.input.results), snakemake.params.groups, snakemake.params.key)
io.write_csv(snakemake.output[0], table)
log.info("data sizes: %s", list(table["n_train"]))
