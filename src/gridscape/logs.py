"""Logging for workflow jobs: everything, progress bars included, goes to the rule's log file."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def log_to_file(path: str | Path, level: int = logging.INFO) -> logging.Logger:
    """Send logging and stderr (tqdm's bars, warnings, tracebacks) to ``path``, line-buffered."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    stream = open(path, "a", buffering=1, encoding="utf-8")
    sys.stderr = stream
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[logging.StreamHandler(stream)],
        force=True,
    )
    logging.captureWarnings(True)
    sys.excepthook = _report_both
    return logging.getLogger("gridscape")


def _report_both(exc_type, exc, tb) -> None:
    """An uncaught error goes to the log file and to the terminal that ran Snakemake."""
    import traceback

    text = "".join(traceback.format_exception(exc_type, exc, tb))
    for stream in {sys.stderr, sys.__stderr__}:
        if stream is not None:
            stream.write(text)
            stream.flush()
