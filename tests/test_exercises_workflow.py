"""The exercises kind through the whole workflow: the shipped config/cs5242-exercises.yaml, its
files checked against the handout's answers, its PDF and its HTML report."""

import json
import shutil
import subprocess

import pandas as pd
import pytest
import yaml

from html_report import check_html_report
from test_workflow import REPO, run_snakemake, write_config

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("exercises")
    config = yaml.safe_load((REPO / "config" / "cs5242-exercises.yaml").read_text())
    write_config(workdir, config)
    proc = run_snakemake(workdir)
    (workdir / "terminal.txt").write_text(proc.stderr)
    return workdir / "results" / config["study"]


def test_answers_match_the_handout(study):
    escape = json.loads((study / "exercises" / "escape.json").read_text())
    assert round(escape["h_max"], 2) == 0.41
    rf = pd.read_csv(study / "exercises" / "receptive_field.csv")
    assert rf["receptive_field"].tolist() == [8, 26, 15, 27, 20, 147, 282, 18, 18, 91]
    assert (rf["empirical"] == rf["receptive_field"]).all()
    ops = pd.read_csv(study / "exercises" / "ops.csv")
    assert ops["match"].all() and (ops["max_abs_diff"] <= 1e-12).all() and len(ops) == 8
    check = pd.read_csv(study / "exercises" / "trajectories" / "check.csv")
    assert set(check["name"]) == {"adam_bump", "adam_relu", "adam_sigmoid", "adam_abs"}
    assert (check["max_abs_diff_torch"] <= 1e-12).all()
    gd = pd.read_csv(study / "exercises" / "trajectories" / "gd_bump.csv")
    assert list(gd.columns) == ["t", "g", "m", "v", "m_hat", "v_hat", "x", "f"]
    assert gd["x"].iloc[-2:].round(12).tolist() in ([0.9, 1.2], [1.2, 0.9])


def test_no_dataset_and_no_training_rule_ran(study):
    logs = {p.relative_to(study / "logs").as_posix() for p in (study / "logs").rglob("*.log")}
    assert not any(name.startswith(("split", "prepare", "train")) for name in logs), logs
    assert not (study.parents[1] / "resources").exists()


def test_report_states_the_computed_answers(study):
    tex = (study / "report" / "report.tex").read_text()
    assert "0.41" in tex and "alternates between" in tex
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(study / "report" / "report.pdf"), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert "Receptive fields (question 6)" in text and "All eight comparisons match" in " ".join(text.split())


def test_html_report_shows_every_declared_output(study):
    assert check_html_report(study.parents[1], run_snakemake) == []


def test_the_end_of_run_summary_gives_the_checks_numbers(study):
    summary = (study.parents[1] / "terminal.txt").read_text().split(f"gridscape: {study.name} finished in ")[1]
    check = pd.read_csv(study / "exercises" / "trajectories" / "check.csv")
    ops = pd.read_csv(study / "exercises" / "ops.csv")
    escape = json.loads((study / "exercises" / "escape.json").read_text())
    assert (f"Adam by hand against torch.optim.Adam: largest difference {check['max_abs_diff_torch'].max():.2e} "
            f"({len(check)} runs)") in summary
    assert f"escape scan: the largest bump height escaped is h = {escape['h_max']}" in summary
    assert f"layers by hand against torch: {int(ops['match'].sum())} of {len(ops)} match" in summary
