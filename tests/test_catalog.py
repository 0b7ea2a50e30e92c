"""Conventions of the Snakemake workflow catalog ("standardized usage"): workflow/Snakefile,
config/README.md, a .snakemake-workflow-catalog.yml in the repository root, and a LICENSE
that says what pyproject.toml says. (snakefmt formatting: tests/test_style.py.)"""

import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def test_standardized_layout():
    assert (REPO / "workflow" / "Snakefile").is_file()
    assert (REPO / "config" / "README.md").is_file()
    assert list((REPO / "workflow" / "rules").glob("*.smk"))


def test_catalog_settings():
    settings = yaml.safe_load((REPO / ".snakemake-workflow-catalog.yml").read_text())
    usage = settings["usage"]
    flags = usage["mandatory-flags"]
    assert isinstance(flags["desc"], str) and flags["desc"].strip()
    assert isinstance(flags["flags"], (str, list)) and flags["flags"]
    for flag in [flags["flags"]] if isinstance(flags["flags"], str) else flags["flags"]:
        assert flag.startswith("--"), flag
    deployment = usage["software-stack-deployment"]
    assert set(deployment) <= {"conda", "apptainer", "apptainer+conda", "singularity", "singularity+conda"}
    assert all(isinstance(value, bool) for value in deployment.values())
    # every rule has a conda: directive (tests/test_environment.py) and --sdm conda is tested
    # in tests/test_conda_env.py; no container image is declared, so no apptainer
    assert deployment["conda"] is True
    assert not deployment.get("apptainer") and not deployment.get("apptainer+conda")
    assert usage["report"] is True


def test_license_matches_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    license_field = project["license"]
    name = license_field["text"] if isinstance(license_field, dict) else license_field
    assert name == "MIT"
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 the gridscape authors" in text
    assert "Permission is hereby granted, free of charge" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text
