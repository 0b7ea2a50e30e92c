"""The 1-D functions of question 1."""

from gridscape.logs import log_to_file
from gridscape.plots.exercises import plot_functions

log = log_to_file(snakemake.log[0])
plot_functions(snakemake.params.functions, snakemake.output[0], snakemake.output[1])
