"""The final model's predictions for a few test images drawn at random, and their figure."""

from gridscape import io
from gridscape.final.predictions import run_predict_test
from gridscape.logs import log_to_file

log = log_to_file(snakemake.log[0])
table = run_predict_test(
    io.read_json(snakemake.input.final),
    snakemake.input.data,
    snakemake.input.model,
    snakemake.output.predictions,
    snakemake.params.images,
    figure_paths=list(snakemake.output.figure),
)
log.info("predictions: %d of %d correct", int(table["correct"].sum()), len(table))
