"""Question 4: six layers re-implemented without a deep-learning library, against torch."""

from gridscape.exercises.steps import run_ops
from gridscape.jobs import start_job

log = start_job(snakemake.log[0], snakemake.threads)
table = run_ops(snakemake.params.ops, snakemake.output.csv, snakemake.output.npz)
log.info("layers against torch:\n%s", table.to_string(index=False))
