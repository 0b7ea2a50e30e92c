"""Collect the autoencoder runs' metrics into results.csv."""

from gridscape import io
from gridscape.autoencoders.results import results_table
from gridscape.logs import log_to_file

log = log_to_file(snakemake.log[0])
table = results_table([io.read_json(path) for path in snakemake.input.metrics])
io.write_csv(snakemake.output[0], table)
log.info("results of %d autoencoders", len(table))
