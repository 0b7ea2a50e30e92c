"""Turn the archives into one .npz of uint8 images and integer labels."""

from pathlib import Path

from gridscape.data import prepare
from gridscape.logs import log_to_file

log = log_to_file(snakemake.log[0])
prepare(
    snakemake.params.dataset,
    [Path(p) for p in snakemake.input],
    Path(snakemake.output[0]),
    checksums=snakemake.params.checksums,
)
log.info("prepared %s", snakemake.output[0])
