"""Split the training set into train and validation parts, stratified by class."""

from gridscape import io
from gridscape.data import load_prepared
from gridscape.data.split import class_counts, stratified_split
from gridscape.logs import log_to_file

log = log_to_file(snakemake.log[0])
data = load_prepared(snakemake.input.data)
split = stratified_split(data.train_labels, snakemake.params.split["val_fraction"], snakemake.params.split["seed"])
io.write_csv(snakemake.output.split, split)
counts = class_counts(split, data.test_labels, data.classes)
io.write_csv(snakemake.output.counts, counts)
log.info("split: %s", split["subset"].value_counts().to_dict())
