"""Compile a LaTeX file to PDF with latexmk, or say exactly how to get latexmk."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Mapping

INSTALL_COMMAND = (
    "apt-get install -y --no-install-recommends texlive-latex-recommended texlive-science latexmk lmodern"
)
LATEXMK_ARGS = ("-pdf", "-interaction=nonstopmode", "-halt-on-error")


class LatexError(RuntimeError):
    """latexmk is missing, or the document did not compile."""


def find_latexmk(env: Mapping[str, str] | None = None) -> str:
    path = (env if env is not None else os.environ).get("PATH", "")
    found = shutil.which("latexmk", path=path)
    if found is None:
        raise LatexError(
            "latexmk is not on PATH, so the report cannot be compiled to PDF. "
            f"On Debian or Ubuntu install it (as root) with:\n    {INSTALL_COMMAND}"
        )
    return found


def log_tail(log: Path, lines: int = 40) -> str:
    """The end of a LaTeX .log, from its first error line on when there is one."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return f"(no log at {log})"
    errors = [i for i, line in enumerate(text) if line.startswith("!")]
    start = max(errors[0] - 5, 0) if errors else max(len(text) - lines, 0)
    return "\n".join(text[start : start + lines])


def compile_pdf(tex: str | Path, timeout: float = 600, env: Mapping[str, str] | None = None) -> Path:
    """Run latexmk on ``tex`` in its own folder; return the PDF's path.

    Raises ``LatexError`` with the install command when latexmk is missing, and with the tail
    of the LaTeX log when the build fails.
    """
    tex = Path(tex).resolve()
    run_env = dict(env if env is not None else os.environ)
    latexmk = find_latexmk(run_env)
    # Long log lines (file paths, overfull boxes) stay on one line, which keeps the tail readable.
    run_env.setdefault("max_print_line", "2000")
    command = [latexmk, *LATEXMK_ARGS, tex.name]
    try:
        proc = subprocess.run(
            command, cwd=tex.parent, capture_output=True, text=True, timeout=timeout, env=run_env
        )
    except subprocess.TimeoutExpired as error:
        raise LatexError(f"latexmk did not finish within {timeout} s on {tex}") from error
    pdf = tex.with_suffix(".pdf")
    if proc.returncode != 0 or not pdf.exists():
        raise LatexError(
            f"latexmk failed on {tex} (exit status {proc.returncode}). The end of "
            f"{tex.with_suffix('.log').name}:\n{log_tail(tex.with_suffix('.log'))}\n"
            f"latexmk's own output ends with:\n{proc.stdout[-1500:]}{proc.stderr[-1500:]}"
        )
    return pdf


def pdf_text(pdf: str | Path) -> str:
    """The text of a PDF via poppler's pdftotext (for checks and tests)."""
    exe = shutil.which("pdftotext")
    if exe is None:
        raise LatexError("pdftotext is not on PATH; install poppler-utils")
    return subprocess.run([exe, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
