"""Training curves of the final model, evaluated on the test set each epoch."""

import pandas as pd

from gridscape import io
from gridscape.logs import log_to_file
from gridscape.plots.curves import plot_training_curves

log = log_to_file(snakemake.log[0])
metrics = io.read_json(snakemake.input.metrics)
plot_training_curves(
    pd.read_csv(snakemake.input.history),
    list(snakemake.output),
    title=f"Final model: test accuracy {metrics['test_acc']:.1%}",
)
