"""Issue 7's guarantees, each tested: interruption, determinism, disk, safety; and issue 19's
resumption of training jobs from their checkpoints.

Three runs of the tiny CIFAR-10 study of test_workflow (to grid.csv, final/metrics.json and
landscape/surface.csv, with --cores 1 so every job has one thread): two uninterrupted runs in
two work dirs, and one interrupted three times and rerun with the same command: SIGKILL of
Snakemake and its job once the grid pack has checkpointed its first epoch; SIGTERM to the
final model's job after its first epoch (its rule retries it); SIGKILL mid-landscape-chunk. The
interruption points are exact, not timed: tests/hold/sitecustomize.py holds the job at a log
line until it is killed or released.
"""

import ast
import csv
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from fakedata import make_cifar10_archive
from test_workflow import REPO, SNAKEMAKE, STUDY, tiny_config, write_config

RESULTS = ["search/grid.csv", "final/metrics.json", "landscape/surface.csv"]
TARGETS = [f"results/{STUDY}/{name}" for name in RESULTS]
HOLD = REPO / "tests" / "hold"
TRAINING_RULES = {"download", "prepare", "split", "train_pack", "unpack_cell", "aggregate_grid", "choose_best", "train_final"}


def command(workdir: Path, *args: str) -> list[str]:
    """The user's command; run from the repository root, so the default profile applies."""
    return [*SNAKEMAKE, "--directory", str(workdir), "--cores", "1", *args]


def snakemake_env(hold: str | None = None, marker: Path | None = None) -> dict:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg"}
    if hold:
        env["GRIDSCAPE_TEST_HOLD"] = f"{hold}|{marker}"
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HOLD), env.get("PYTHONPATH")) if p)
    return env


def run(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(command(workdir, *args), cwd=REPO, capture_output=True, text=True,
                          env=snakemake_env(), timeout=900)
    assert proc.returncode == 0, f"snakemake failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


def rules_run(proc: subprocess.CompletedProcess) -> list[str]:
    """The rule of every job a (non-dry) run started, from Snakemake's log."""
    text = proc.stdout + proc.stderr
    return [line.split()[-1].rstrip(":") for line in text.splitlines() if line.startswith(("rule ", "localrule "))]


def kill_at(workdir: Path, hold: str) -> dict[str, int]:
    """Start the run, wait until a job reaches ``hold`` ('logger|regex|n'), SIGKILL Snakemake
    and its jobs (one process group), and return the result files present at that moment
    with their modification times."""
    marker = workdir / "held"
    proc = subprocess.Popen(command(workdir, *TARGETS), cwd=REPO, env=snakemake_env(hold, marker),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while not marker.exists():
            assert proc.poll() is None, f"the run ended ({proc.returncode}) before reaching {hold}"
            assert time.monotonic() < deadline, f"no job reached {hold}"
            time.sleep(0.2)
        present = {str(p.relative_to(workdir)): p.stat().st_mtime_ns for p in result_files(workdir)}
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    marker.unlink()
    (workdir / "held.seen").unlink()
    return present


def result_files(workdir: Path) -> list[Path]:
    """Every result of the run: logs and benchmark times are records of the jobs, and
    checkpoints their unfinished state, not results."""
    files = [p for p in (workdir / "resources").rglob("*") if p.is_file() and "logs" not in p.parts]
    for p in (workdir / "results" / STUDY).rglob("*"):
        if p.is_file() and p.relative_to(workdir / "results" / STUDY).parts[0] not in ("logs", "benchmarks", "checkpoints"):
            files.append(p)
    return files


def checkpoints(workdir: Path) -> list[str]:
    return sorted(str(p.relative_to(workdir)) for p in (workdir / "results" / STUDY / "checkpoints").rglob("*") if p.is_file())


def term_at(workdir: Path, hold: str, *targets: str) -> subprocess.CompletedProcess:
    """Run to ``targets``; when a job reaches ``hold``, send it SIGTERM (as SLURM does before a
    time limit) and let it go on: it checkpoints, exits 143, and is retried (the training
    rules' `retries: 1`)."""
    marker = workdir / "held"
    proc = subprocess.Popen(command(workdir, *targets), cwd=REPO, env=snakemake_env(hold, marker),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 600
    while not marker.exists():
        assert proc.poll() is None, f"the run ended ({proc.returncode}) before reaching {hold}"
        assert time.monotonic() < deadline, f"no job reached {hold}"
        time.sleep(0.2)
    time.sleep(0.1)  # the pid is written before the file is closed
    os.kill(int(marker.read_text()), signal.SIGTERM)
    Path(f"{marker}.release").touch()
    stdout, stderr = proc.communicate(timeout=600)
    for path in (marker, Path(f"{marker}.seen"), Path(f"{marker}.release")):
        path.unlink()
    assert proc.returncode == 0, f"snakemake failed:\n{stdout[-3000:]}\n{stderr[-5000:]}"
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def new_workdir(factory, name: str) -> Path:
    workdir = factory.mktemp(name)
    mirror = workdir / "mirror"
    mirror.mkdir()
    _, md5, _ = make_cifar10_archive(mirror, images_per_class_per_batch=2, test_images_per_class=2, seed=0)
    write_config(workdir, tiny_config(mirror, md5))
    return workdir


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    workdir = new_workdir(tmp_path_factory, "baseline")
    run(workdir, *TARGETS)
    return workdir


@pytest.fixture(scope="module")
def repeat(tmp_path_factory) -> Path:
    workdir = new_workdir(tmp_path_factory, "repeat")
    run(workdir, *TARGETS)
    return workdir


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory) -> dict:
    """Killed mid-training (the fused pack, once its checkpoint after epoch 1 of 2 is written),
    rerun to the final model, whose job is sent SIGTERM after its epoch 1 and retried by its rule; killed
    again in the second landscape chunk job, then rerun to the end."""
    workdir = new_workdir(tmp_path_factory, "interrupted")
    mid_pack = kill_at(workdir, r"gridscape.checkpoint|^checkpoint written at epoch 2, step 0|1")
    pack_checkpoints = checkpoints(workdir)
    terminated = term_at(workdir, r"gridscape.train|^epoch 1/2|1", f"results/{STUDY}/final/model.safetensors")
    after_training = checkpoints(workdir)
    mid_chunk = kill_at(workdir, r"gridscape.landscape.steps|^chunk \d+: points|2")
    final = run(workdir, *TARGETS)
    return {"workdir": workdir, "mid_pack": mid_pack, "mid_chunk": mid_chunk, "final": final,
            "pack_checkpoints": pack_checkpoints, "terminated": terminated, "after_training": after_training}


def grid_without_seconds(path: Path) -> list[list[str]]:
    """grid.csv's fields as written, less the wall-clock ``seconds`` column (issue 2's contract
    keeps it in grid.csv; it is the one field that differs between two runs)."""
    rows = list(csv.reader(io.StringIO(path.read_text())))
    keep = [i for i, name in enumerate(rows[0]) if name != "seconds"]
    assert len(keep) == len(rows[0]) - 1
    return [[row[i] for i in keep] for row in rows]


def assert_same_results(a: Path, b: Path) -> None:
    a, b = a / "results" / STUDY, b / "results" / STUDY
    assert grid_without_seconds(a / "search" / "grid.csv") == grid_without_seconds(b / "search" / "grid.csv")
    for name in ("final/metrics.json", "landscape/surface.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


# --- determinism ---------------------------------------------------------------------------


@pytest.mark.workflow
def test_same_config_twice_gives_byte_identical_results(baseline, repeat):
    grid = (baseline / "results" / STUDY / "search" / "grid.csv").read_text()
    assert "diverged" in grid and "ok" in grid  # the comparison covers both kinds of cell
    assert_same_results(baseline, repeat)
    assert (baseline / "results" / STUDY / "final" / "model.safetensors").read_bytes() == (
        repeat / "results" / STUDY / "final" / "model.safetensors").read_bytes()


# --- interruption --------------------------------------------------------------------------


@pytest.mark.workflow
def test_killed_twice_the_same_command_finishes_with_the_uninterrupted_results(baseline, interrupted):
    assert_same_results(baseline, interrupted["workdir"])


@pytest.mark.workflow
def test_a_killed_training_job_resumes_from_its_checkpoint(baseline, interrupted):
    workdir = interrupted["workdir"]
    (pack_checkpoint,) = interrupted["pack_checkpoints"]
    assert pack_checkpoint.startswith(f"results/{STUDY}/checkpoints/train_pack/")
    assert pack_checkpoint.endswith("/checkpoint.safetensors")
    pack = pack_checkpoint.split("/")[-2]
    pack_log = (workdir / "results" / STUDY / "logs" / "train_pack" / f"{pack}.log").read_text()
    assert "at epoch 2, step 0 of " in pack_log.split("resuming from checkpoint")[-1].splitlines()[0]
    assert "epoch 1/2" not in pack_log.split("resuming from checkpoint")[-1]  # epoch 1 is not trained again


@pytest.mark.workflow
def test_sigterm_checkpoints_and_the_retried_job_resumes_with_the_same_model(baseline, interrupted):
    workdir = interrupted["workdir"]
    terminal = interrupted["terminated"].stderr
    checkpoint = f"results/{STUDY}/checkpoints/train_final/checkpoint.safetensors"
    assert f"gridscape: stopping on SIGTERM; a rerun of this job resumes from {checkpoint}" in terminal
    assert "returned non-zero exit status 143" in terminal and "Trying to restart job" in terminal
    # Snakemake empties the rule's log when it retries: this is the retried job's
    log = (workdir / "results" / STUDY / "logs" / "train_final.log").read_text()
    resumed = log.split(f"resuming from checkpoint {checkpoint}")[-1]
    assert "at epoch 2, step 0 of " in resumed.splitlines()[0] and "epoch 2/2" in resumed and "epoch 1/2" not in log
    # the job's checkpoints are removed once its outputs are complete
    assert interrupted["after_training"] == [] and checkpoints(workdir) == []
    final, reference = workdir / "results" / STUDY / "final", baseline / "results" / STUDY / "final"
    assert (final / "model.safetensors").read_bytes() == (reference / "model.safetensors").read_bytes()
    history, expected = (pd.read_csv(d / "history.csv").drop(columns="seconds") for d in (final, reference))
    pd.testing.assert_frame_equal(history, expected, check_exact=True)


@pytest.mark.workflow
def test_a_killed_job_leaves_no_result_and_is_rerun(interrupted):
    # At the first kill the pack was mid-epoch: no pack folder, no cell, no grid.
    assert f"results/{STUDY}/data/split.csv" in interrupted["mid_pack"]
    assert not any("/search/" in name for name in interrupted["mid_pack"])
    # At the second, one chunk was written and the other was being computed.
    chunks = [name for name in interrupted["mid_chunk"] if "/landscape/chunks/" in name]
    assert len(chunks) == 1, chunks
    assert f"results/{STUDY}/final/model.safetensors" in interrupted["mid_chunk"]


@pytest.mark.workflow
def test_the_rerun_recomputes_only_what_was_unfinished(interrupted):
    workdir = interrupted["workdir"]
    now = {str(p.relative_to(workdir)): p.stat().st_mtime_ns for p in result_files(workdir)}
    for name, mtime in {**interrupted["mid_pack"], **interrupted["mid_chunk"]}.items():
        assert now[name] == mtime, f"{name} was written again"
    rules = rules_run(interrupted["final"])
    assert rules.count("landscape_chunk") == 1 and "landscape_merge" in rules
    assert not set(rules) & TRAINING_RULES, rules


@pytest.mark.workflow
def test_the_stale_lock_of_a_killed_run_is_removed_and_said(interrupted):
    message = interrupted["final"].stderr
    assert "lock left by a killed run is stale and was removed" in message
    assert ".snakemake/locks/0.output.lock" in message
    assert not (interrupted["workdir"] / ".snakemake" / "locks").exists()  # removed at the end


CLAIM = "import sys, time; from gridscape.runlock import claim_run; print([p.name for p in claim_run(sys.argv[1])], flush=True); time.sleep(float(sys.argv[2]))"


def claim(directory: Path, hold_for: float = 0.0) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CLAIM, str(directory), str(hold_for)],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO / "src")})


def test_a_live_runs_lock_is_never_removed(tmp_path):
    locks = tmp_path / "locks"
    live = claim(tmp_path, hold_for=600)
    assert live.stdout.readline().strip() == "[]"
    locks.mkdir()
    for name in ("0.input.lock", "0.output.lock"):
        (locks / name).write_text("results/x\n")
    try:
        other = claim(tmp_path)
        assert other.communicate()[0].strip() == "[]"  # the live run holds its claim
        assert sorted(p.name for p in locks.iterdir()) == ["0.input.lock", "0.output.lock"]
    finally:
        live.send_signal(signal.SIGKILL)
        live.wait()
    after = claim(tmp_path)
    assert after.communicate()[0].strip() == "['0.input.lock', '0.output.lock']"
    assert list(locks.iterdir()) == []


# --- disk ----------------------------------------------------------------------------------


def summary(workdir: Path, *args: str) -> dict[str, dict]:
    """Every file the run's DAG writes (outputs and logs), from ``snakemake --summary``."""
    proc = run(workdir, "--summary", *args)
    lines = proc.stdout[proc.stdout.index("output_file\t"):].splitlines()
    files = {}
    for row in csv.DictReader(lines, delimiter="\t"):
        files[row["output_file"]] = row
        files.update({log: row for log in row["log-file(s)"].split(",") if log != "-"})
    return files


@pytest.mark.workflow
def test_two_studies_in_one_workdir_write_disjoint_files(baseline):
    config = yaml.safe_load((baseline / "config" / "config.yaml").read_text())
    (baseline / "config" / "other.yaml").write_text(yaml.safe_dump({**config, "study": "tiny-other"}))
    first = summary(baseline)
    second = summary(baseline, "--configfile", str(baseline / "config" / "other.yaml"))
    shared = {name for name in first if name.startswith("resources/datasets/")}
    assert shared and shared == {name for name in second if name.startswith("resources/datasets/")}
    assert all(name.startswith(f"results/{STUDY}/") for name in set(first) - shared)
    assert all(name.startswith("results/tiny-other/") for name in set(second) - shared)
    assert len(set(first) - shared) > 50 and not (set(first) - shared) & (set(second) - shared)
    # The dataset cache is shared by design: the second study reads it as it is.
    assert {second[name]["plan"] for name in shared} == {"no update"}


# --- safety --------------------------------------------------------------------------------

HOSTILE = ["; rm -rf ~", "$(touch /tmp/gridscape-pwned)", r"\input{/etc/passwd}", "../../etc/x", r"$\input{x}$"]


def test_nothing_is_unpickled():
    """No pickle module, torch.load only with weights_only=True, np.load only without pickles."""
    problems = []
    for path in [*(REPO / "src").rglob("*.py"), *(REPO / "workflow").rglob("*.py"), *(REPO / "benchmarks").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            where = f"{path.relative_to(REPO)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if any(n.split(".")[0] in ("pickle", "cPickle", "dill", "joblib", "shelve") for n in names):
                    problems.append(f"{where}: imports {names}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                kwargs = {k.arg: k.value for k in node.keywords}
                constant = lambda name: getattr(kwargs.get(name), "value", None)  # noqa: E731
                if node.func.attr == "load" and ast.unparse(node.func.value) == "torch" and constant("weights_only") is not True:
                    problems.append(f"{where}: torch.load without weights_only=True")
                if node.func.attr == "load" and ast.unparse(node.func.value) in ("np", "numpy") and constant("allow_pickle") is not False:
                    problems.append(f"{where}: np.load without allow_pickle=False")
                if node.func.attr in ("read_pickle", "to_pickle") or (node.func.attr == "load" and ast.unparse(node.func.value) == "yaml"):
                    problems.append(f"{where}: {ast.unparse(node.func)}")
    for path in [REPO / "workflow" / "Snakefile", *(REPO / "workflow" / "rules").glob("*.smk")]:
        for word in ("pickle", "torch.load", "allow_pickle=True", "yaml.load("):
            if word in path.read_text():
                problems.append(f"{path.relative_to(REPO)}: {word}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_axis_values_are_rejected_naming_the_key(value):
    from gridscape.config import ConfigError, validate

    with pytest.raises(ConfigError) as error:
        validate({"study": "t", "search": {"axes": [{"key": "model.activation", "values": ["relu", value]}]}})
    assert "search.axes[0].values[1]" in str(error.value) and "parts of file names" in str(error.value)


@pytest.mark.parametrize("title", HOSTILE)
def test_hostile_study_names_are_rejected_and_titles_accepted(title):
    from gridscape.config import ConfigError, validate

    with pytest.raises(ConfigError, match="config key study: .*plain identifier"):
        validate({"study": title})
    assert validate({"study": "t", "title": title})["title"] == title  # printed literally by the report


def test_hostile_class_names_print_literally(tmp_path):
    """Class names come from the dataset (batches.meta.txt): through prepare, the figures and
    the report they stay text, never mathtext, LaTeX or a path."""
    import shutil

    import numpy as np
    import pandas as pd

    from fakedata import cifar10_members, write_tar_gz
    from gridscape.data import load_prepared, prepare
    from gridscape.plots.images import plot_class_counts, plot_image_grid
    from gridscape.report.latex import escape_latex, render_string

    classes = HOSTILE + [f"class{i}" for i in range(len(HOSTILE), 10)]
    members, _ = cifar10_members()
    members["cifar-10-batches-bin/batches.meta.txt"] = ("\n".join(classes) + "\n").encode()
    archive = tmp_path / "cifar-10-binary.tar.gz"
    md5 = write_tar_gz(archive, members)
    prepare("cifar10", [archive], tmp_path / "cifar10.npz", checksums={archive.name: md5})
    data = load_prepared(tmp_path / "cifar10.npz")
    assert data.classes == classes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cifar-10-binary.tar.gz", "cifar10.npz"]

    labels = list(range(len(HOSTILE)))
    plot_image_grid(data.train_images[: len(labels)], labels, classes, [tmp_path / "gallery.pdf"])
    plot_class_counts(pd.DataFrame({"class": classes, "train": np.arange(10)}), [tmp_path / "counts.pdf"])
    if shutil.which("pdftotext"):
        for name in ("gallery.pdf", "counts.pdf"):
            text = subprocess.run(["pdftotext", str(tmp_path / name), "-"], capture_output=True, text=True, check=True).stdout
            assert all(c in text for c in HOSTILE), text
    tex = render_string(r"\BLOCK{for c in classes}\VAR{c|e}; \BLOCK{endfor}", {"classes": classes})
    assert r"\input{" not in tex
    assert tex.strip() == "".join(f"{escape_latex(c)}; " for c in classes).strip()
    assert not Path("/tmp/gridscape-pwned").exists()
