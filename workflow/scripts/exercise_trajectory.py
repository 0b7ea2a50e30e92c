"""Question 1: one optimiser run on a 1-D function, traced step by step."""

from gridscape.exercises.steps import run_trajectory
from gridscape.logs import log_to_file

log = log_to_file(snakemake.log[0])
summary = run_trajectory(snakemake.params.spec, snakemake.params.functions, snakemake.output.csv)
log.info("trajectory: %s", summary)
