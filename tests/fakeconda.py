"""A stand-in for conda, just enough for `snakemake --sdm conda` to create and activate an env.

No conda is installed where the tests run, yet what `--sdm conda` does to a job is Snakemake's
own code: it copies the env file next to the env, runs `conda env create --file <copy>`, then
runs each script job as `source <conda>/bin/activate <env>; python <script>` with PYTHONPATH
removed from the job's environment. This front end answers the few commands Snakemake calls and
makes each "env" a bare venv (no packages: not the dependencies, not gridscape). Its
sitecustomize records, for every Python process started in the env, the interpreter's prefix,
the PYTHONPATH it saw and where `gridscape` was imported from.

What this does not test: that conda resolves workflow/envs/gridscape.yaml (no network, no
conda). A script job in the bare env still finds numpy, torch, ... because Snakemake's script
preamble appends the main process's sys.path; with real conda the env's own copies come first.
"""

import json
import os
import stat
import sys
from pathlib import Path

FRONT_END = r"""#!/bin/bash
# fake conda (tests/fakeconda.py)
root="$(cd "$(dirname "$0")/.." && pwd)"
echo "conda $*" >> "$root/calls.log"
case "$1" in
  --version) echo "conda 25.1.1" ;;
  info) printf '{"conda_prefix": "%s", "root_prefix": "%s", "platform": "linux-64"}\n' "$root" "$root" ;;
  config) echo '{"get": {"channel_priority": "strict"}}' ;;
  clean) ;;
  env)
    [ "$2" = create ] || { echo "fake conda: unsupported: $*" >&2; exit 1; }
    shift 2
    while [ $# -gt 0 ]; do
      case "$1" in --file) file="$2"; shift ;; --prefix) prefix="$2"; shift ;; esac
      shift
    done
    echo "env-file $file" >> "$root/calls.log"
    "$FAKE_CONDA_PYTHON" -m venv --without-pip "$prefix" || exit 1
    site="$("$prefix/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    cp "$root/sitecustomize.py" "$site/sitecustomize.py" ;;
  *) echo "fake conda: unsupported: $*" >&2; exit 1 ;;
esac
"""

ACTIVATE = """# fake conda (tests/fakeconda.py): `source activate ENV`
export CONDA_PREFIX="$1"
export PATH="$1/bin:$PATH"
"""

SITECUSTOMIZE = """
import atexit, json, os, sys

def _record():
    module = sys.modules.get("gridscape")
    line = {
        "argv0": sys.argv[0] if sys.argv else "",
        "prefix": sys.prefix,
        "pythonpath": os.environ.get("PYTHONPATH"),
        "gridscape": getattr(module, "__file__", None),
    }
    with open(os.environ["FAKE_CONDA_LOG"], "a") as log:
        log.write(json.dumps(line) + "\\n")

if os.environ.get("FAKE_CONDA_LOG"):
    atexit.register(_record)
"""


def install(root: Path) -> dict[str, str]:
    """Write the fake conda under ``root``; return the environment variables that put it in use."""
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True)
    conda = bin_dir / "conda"
    conda.write_text(FRONT_END)
    conda.chmod(conda.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    (bin_dir / "activate").write_text(ACTIVATE)
    (root / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        # the same Python as the tests, so that the preamble's fallback paths fit it
        "FAKE_CONDA_PYTHON": getattr(sys, "_base_executable", sys.executable),
        "FAKE_CONDA_LOG": str(root / "python.log"),
    }


def calls(root: Path) -> list[str]:
    log = root / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def python_runs(root: Path) -> list[dict]:
    log = root / "python.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
