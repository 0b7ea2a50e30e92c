"""Snakemake's HTML report of a finished study, checked against its kind's declarations."""

import zipfile
from pathlib import Path

import yaml

from gridscape.config import validate
from gridscape.kinds import kind_of


def check_html_report(workdir: Path, run_snakemake) -> list[str]:
    """Build the report zip of the study in ``workdir`` and return the declared outputs with a
    caption (figures as PNG) that its page does not show; the landing text must name the kind."""
    config = validate(yaml.safe_load((workdir / "config" / "config.yaml").read_text()))
    kind = kind_of(config)
    target = workdir / "report.zip"
    run_snakemake(workdir, "--report", str(target))
    with zipfile.ZipFile(target) as archive:
        page = next(archive.read(name).decode() for name in archive.namelist() if name.endswith("report.html"))
    # the landing text (workflow/report/workflow-<kind>.rst) as rendered into the page
    assert f'(kind <tt class=\\"docutils literal\\">{kind.name}</tt>)' in page, "landing text does not name the kind"
    missing = []
    for output in kind.outputs:
        if not output.caption:
            continue
        for path in output.expand(config):
            file = f"results/{config['study']}/{path}" + (".png" if output.figure else "")
            if file not in page:
                missing.append(file)
    return missing
