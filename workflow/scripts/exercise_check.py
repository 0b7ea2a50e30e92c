"""Question 1: every Adam run repeated with torch.optim.Adam in float64."""

from gridscape.exercises.steps import run_trajectory_check
from gridscape.jobs import start_job

log = start_job(snakemake.log[0], snakemake.threads)
table = run_trajectory_check(snakemake.params.trajectories, snakemake.params.functions, snakemake.output.csv)
log.info("own Adam against torch:\n%s", table.to_string(index=False))
