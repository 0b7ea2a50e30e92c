"""The first training images of the split, in a square grid with their class names."""

import math

from gridscape.data import load_prepared
from gridscape.data.split import read_split, subset_indices
from gridscape.logs import log_to_file
from gridscape.plots.images import plot_image_grid

log = log_to_file(snakemake.log[0])
data = load_prepared(snakemake.input.data)
indices = subset_indices(read_split(snakemake.input.split), "train")[: snakemake.params.size]
plot_image_grid(
    data.train_images[indices],
    data.train_labels[indices],
    data.classes,
    list(snakemake.output),
    ncols=math.ceil(math.sqrt(len(indices))),
    title=f"{len(indices)} training images",
)
