"""Train a few trials of one stage of a random or staged search, one after another."""

from gridscape.jobs import start_workflow_job
from gridscape.search.trials import run_trials

log = start_workflow_job(snakemake)
config = dict(snakemake.params.config)
trials = config.pop("trials")
summaries = run_trials(
    config, snakemake.input.space, snakemake.input.plan, trials, snakemake.input.data, snakemake.input.split,
    snakemake.output.trials,
)
for summary in summaries:
    log.info("trial done: %s", summary)
