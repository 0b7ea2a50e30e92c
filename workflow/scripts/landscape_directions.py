"""Draw the landscape's directions δ, η and evaluate θ* on the landscape's images."""

from gridscape import io
from gridscape.device import set_threads
from gridscape.landscape.steps import run_directions
from gridscape.logs import log_to_file

log = log_to_file(snakemake.log[0])
set_threads(snakemake.threads)
run_directions(
    snakemake.params.config,
    io.read_json(snakemake.input.best),
    snakemake.params.landscape,
    snakemake.params.train_on,
    snakemake.input.data,
    snakemake.input.split,
    snakemake.input.model,
    snakemake.output.directions,
    snakemake.output.meta,
    snakemake.output.reference,
    snakemake.output.get("subset"),
)
