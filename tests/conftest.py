"""Shared test set-up: the tests folder is importable (for fakedata) and plots never open windows.

Under ``pytest -n N`` (the README's ``make test``), N workers share the machine's cores. Each
worker's own torch then takes cores // N threads, and OpenMP threads sleep instead of spinning
while they wait: with both workers at torch's default of all cores, measured on 2 cores, a
worker's training ran 3x slower than alone. Jobs of the Snakemake runs set their threads from
their rules (``gridscape.device.set_threads``), so this changes no job's numbers.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).parent))

_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:  # set before torch is imported: its thread pool reads them once
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, len(os.sched_getaffinity(0)) // _WORKERS)))
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


# Files that spend minutes waiting on something outside pytest (a SLURM cluster's queue): run
# first, so that under ``--dist loadfile`` the other workers' files fill that time instead of
# one worker finishing alone at the end.
_WAITING_FILES = ("test_slurm.py",)


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: item.path.name not in _WAITING_FILES)  # stable: the rest keep their order
