"""Download the dataset's official archives and check their md5 sums."""

from pathlib import Path

from gridscape.data import download
from gridscape.logs import log_to_file

log = log_to_file(snakemake.log[0])
paths = download(
    snakemake.params.dataset,
    Path(snakemake.params.root),
    mirror=snakemake.params.mirror,
    checksums=snakemake.params.checksums,
)
log.info("downloaded and verified: %s", ", ".join(map(str, paths)))
