"""Draw the landscape's directions delta, eta for the final model (on the CPU)."""

from gridscape import io
from gridscape.jobs import start_job
from gridscape.landscape.steps import run_directions

log = start_job(snakemake.log[0], snakemake.threads)  # on the CPU: no GPU lease
run_directions(
    io.read_json(snakemake.input.final),
    snakemake.params.landscape,
    snakemake.input.model,
    snakemake.output.directions,
    snakemake.output.meta,
)
