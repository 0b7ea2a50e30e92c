"""Nine training images beside the configured augmentation of each."""

import torch

from gridscape.data import load_prepared
from gridscape.data.augment import Augmentation, apply_augmentations, to_uint8
from gridscape.data.split import read_split, subset_indices
from gridscape.logs import log_to_file
from gridscape.plots.images import plot_augmentation_pairs

log = log_to_file(snakemake.log[0])
data = load_prepared(snakemake.input.data)
indices = subset_indices(read_split(snakemake.input.split), "train")[:9]
originals = torch.from_numpy(data.train_images[indices])
generator = torch.Generator().manual_seed(int(snakemake.params.seed))
name = snakemake.params.augmentation
# every image transformed (probability 1), with the study's crop padding
augmentation = Augmentation(name, padding=int(snakemake.params.crop_padding))
augmented = to_uint8(apply_augmentations(originals, [augmentation], generator, probability=1.0))
plot_augmentation_pairs(
    originals.numpy(), augmented.numpy(), data.train_labels[indices], data.classes, name, list(snakemake.output),
    description=augmentation.describe(),
)
