"""Logging for workflow jobs: everything, progress bars included, goes to the rule's log file."""

from __future__ import annotations

import atexit
import logging
import os
import resource
import sys
from pathlib import Path


# ``log.info(..., extra=PROGRESS)``: a line the terminal shows too (one per epoch, per stretch of
# landscape points), so a long job is not silent there; everything else stays in the log file.
PROGRESS = {"progress": True}


def job_label(path: str | Path) -> str:
    """A job's name from its log path: ``results/s/logs/train_pack/all.log`` -> ``train_pack/all``."""
    parts = Path(path).with_suffix("").parts
    return "/".join(parts[parts.index("logs") + 1 :]) if "logs" in parts[:-1] else Path(path).stem


def log_to_file(path: str | Path, level: int = logging.INFO) -> logging.Logger:
    """Send logging and stderr (tqdm's bars, warnings, tracebacks) to ``path``, line-buffered;
    progress lines (``extra=PROGRESS``) also to the terminal, named by the job."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    stream = open(path, "a", buffering=1, encoding="utf-8")
    sys.stderr = stream
    handlers: list[logging.Handler] = [logging.StreamHandler(stream)]
    if sys.__stderr__ is not None:
        terminal = logging.StreamHandler(sys.__stderr__)
        terminal.addFilter(lambda record: bool(getattr(record, "progress", False)))
        terminal.setFormatter(logging.Formatter(f"[{job_label(path)}] %(message)s"))
        handlers.append(terminal)
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    # (basicConfig formats only the handlers without a format: the terminal keeps its own)
    logging.captureWarnings(True)
    sys.excepthook = _report_both
    log = logging.getLogger("gridscape")
    age = process_age()
    if age is not None:  # read by benchmarks/study.py: what each job spends before its work
        log.info("%s %.2f s (Python, Snakemake's script preamble and the imports)", STARTUP_PREFIX, age)
    global _PEAK_MEMORY_REGISTERED
    if not _PEAK_MEMORY_REGISTERED:  # once per process, to whichever file logging writes to last
        atexit.register(_log_peak_memory, log)
        _PEAK_MEMORY_REGISTERED = True
    return log


STARTUP_PREFIX = "start-up:"
PEAK_MEMORY_PREFIX = "peak resident memory:"
_PEAK_MEMORY_REGISTERED = False


def _log_peak_memory(log: logging.Logger) -> None:
    """At the job's end, its peak resident memory (Linux reports ru_maxrss in KiB)."""
    log.info("%s %.0f MB", PEAK_MEMORY_PREFIX, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def process_age() -> float | None:
    """Seconds since this process started (from /proc, to 1/100 s), or None where there is no /proc."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat, open("/proc/uptime", encoding="ascii") as uptime:
            start_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])  # field 22: starttime
            now = float(uptime.read().split()[0])
        return max(0.0, now - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


def _report_both(exc_type, exc, tb) -> None:
    """An uncaught error goes to the log file and to the terminal that ran Snakemake."""
    import traceback

    text = "".join(traceback.format_exception(exc_type, exc, tb))
    for stream in {sys.stderr, sys.__stderr__}:
        if stream is not None:
            stream.write(text)
            stream.flush()
