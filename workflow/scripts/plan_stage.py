"""Draw one stage's plan of a random or staged search: its space (narrowed from the stage
before, in a staged search) and the settings of each of its trials."""

from gridscape import io
from gridscape.logs import log_to_file
from gridscape.search.space import plan_stage

log = log_to_file(snakemake.log[0])
settings = snakemake.params.settings
inputs = snakemake.input
previous = "previous_space" in inputs.keys()
space, plan = plan_stage(
    settings["stage"], settings["spec"], settings.get("space"), settings["seed"], settings.get("metric"),
    settings.get("num_classes"),
    previous_space=io.read_json(inputs.previous_space) if previous else None,
    previous_trials=io.read_csv_exact(inputs.previous_trials) if previous else None,
)
io.write_json(snakemake.output.space, space)
io.write_csv(snakemake.output.plan, plan)
log.info("stage %d: %d trials of %d epochs, narrowed around %s", space["stage"], len(plan), space["epochs"], space["kept"])
