"""The conda environment of the rules lists the same packages as the pip install."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def normalise(requirement: str) -> str:
    name, rest = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(.*)", requirement).groups()
    return name.lower().replace("_", "-") + rest.replace(" ", "")


def test_conda_env_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pip_deps = sorted(normalise(r) for r in project["project"]["dependencies"])
    env = yaml.safe_load((ROOT / "workflow" / "envs" / "gridscape.yaml").read_text())
    pip_section = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    assert sorted(normalise(r) for r in pip_section) == pip_deps
    python = next(item for item in env["dependencies"] if isinstance(item, str) and item.startswith("python"))
    required = project["project"]["requires-python"].lstrip(">=")
    assert python.split("=")[-1] >= required


def test_every_rule_names_the_conda_env():
    for path in (ROOT / "workflow" / "rules").glob("*.smk"):
        text = path.read_text()
        rules = len(re.findall(r"^\s*rule \w+:", text, flags=re.M))
        conda = len(re.findall(r"^\s*conda:", text, flags=re.M))
        if path.name == "common.smk":
            continue
        assert conda == rules, f"{path.name}: {rules} rules but {conda} conda directives"


def test_conda_env_does_not_install_gridscape_by_path():
    """gridscape reaches conda jobs from src/ (see the env file's header and
    tests/test_conda_env.py). Snakemake creates the env from a copy of the env file under the
    conda prefix, so a local path in its pip section would not point at this repository."""
    env = yaml.safe_load((ROOT / "workflow" / "envs" / "gridscape.yaml").read_text())
    pip_section = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    for entry in pip_section:
        text = entry.strip()
        assert not text.startswith(("-", ".", "/", "~", "file:", "git+")), entry
        assert "@" not in text and "gridscape" not in text.lower(), entry
    for entry in env["dependencies"]:
        if isinstance(entry, str):
            assert "gridscape" not in entry.lower(), entry
