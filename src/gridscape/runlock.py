"""Stale Snakemake locks: after a SIGKILL, the same command must still run.

Snakemake locks the working directory by writing files into ``.snakemake/locks/`` and removes
them when it exits; a process killed with SIGKILL (or a lost node, an OOM kill) leaves them
behind, and the next run stops with a LockException until ``snakemake --unlock``.

Here every run of the workflow holds a *shared* ``flock`` on ``.snakemake/gridscape-runs.lock``
from the moment its Snakefile is read until the process ends. The kernel drops a flock when
its process dies, however it dies. So a run that can take that lock *exclusively* knows that
no other run of this workflow is alive in the directory, and that any lock left in
``.snakemake/locks/`` is stale; it removes them, then keeps a shared lock for itself. A live
run always holds its shared lock before it writes its Snakemake locks, so they are never
removed.

The flock file is not in ``.snakemake/locks/``, which Snakemake deletes as a whole.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO

_HELD: list[IO] = []  # open handles: a flock lasts as long as its file stays open


def claim_run(snakemake_dir: str | Path = ".snakemake") -> list[Path]:
    """Mark this process as a live run; remove Snakemake's locks if no other run is alive.

    Returns the lock files removed (empty when there were none or another run is alive).
    Call it once per process, from the main Snakemake process only (not from job processes,
    which run while their parent holds the locks). Where the file system has no flock
    (some network file systems), it removes nothing.
    """
    directory = Path(snakemake_dir)
    directory.mkdir(parents=True, exist_ok=True)
    handle = open(directory / "gridscape-runs.lock", "a")
    removed: list[Path] = []
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # another run is alive: its locks are real
        else:
            removed = sorted((directory / "locks").glob("*.lock"))
            for path in removed:
                path.unlink(missing_ok=True)
        # Blocks only while another process makes this same check, a moment.
        fcntl.flock(handle, fcntl.LOCK_SH)
    except OSError:
        handle.close()
        return []
    _HELD.append(handle)
    return removed
