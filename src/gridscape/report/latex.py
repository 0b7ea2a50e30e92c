"""A Jinja environment for LaTeX templates, and the filters that put values into them.

Delimiters are LaTeX-friendly so that templates stay valid-looking LaTeX: ``\\VAR{x}`` prints,
``\\BLOCK{if x}`` ... ``\\BLOCK{endif}`` controls, ``\\#{comment}`` is dropped. Autoescape is
off (templates are LaTeX), so every string that comes from a config or a dataset must pass
through ``escape_latex`` (filter ``e``, also ``tex``): ``& % $ # _ { } ~ ^ \\`` come out
literally and ``\\input{/etc/passwd}`` prints instead of running. Numbers go through ``num``,
``pct``, ``pp`` and ``value``, which never print more digits than the data can carry.
"""

from __future__ import annotations

import math
import numbers
import re
from pathlib import Path
from typing import Any, Iterable

import jinja2

# Characters with a meaning in LaTeX, and what prints them literally (T1 font encoding).
_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    '"': r"\textquotedbl{}",
    # Not special, but they would form ligatures or typographic quotes: print them as typed.
    "`": r"\textasciigrave{}",
    "'": r"\textquotesingle{}",
    "-": "-{}",
    "\n": " ",
    "\r": " ",
    "\t": " ",
}
# Non-ASCII characters that pdflatex's utf8 input cannot set on its own, mapped to commands.
_UNICODE = {
    "α": r"\ensuremath{\alpha}", "β": r"\ensuremath{\beta}", "γ": r"\ensuremath{\gamma}", "δ": r"\ensuremath{\delta}", "ε": r"\ensuremath{\varepsilon}",
    "η": r"\ensuremath{\eta}", "θ": r"\ensuremath{\theta}", "λ": r"\ensuremath{\lambda}", "μ": r"\ensuremath{\mu}", "σ": r"\ensuremath{\sigma}",
    "π": r"\ensuremath{\pi}", "×": r"\ensuremath{\times}", "±": r"\ensuremath{\pm}", "≤": r"\ensuremath{\leq}", "≥": r"\ensuremath{\geq}",
    "→": r"\ensuremath{\rightarrow}", "∞": r"\ensuremath{\infty}", "°": r"\textdegree{}", "–": "--", "—": "---",
    "…": r"\dots{}", "‘": "`", "’": "'", "“": "``", "”": "''", "·": r"\textperiodcentered{}",
}


# A true minus sign that works in text and in math mode (a hyphen is too short).
MINUS = r"\ensuremath{-}"


def escape_latex(value: Any) -> str:
    """``value`` as text that LaTeX prints literally (no command, group or math survives).

    Latin letters with accents pass through (pdflatex reads UTF-8); other characters that
    pdflatex cannot set become ``?`` rather than stopping the build.
    """
    if value is None:
        return ""
    out = []
    for char in str(value):
        if char in _SPECIAL:
            out.append(_SPECIAL[char])
        elif char in _UNICODE:
            out.append(_UNICODE[char])
        elif ord(char) < 32:
            out.append(" ")
        elif ord(char) < 128 or 0xA0 <= ord(char) <= 0x17F:
            out.append(char)
        else:
            out.append("?")
    return "".join(out)


def escape_verbatim_lines(text: str) -> str:
    """Multi-line text (YAML) for a typewriter block: each line escaped, spaces kept as
    control spaces, indentation as invisible characters, lines ended by ``\\\\``, breaks
    allowed after ``/``. Nothing is verbatim, so there is no environment to close early."""
    lines = []
    for line in str(text).splitlines():
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        body = escape_latex(stripped).replace(" ", "\\ ").replace("/", "/\\allowbreak{}")
        prefix = "\\hphantom{%s}" % ("x" * indent) if indent else ""
        lines.append((prefix + body) or "\\mbox{}")
    return "\\\\\n".join(lines)


def _plain_decimal(x: float, sig: int) -> str:
    """``x`` rounded to ``sig`` significant digits, without an exponent, trailing zeros kept."""
    if x == 0:
        return "0"
    exponent = math.floor(math.log10(abs(x)))
    decimals = max(sig - 1 - exponent, 0)
    text = f"{round(x, decimals):.{decimals}f}"
    return text


def format_number(value: Any, sig: int = 3) -> str:
    """A measured number with ``sig`` significant digits: 0.0150, 2.29, 1057 (integers in full),
    1.2 \\times 10^{-5} for very small or very large values. Non-numbers are escaped."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        return escape_latex(value)
    if isinstance(value, numbers.Integral):
        return group_digits(int(value))
    x = float(value)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return r"\ensuremath{\infty}" if x > 0 else r"\ensuremath{-\infty}"
    if x == 0:
        return "0"
    if x < 0:
        return MINUS + format_number(-x, sig)
    exponent = math.floor(math.log10(abs(x)))
    if -4 <= exponent < 6:
        text = _plain_decimal(x, sig)
        if "." not in text and abs(x) >= 1000:
            return group_digits(int(text))
        return text
    mantissa = x / 10**exponent
    return rf"\ensuremath{{{mantissa:.{max(sig - 1, 0)}f} \times 10^{{{exponent}}}}}"


def group_digits(n: int) -> str:
    """Integers with a thin space every three digits from 10 000 on (50\\,000)."""
    text = str(abs(n))
    if len(text) > 4:
        groups = []
        while text:
            groups.insert(0, text[-3:])
            text = text[:-3]
        text = r"\,".join(groups)
    return ("-" if n < 0 else "") + text


def format_coordinate(value: Any, sig: int = 3) -> str:
    """A coordinate or a setting: at most ``sig`` significant digits, no trailing zeros (−0.04)."""
    text = format_number(value, sig)
    if "." in text and "times" not in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_fixed(value: Any, decimals: int = 2) -> str:
    """A number with a fixed count of decimals (timings, table columns)."""
    if value is None:
        return "n/a"
    x = float(value)
    if not math.isfinite(x):
        return format_number(x)
    return f"{x:.{decimals}f}"


def format_duration(seconds: Any) -> str:
    """A run time in the unit that reads best: 38.2 seconds, 40.5 minutes, 2.3 hours."""
    if seconds is None:
        return "n/a"
    x = float(seconds)
    if x < 120:
        return f"{format_number(x)} seconds"
    if x < 7200:
        return f"{x / 60:.1f} minutes"
    return f"{x / 3600:.1f} hours"


def format_percent(value: Any, decimals: int = 1, sign: bool = True) -> str:
    """A fraction (0.9722) as a percentage ``97.2\\,\\%``; ``sign=False`` leaves out the % sign."""
    if value is None:
        return "n/a"
    x = float(value)
    if not math.isfinite(x):
        return format_number(x)
    text = f"{100 * x:.{decimals}f}"
    return text + (r"\,\%" if sign else "")


def format_points(value: Any) -> str:
    """A difference of two fractions in percentage points, with enough decimals to be non-zero."""
    if value is None:
        return "n/a"
    x = 100 * float(value)
    decimals = 1 if abs(x) >= 0.1 or x == 0 else 2 if abs(x) >= 0.01 else 3
    return f"{x:.{decimals}f} percentage points"


def format_value(value: Any) -> str:
    """A config value as the user wrote it (0.001 stays 0.001; strings escaped)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value)) if int(value) >= 0 else MINUS + str(-int(value))
    if isinstance(value, numbers.Real):
        if float(value) < 0:
            return MINUS + format_value(-float(value))
        text = repr(float(value))
        if "e" in text:
            mantissa, exponent = text.split("e")
            mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
            return rf"\ensuremath{{{mantissa} \times 10^{{{int(exponent)}}}}}"
        return text
    return escape_latex(value)


def format_shape(shape: Iterable[int] | str) -> str:
    """(1, 6, 28, 28) or '1x6x28x28' as 1\\,$\\times$\\,6\\,$\\times$\\,28\\,$\\times$\\,28."""
    if isinstance(shape, str):
        parts = [p for p in re.split(r"[x×, ()\[\]]+", shape) if p]
    else:
        parts = [str(int(p)) for p in shape]
    return r"\,\ensuremath{\times}\,".join(escape_latex(p) for p in parts)


def count_word(n: int, singular: str, plural: str | None = None) -> str:
    """'1 cell', '9 cells' (numbers up to ten in words are for prose: see ``words``)."""
    return f"{group_digits(int(n))} {singular if int(n) == 1 else (plural or singular + 's')}"


_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def number_word(n: int) -> str:
    """Small counts as words in prose (three cells), larger ones as digits."""
    n = int(n)
    return _WORDS[n] if 0 <= n < len(_WORDS) else group_digits(n)


def upper_first(text: str) -> str:
    """The first character upper-cased, the rest unchanged (Jinja's capitalize lowers the rest)."""
    text = str(text)
    return text[:1].upper() + text[1:]


def join_words(items: Iterable[str], conjunction: str = "and") -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


def make_environment(template_dirs: str | Path | Iterable[str | Path]) -> jinja2.Environment:
    """The Jinja environment of the report templates (LaTeX delimiters, strict undefined)."""
    if isinstance(template_dirs, (str, Path)):
        template_dirs = [template_dirs]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs]),
        block_start_string=r"\BLOCK{",
        block_end_string="}",
        variable_start_string=r"\VAR{",
        variable_end_string="}",
        comment_start_string=r"\#{",
        comment_end_string="}",
        line_statement_prefix=None,
        line_comment_prefix="%#",
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        e=escape_latex,
        tex=escape_latex,
        escape_latex=escape_latex,
        verbatim_lines=escape_verbatim_lines,
        num=format_number,
        fixed=format_fixed,
        coord=format_coordinate,
        duration=format_duration,
        pct=format_percent,
        pp=format_points,
        value=format_value,
        shape=format_shape,
        count=count_word,
        words=number_word,
        join_words=join_words,
        upper_first=upper_first,
        int=group_digits,
    )
    return env


def render(template_dirs: str | Path | Iterable[str | Path], name: str, context: dict) -> str:
    """Render template ``name`` with ``context``."""
    return make_environment(template_dirs).get_template(name).render(**context)


def render_string(source: str, context: dict | None = None) -> str:
    """Render a template given as a string (for tests and small snippets)."""
    env = make_environment([])
    return env.from_string(source).render(**(context or {}))
