"""Choose the best trial of the last stage of a random or staged search and record why."""

from gridscape import io
from gridscape.logs import log_to_file
from gridscape.search.trial_table import choose_best_trial

log = log_to_file(snakemake.log[0])
best = choose_best_trial(io.read_csv_exact(snakemake.input.trials), io.read_json(snakemake.input.space),
                         snakemake.params.metric)
io.write_json(snakemake.output.best, best)
log.info("best: %s", best)
