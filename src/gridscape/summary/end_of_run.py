"""The end-of-run summary and the failure report, common to every kind."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Mapping, Sequence

RULE = "=" * 78
# Set by `make study`, which builds the HTML report right after the run.
HTML_NEXT_ENV = "GRIDSCAPE_HTML_REPORT_NEXT"


def duration(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min {seconds:02d} s" if hours else f"{minutes} min {seconds:02d} s"


def end_of_run_text(
    kind,
    config: Mapping,
    pdf_note: str | None,
    html: str | Path,
    seconds: float,
    configfiles: Sequence[str] = (),
) -> str:
    """The box printed when a run succeeds: the kind's headline numbers (none for files this
    run did not make), where the PDF and the HTML report are or why one is missing, the wall
    time. ``pdf_note``: why the PDF is skipped, if it is."""
    results = Path("results") / config["study"]
    lines = [RULE, f"gridscape: {config['study']} finished in {duration(seconds)}"]
    lines += [f"  {line}" for line in headline(kind, results, config)]
    pdf = results / "report" / "report.pdf"
    if pdf_note:
        lines.append("  PDF report:  skipped: " + pdf_note.replace("\n", "\n  "))
    elif pdf.exists():
        lines.append(f"  PDF report:  {pdf}")
    html = Path(html)
    configfile = "".join(f" --configfile {shlex.quote(_relative(f))}" for f in configfiles)
    command = f"snakemake --report {html}{configfile}"
    if os.environ.get(HTML_NEXT_ENV):
        lines.append(f"  HTML report: {html} (built next, by make)")
    elif html.exists():
        lines.append(f"  HTML report: {html} (after a change, rebuild it with: {command})")
    else:
        lines.append(f"  HTML report: not built yet; build it with: {command}")
    lines.append(RULE)
    return "\n".join(lines)


def _relative(path: str | Path) -> str:
    """A path under the working directory as the user would type it there."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def headline(kind, results: Path, config: Mapping) -> list[str]:
    """The kind's lines; an unreadable result file gives a note, not a failed run."""
    if not kind.summary:
        return []
    try:
        return list(kind.summarise(results, config))
    except (OSError, KeyError, ValueError) as error:
        return [f"(no summary of the results: {error})"]


ERROR_RULE = re.compile(r"^Error in rule (\S+):\s*$")
LOG_LINE = re.compile(r"^\s+log: (.+?)(?: \(check log file\(s\) for error details\))?\s*$")


def failed_jobs(snakemake_log: str) -> list[tuple[str, list[str]]]:
    """(rule, its log files) of every "Error in rule" block of Snakemake's own log."""
    failures: list[tuple[str, list[str]]] = []
    rule = None
    for line in snakemake_log.splitlines():
        match = ERROR_RULE.match(line)
        if match:
            rule = match.group(1)
            failures.append((rule, []))
            continue
        if rule is not None:
            log = LOG_LINE.match(line)
            if log:
                failures[-1][1].extend(part.strip() for part in log.group(1).split(","))
                rule = None
            elif line and not line.startswith((" ", "\t")):
                rule = None
    return failures


def tail(path: Path, lines: int = 25) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return [f"(no log at {path})"]
    # a progress bar redraws itself with carriage returns: keep what the terminal would show last
    shown = [line.rsplit("\r", 1)[-1] for line in text.splitlines()]
    return [line for line in shown if line.strip()][-lines:]


def failure_text(snakemake_logs: str | Path | Sequence[str | Path] | None, workdir: Path = Path("."), lines: int = 25) -> str:
    """For each failed job: its rule and the end of its log, so the reason is on screen.
    ``snakemake_logs``: Snakemake's own log of the run (what ``onerror`` gets: one path or a list)."""
    if not snakemake_logs:
        return ""
    paths = [snakemake_logs] if isinstance(snakemake_logs, (str, Path)) else list(snakemake_logs)
    text = ""
    for path in paths:
        try:
            text += Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
    out = []
    for rule, logs in failed_jobs(text):
        for log in logs or ["(the rule has no log)"]:
            out += [RULE, f"gridscape: rule {rule} failed; the end of its log {log}:"]
            if logs:
                out += [f"  | {line}" for line in tail(workdir / log, lines)]
    if out:
        out.append(RULE)
    return "\n".join(out)
