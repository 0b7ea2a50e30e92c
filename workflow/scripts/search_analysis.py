"""The search analysis: importance.csv, marginals.csv and their figures, in one job."""

from gridscape.logs import log_to_file
from gridscape.search.analysis_steps import run_search_analysis

log = log_to_file(snakemake.log[0])
run_search_analysis(
    snakemake.input.trials, list(snakemake.input.spaces), snakemake.input.best, snakemake.params.metric,
    snakemake.params.seed, {name: snakemake.output[name] for name in snakemake.output.keys()},
)
