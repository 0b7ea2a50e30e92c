"""gridscape: reproducible image-classification studies (grid search, retraining, loss landscapes).

The package holds the logic; the Snakemake workflow in ``workflow/`` only wires files to it.
"""

__version__ = "0.1.0"
