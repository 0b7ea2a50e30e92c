# The study's config and kind, the kind's declared outputs, and what rules of every kind share.

import os
import re
import shutil
import sys
import time
from pathlib import Path

from snakemake.utils import validate

# The package holds the logic; make it importable here and in every script job without
# requiring it to be pip-installed. sys.path is what reaches script jobs, conda ones included:
# Snakemake's script preamble appends this process's sys.path to the job's (also on cluster
# nodes, which re-read this file). PYTHONPATH only serves non-conda jobs that start Python
# themselves: Snakemake removes it from conda jobs (tests/test_conda_env.py).
SRC = str(Path(workflow.basedir).parent / "src")
sys.path.insert(0, SRC)
# PYTHONPATH is written, not read as a required setting, hence no envvars: directive.
os.environ.update(
    PYTHONPATH=os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)
)

from gridscape.config import load_schema, validate as check_study
from gridscape.config.options import AUGMENTATION_KEYS
from gridscape.gpu_lease import record_run_allocation
from gridscape.kinds import kind_of
from gridscape.kinds.base import run_values
from gridscape.report.compile import INSTALL_COMMAND as LATEX_INSTALL_COMMAND
from gridscape.runlock import claim_run

# A run killed with SIGKILL leaves Snakemake's lock behind; the same command must still run.
# Only the main process claims: job processes re-read this file while their run holds the lock.
if workflow.is_main_process:
    # GPU leases: the SLURM allocation this run is in, if any (gridscape/gpu_lease.py)
    record_run_allocation()
    _stale_locks = claim_run(Path(".snakemake"))
    if _stale_locks:
        print(
            "gridscape: no other run of this workflow is alive here, so the Snakemake lock left "
            f"by a killed run is stale and was removed: {', '.join(map(str, _stale_locks))}",
            file=sys.stderr,
        )

SCHEMA = str(Path(workflow.basedir) / "schemas" / "config.schema.yaml")

# gridscape's own check first: its messages name the key and what was expected. It fills the
# defaults of the sections the study's kind reads, and only those.
# The checked config replaces the config as written, keys in the schema's order: rule params
# built from it (and the rerun triggers comparing them) do not depend on the file's layout.
_checked = check_study(config, load_schema(SCHEMA))
config.clear()
config.update(_checked)
for _section in [name for name in config if name not in kind_of(config).reads]:
    del config[_section]
validate(config, schema=SCHEMA, set_default=False)

STUDY = config["study"]
# The kind of study (src/gridscape/kinds/): its rule files, result files, figures and report.
KIND = kind_of(config)
CONDA_ENV = "../envs/gridscape.yaml"


wildcard_constraints:
    study=STUDY,


def declared(path):
    """The output ``path`` (under results/{study}/) as the study's kind declares it: a figure
    is its PNG and its PDF, and an output with a caption is flagged for the HTML report.
    """
    output = KIND.declared(path, config)
    if output is None:
        raise ValueError(f"{path} is not declared by the study kind {KIND.name}")
    full = f"results/{{study}}/{path}"

    def flagged(file):
        if not output.caption:
            return file
        return report(
            file,
            caption=f"../report/{output.caption}.rst",
            category=output.category,
            subcategory=output.subcategory or None,
            labels=dict(output.labels) or None,
        )

    return [flagged(f"{full}.png"), f"{full}.pdf"] if output.figure else flagged(full)


# Without latexmk on this host (where compile_report runs: it is a localrule) the PDF is left
# out of the run's targets and the run says so at its start and its end; with TeX installed
# later, the same command builds only the PDF.
LATEXMK = shutil.which("latexmk")
PDF_TARGET = f"results/{STUDY}/report/report.pdf"
PDF_SKIPPED = (
    None
    if LATEXMK
    else "latexmk is not installed here. Add TeX with\n"
    f"    sudo {LATEX_INSTALL_COMMAND}\n"
    "then run the same command again: only the PDF is built."
)
HTML_REPORT = f"results/{STUDY}/report.html"
RUN_STARTED = time.monotonic()


def heavy_threads(jobs_at_once=1):
    """Threads of a heavy job: the run's --cores shared among the jobs of its rule that can run
    at once (one fused grid pack gets them all). On a cluster each job is its own allocation:
    2 (sbatch --cpus-per-task), and inside it the job uses all it got; --set-threads overrides
    either. Results are reproducible for a given thread count (README, "Determinism").
    """
    if not workflow.local_exec:
        return 2
    try:
        cores = int(workflow.cores)
    except Exception:  # a dry run without --cores
        return 2
    # a cluster job's own Snakemake: the job's cores are all its own
    if not workflow.is_main_process:
        return cores
    return max(1, cores // max(1, jobs_at_once))


def study_targets():
    targets = KIND.targets(config, f"results/{STUDY}")
    return [path for path in targets if not (PDF_SKIPPED and path == PDF_TARGET)]
