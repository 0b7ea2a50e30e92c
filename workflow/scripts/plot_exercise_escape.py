"""The largest x reached against the bump height, with h_max marked."""

from gridscape.logs import log_to_file
from gridscape.plots.exercises import plot_escape

log = log_to_file(snakemake.log[0])
plot_escape(snakemake.input.csv, snakemake.input.json, snakemake.output[0], snakemake.output[1])
