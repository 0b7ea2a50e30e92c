"""Collect the experiments' metrics into results.csv, checked against their histories."""

import pandas as pd

from gridscape import io
from gridscape.experiment_results import check_table_against_histories, results_table
from gridscape.logs import log_to_file

log = log_to_file(snakemake.log[0])
table = results_table([io.read_json(path) for path in snakemake.input.metrics], snakemake.params.labels)
histories = {name: pd.read_csv(path) for name, path in zip(table["experiment"], snakemake.input.histories)}
check_table_against_histories(table, histories)
io.write_csv(snakemake.output.results, table)
log.info("results of %d experiments", len(table))
