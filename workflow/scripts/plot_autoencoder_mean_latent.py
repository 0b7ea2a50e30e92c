"""The decoded mean code of each chosen run beside the mean training image."""

from gridscape import io
from gridscape.logs import log_to_file
from gridscape.plots.autoencoders import plot_mean_latents

log = log_to_file(snakemake.log[0])
plot_mean_latents({run: io.read_npz(path) for run, path in zip(snakemake.params.runs, snakemake.input.decoded)},
                  list(snakemake.output))
