"""search/trials.csv: every stage's trials, stage by stage."""

from gridscape import io
from gridscape.logs import log_to_file
from gridscape.search.trial_table import all_trials

log = log_to_file(snakemake.log[0])
table = all_trials([io.read_csv_exact(path) for path in snakemake.input.stages])
io.write_csv(snakemake.output.trials, table)
log.info("%d trials in %d stages", len(table), len(snakemake.input.stages))
