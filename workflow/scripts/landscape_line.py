"""The 1-D loss along δ and along the straight path θ0 -> θ*."""

from gridscape import io
from gridscape.jobs import start_job
from gridscape.landscape.steps import run_line

log = start_job(snakemake.log[0], snakemake.threads, snakemake.resources.get("gpu", 0), snakemake.params.config["device"])
run_line(
    snakemake.params.config,
    io.read_json(snakemake.input.best),
    snakemake.params.landscape,
    snakemake.params.train_on,
    snakemake.input.data,
    snakemake.input.split,
    snakemake.input.model,
    snakemake.input.init,
    snakemake.input.directions,
    snakemake.input.reference,
    snakemake.output.line,
    snakemake.output.interpolation,
)
