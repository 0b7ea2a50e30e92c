"""The Snakefile and the rule files are formatted with snakefmt (a Snakemake workflow catalog check).

The catalog runs `snakefmt --check` on workflow/Snakefile and workflow/rules/*.smk; this test
runs the same check with the snakefmt of the `test` extra (pinned in pyproject.toml, since
another version may format differently). To fix a failure: `.venv/bin/snakefmt workflow/`.
"""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / "workflow"


def run_snakefmt_check() -> subprocess.CompletedProcess:
    assert importlib.util.find_spec("snakefmt") is not None, (
        "snakefmt is not installed: it is part of the test extra (pip install -e '.[test]')"
    )
    # -v names every file it included and every file that would change (on stderr)
    return subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", "-v", "workflow/"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )


def test_snakefmt_checks_the_snakefile_and_every_rule_file():
    output = run_snakefmt_check()
    log = output.stdout + output.stderr
    included = set(re.findall(r"Included: (\S+) matched", log))
    expected = {"workflow/Snakefile"} | {
        path.relative_to(REPO).as_posix() for path in (WORKFLOW / "rules").glob("*.smk")
    }
    assert expected <= included, f"snakefmt did not look at {sorted(expected - included)}:\n{log[-3000:]}"


def test_workflow_is_formatted_with_snakefmt():
    output = run_snakefmt_check()
    log = output.stdout + output.stderr
    if output.returncode == 0:
        return
    changed = re.findall(r'In file "([^"]+)":\s+Formatted content is different', log)
    assert output.returncode == 1 and changed, (
        f"snakefmt could not check the workflow (exit {output.returncode}):\n{log[-4000:]}"
    )
    listing = "\n".join(f"  {path}" for path in sorted(changed))
    raise AssertionError(
        f"snakefmt would reformat {len(changed)} file(s):\n{listing}\n"
        "Run `.venv/bin/snakefmt workflow/` (or `snakefmt --diff workflow/` to see the changes)."
    )
