"""The landscape figures: contour, filled contour, heat map, 3-D surface and the 1-D plots."""

from gridscape.logs import log_to_file
from gridscape.plots.landscape import plot_landscape_figures

log = log_to_file(snakemake.log[0])
plot_landscape_figures(
    snakemake.input.surface,
    snakemake.input.line,
    snakemake.input.interpolation,
    {name: list(paths) for name, paths in snakemake.output.items()},
    diagnostics_path=snakemake.input.diagnostics,
)
