"""One stage's trials.csv: its plan's rows with each trial's results."""

from gridscape import io
from gridscape.logs import log_to_file
from gridscape.search.trial_table import stage_table

log = log_to_file(snakemake.log[0])
table = stage_table(
    io.read_json(snakemake.input.space), io.read_csv_exact(snakemake.input.plan),
    [io.read_json(path) for path in snakemake.input.metrics],
)
io.write_csv(snakemake.output.trials, table)
log.info("%d trials, %d diverged", len(table), int((table["status"] != "ok").sum()))
