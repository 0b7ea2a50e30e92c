"""Retrain with the best values; save θ0, θ* (safetensors) and the per-epoch history."""

from gridscape import io
from gridscape.device import set_threads
from gridscape.logs import log_to_file
from gridscape.study import run_final

log = log_to_file(snakemake.log[0])
set_threads(snakemake.threads)
run_final(
    snakemake.params.config,
    io.read_json(snakemake.input.best),
    snakemake.params.train_on,
    snakemake.input.data,
    snakemake.input.split,
    snakemake.output.model,
    snakemake.output.init,
    snakemake.output.history,
)
