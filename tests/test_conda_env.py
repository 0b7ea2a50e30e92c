"""`snakemake --sdm conda`: every script job imports gridscape from this repository's src/.

workflow/envs/gridscape.yaml installs the dependencies only. gridscape reaches a conda job
through Snakemake's script preamble, which appends the main process's sys.path (where
common.smk put src/) to the job's sys.path; PYTHONPATH cannot carry it, since Snakemake
removes PYTHONPATH from a conda job's environment. A pip entry naming the repository in the
env file cannot either: Snakemake hands conda a copy of the env file kept under the conda
prefix, so a relative path would be read from there. This test runs the first three script
jobs of a tiny study with a stand-in conda (tests/fakeconda.py) and checks all of that.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import fakeconda
from fakedata import make_cifar10_archive
from test_workflow import STUDY, tiny_config, write_config

pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def conda_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("conda")
    workdir = root / "study"
    mirror = workdir / "mirror"
    mirror.mkdir(parents=True)
    _, md5, _ = make_cifar10_archive(mirror, images_per_class_per_batch=2, test_images_per_class=2, seed=0)
    write_config(workdir, tiny_config(mirror, md5))
    conda_root = root / "fake-conda"
    env = {**os.environ, **fakeconda.install(conda_root), "MPLBACKEND": "Agg"}
    # set in the main process on purpose: the job must not see it
    env["PYTHONPATH"] = str(root / "not-on-the-job-path")
    prefix = root / "envs"
    target = f"results/{STUDY}/data/split.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "workflow" / "Snakefile"),
         "--directory", str(workdir), "--cores", "2", "--sdm", "conda", "--conda-prefix", str(prefix),
         target],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert proc.returncode == 0, f"{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
    assert (workdir / target).is_file()
    return {"conda": conda_root, "prefix": prefix, "log": proc.stdout + proc.stderr}


def script_runs(conda_root: Path) -> dict[str, dict]:
    """The env's Python processes that ran a workflow script, by script name (download, ...)."""
    runs = {}
    for run in fakeconda.python_runs(conda_root):
        script = Path(run["argv0"])
        if script.suffix == ".py" and script.parent.name == "scripts":
            runs[script.stem.split(".")[-1]] = run
    return runs


def test_script_jobs_ran_in_the_conda_env(conda_run):
    runs = script_runs(conda_run["conda"])
    assert {"download", "prepare", "split"} <= set(runs), (runs, conda_run["log"][-3000:])
    for name, run in runs.items():
        assert Path(run["prefix"]).parent == conda_run["prefix"], (name, run)


def test_pythonpath_is_cleared_in_conda_jobs(conda_run):
    for name, run in script_runs(conda_run["conda"]).items():
        assert run["pythonpath"] is None, (name, run)


def test_conda_jobs_import_gridscape_from_the_repository(conda_run):
    expected = REPO / "src" / "gridscape" / "__init__.py"
    for name, run in script_runs(conda_run["conda"]).items():
        assert run["gridscape"] is not None, f"{name} did not import gridscape: {run}"
        assert Path(run["gridscape"]).resolve() == expected.resolve(), (name, run)


def test_conda_creates_the_env_from_a_copy_of_the_env_file(conda_run):
    """Why the env file must not name the repository by a relative path (tests/test_environment.py)."""
    env_files = [line.split(" ", 1)[1] for line in fakeconda.calls(conda_run["conda"]) if line.startswith("env-file ")]
    assert len(env_files) == 1, fakeconda.calls(conda_run["conda"])
    copy = Path(env_files[0])
    assert copy.parent == conda_run["prefix"]
    source = REPO / "workflow" / "envs" / "gridscape.yaml"
    assert copy.read_text() == source.read_text()
