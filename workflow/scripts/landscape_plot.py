"""Landscape figures: the surface ones (contour, filled contour, heat map, 3-D) or the 1-D ones,
whichever the rule names as outputs."""

from gridscape.logs import log_to_file
from gridscape.plots.landscape import plot_landscape_figures

log = log_to_file(snakemake.log[0])
plot_landscape_figures(
    {name: list(paths) for name, paths in snakemake.output.items()},
    surface_path=snakemake.input.get("surface"),
    line_path=snakemake.input.get("line"),
    interpolation_path=snakemake.input.get("interpolation"),
    reference_path=snakemake.input.reference,
)
