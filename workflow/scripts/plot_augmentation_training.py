"""Six training images beside each of the study's training augmentations, with its parameters."""

import torch

from gridscape.data import load_prepared
from gridscape.data.augment import apply_augmentations, figure_columns, headers, to_uint8
from gridscape.data.split import read_split, subset_indices
from gridscape.logs import log_to_file
from gridscape.plots.images import plot_augmentation_columns

log = log_to_file(snakemake.log[0])
data = load_prepared(snakemake.input.data)
indices = subset_indices(read_split(snakemake.input.split), "train")[:6]
originals = torch.from_numpy(data.train_images[indices])
columns = []
for header, augmentation in figure_columns(snakemake.params.train, snakemake.params.axes):
    # each column its own generator from the seed: a column does not depend on the ones before it
    generator = torch.Generator().manual_seed(int(snakemake.params.train["seed"]))
    augmented = to_uint8(apply_augmentations(originals, [augmentation], generator, probability=1.0))
    columns.append((header, augmented.numpy()))
order = ", then ".join(headers(snakemake.params.train, snakemake.params.axes))
plot_augmentation_columns(
    originals.numpy(), columns, data.train_labels[indices], data.classes, list(snakemake.output),
    title=f"Training augmentations, each alone (in training: {order})",
)
