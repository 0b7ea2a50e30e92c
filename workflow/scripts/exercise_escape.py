"""Question 1: the largest bump height that the optimiser escapes."""

from gridscape.exercises.steps import run_escape
from gridscape.logs import log_to_file

log = log_to_file(snakemake.log[0])
summary = run_escape(snakemake.params.escape, snakemake.params.functions, snakemake.output.csv, snakemake.output.json)
log.info("escape: %s", summary)
