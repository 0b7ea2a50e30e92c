"""Every shipped study passes `snakemake --lint` (which also validates it and builds its rules)."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STUDIES = sorted((REPO / "config").glob("*.yaml"))


@pytest.mark.parametrize("study", STUDIES, ids=[p.stem for p in STUDIES])
def test_workflow_passes_lint(study):
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint", "--configfile", str(study)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert "Congratulations, your workflow is in a good condition!" in output
    assert "Lints for" not in output
