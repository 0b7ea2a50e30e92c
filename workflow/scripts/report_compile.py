"""Compile the report with latexmk (stops with the install command when latexmk is missing)."""

from gridscape.logs import log_to_file
from gridscape.report.steps import run_compile

log = log_to_file(snakemake.log[0])
run_compile(snakemake.input.tex, snakemake.output.pdf)
