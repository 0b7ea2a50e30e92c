"""The six traces of one optimiser run on one plot, with f along the visited x."""

from gridscape.logs import log_to_file
from gridscape.plots.exercises import plot_trajectory

log = log_to_file(snakemake.log[0])
plot_trajectory(snakemake.input.csv, snakemake.output[0], snakemake.output[1], snakemake.params.title)
