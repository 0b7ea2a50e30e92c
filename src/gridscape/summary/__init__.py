"""What a run says in the terminal at its end: each kind's headline numbers (read from its
result files), where the reports are, the wall time; and, when a job failed, the end of its log.

Torch-free and Snakemake-free: the Snakefile's ``onsuccess``/``onerror`` call it in the main
process with plain paths.
"""
