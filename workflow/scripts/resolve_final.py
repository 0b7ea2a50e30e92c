"""Resolve the final model's settings once: the study's training config with the best values."""

from gridscape import io
from gridscape.final.resolve import resolve_final
from gridscape.logs import log_to_file

log = log_to_file(snakemake.log[0])
final = resolve_final(snakemake.params.config, io.read_json(snakemake.input.best), snakemake.params.train_on)
io.write_json(snakemake.output.final, final)
log.info("final model: %s, trained on %s", final["params"], final["train_on"])
