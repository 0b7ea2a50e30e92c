"""Train one autoencoder; write its history, metrics, model, codes, decoded mean code and samples."""

from gridscape.autoencoders.steps import RunPaths, run_autoencoder
from gridscape.jobs import checkpoint_place, start_workflow_job

log = start_workflow_job(snakemake)
out = snakemake.output
metrics = run_autoencoder(
    snakemake.params.config,
    snakemake.params.run["architecture"],
    snakemake.params.run["latent"],
    snakemake.input.data,
    snakemake.input.split,
    RunPaths(out.history, out.metrics, out.model, out.latents, out.mean_latent, out.mean_decoded, out.samples,
             out.layers),
    checkpoint=checkpoint_place(snakemake),
)
log.info("autoencoder done: %s", metrics)
