"""Question 6: receptive fields and jumps of each stack, from the recurrence and by autograd."""

from gridscape.exercises.steps import run_receptive_field
from gridscape.jobs import start_job

log = start_job(snakemake.log[0], snakemake.threads)
table = run_receptive_field(snakemake.params.rows, snakemake.output.csv)
log.info("receptive fields:\n%s", table.to_string(index=False))
