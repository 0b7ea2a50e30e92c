"""The tiny study through a real SLURM with profiles/slurm: same contract files, same results.

Needs a running SLURM with one (fake) GPU: `bash tests/cluster/start-slurm.sh` (as root), then
`GRIDSCAPE_SLURM_TESTS=1 make test`; `.ci/run` does both. Skipped otherwise.

One module fixture runs three studies side by side (SLURM jobs mostly wait for the scheduler's
status polls, so this costs little more than the SLURM run alone): the study through `sbatch`,
the same study locally, and a study whose `prepare` job fails on the cluster.
"""

import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from fakedata import make_cifar10_archive
from test_workflow import REPO, SNAKEMAKE, STUDY, tiny_config, write_config

pytestmark = [
    pytest.mark.workflow,
    pytest.mark.skipif(shutil.which("sbatch") is None, reason="SLURM is not installed (no sbatch on PATH)"),
    pytest.mark.skipif(
        os.environ.get("GRIDSCAPE_SLURM_TESTS") != "1",
        reason="SLURM tests are off: start a test cluster (bash tests/cluster/start-slurm.sh) "
        "and set GRIDSCAPE_SLURM_TESTS=1",
    ),
]

PROFILE = REPO / "profiles" / "slurm"
HOLD = REPO / "tests" / "hold"
TARGETS = [
    f"results/{STUDY}/search/grid.csv",
    f"results/{STUDY}/search/best.json",
    f"results/{STUDY}/final/metrics.json",
    f"results/{STUDY}/final/model.safetensors",
]
# The same thread counts in both runs: results are reproducible for the same thread count.
# One thread each also lets two SLURM jobs share this 2-CPU node.
THREADS = ["--set-threads", "train_pack=1", "train_final=1", "evaluate_final=1"]
SLURM_ARGS = [
    "--profile", str(PROFILE),
    # a test cluster answers at once: poll early (the profile's 20 s suits a real cluster)
    "--slurm-init-seconds-before-status-checks", "1",
    "--latency-wait", "5",
]
# download is a localrule (compute nodes often have no internet); the jobs of seconds (split,
# unpack_cell, aggregate_grid, choose_best, resolve_final, plots, report) are too: not via sbatch
RULES_VIA_SBATCH = {"prepare", "train_pack", "train_final", "evaluate_final"}
GPU_RULES = {"train_pack", "train_final", "evaluate_final"}
TIMEOUT = 480


class Run:
    """One Snakemake run in the background, its output in a file."""

    def __init__(self, workdir: Path, *args: str, env: dict | None = None):
        self.workdir = workdir
        self.log = workdir / "snakemake.out"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg", **(env or {})}
        with open(self.log, "w") as out:
            # own session and no stdin: Snakemake waits on SLURM undisturbed by the terminal
            self.proc = subprocess.Popen(
                [*SNAKEMAKE, "--directory", str(workdir), *args],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
                start_new_session=True,
            )
        self.started = time.monotonic()
        self.seconds = None

    def poll(self) -> bool:
        """True once Snakemake has exited (its run time is kept)."""
        if self.proc.poll() is None:
            return False
        if self.seconds is None:
            self.seconds = time.monotonic() - self.started
        return True

    def stop(self) -> None:
        """Interrupt Snakemake (it cancels its SLURM jobs), then kill it if it hangs."""
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")


def cluster_is_up() -> bool:
    proc = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True)
    return proc.returncode == 0 and bool(re.search(r"^(idle|mix|alloc)", proc.stdout, re.M))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.fail("GRIDSCAPE_SLURM_TESTS=1 but snakemake-executor-plugin-slurm is not installed")
    if not cluster_is_up():
        pytest.fail("GRIDSCAPE_SLURM_TESTS=1 but SLURM does not answer: run bash tests/cluster/start-slurm.sh")
    base = tmp_path_factory.mktemp("slurm")
    mirror = base / "mirror"
    mirror.mkdir()
    _, md5, _ = make_cifar10_archive(mirror, images_per_class_per_batch=2, test_images_per_class=2, seed=0)
    dirs = {name: base / name for name in ("slurm", "local", "failing", "timelimit")}
    for name, workdir in dirs.items():
        write_config(workdir, tiny_config(mirror, "0" * 32 if name == "failing" else md5))
    # The failing study: its archive is already there (downloaded before, or copied by hand) but
    # the config's checksum is wrong, so `prepare` fails on the cluster. (Not `download`: its
    # `retries: 2` would make the failure take 3 SLURM jobs of 3 attempts each.)
    data = dirs["failing"] / "resources" / "datasets" / "cifar10"
    data.mkdir(parents=True)
    shutil.copy2(mirror / "cifar-10-binary.tar.gz", data / "cifar-10-binary.tar.gz")

    started = time.monotonic()
    slurm = Run(dirs["slurm"], *SLURM_ARGS, *THREADS, "--", *TARGETS)
    failing = Run(dirs["failing"], *SLURM_ARGS, *THREADS, "--", *TARGETS)
    local = Run(dirs["local"], "--cores", "2", *THREADS, "--", *TARGETS)
    # The final model's job held after its first epoch's checkpoint until SLURM's one-minute
    # limit ends it; the rule's `retries: 1` resubmits it, and the new job resumes.
    timelimit = Run(
        dirs["timelimit"], *SLURM_ARGS, *THREADS, "--set-resources", "train_final:runtime=1", "--",
        f"results/{STUDY}/final/model.safetensors",  # what this run checks; no evaluation job after it
        env={
            "GRIDSCAPE_TEST_HOLD": f"gridscape.checkpoint|^checkpoint written at epoch 2, step 0 .*/train_final/|1|{dirs['timelimit'] / 'held'}",
            "PYTHONPATH": os.pathsep.join(p for p in (str(HOLD), os.environ.get("PYTHONPATH")) if p),
        },
    )
    runs = (slurm, failing, local, timelimit)
    try:
        while not all([run.poll() for run in runs]):
            if time.monotonic() - started > TIMEOUT:
                late = [run for run in runs if not run.poll()]
                pytest.fail(f"snakemake did not finish in {TIMEOUT} s:\n" + "\n".join(run.output[-4000:] for run in late))
            time.sleep(0.5)
    finally:
        for run in runs:
            run.stop()
    assert local.proc.returncode == 0, f"local run failed:\n{local.output[-6000:]}"
    assert slurm.proc.returncode == 0, f"SLURM run failed:\n{slurm.output[-8000:]}"
    assert timelimit.proc.returncode == 0, f"SLURM run with a time limit failed:\n{timelimit.output[-8000:]}"
    print(f"\nSLURM run {slurm.seconds:.0f} s, failing SLURM run {failing.seconds:.0f} s, "
          f"local run {local.seconds:.0f} s, SLURM run past a time limit {timelimit.seconds:.0f} s, "
          f"all four {time.monotonic() - started:.0f} s")
    return {"slurm": slurm, "local": local, "failing": failing, "timelimit": timelimit}


def results(run: Run) -> Path:
    return run.workdir / "results" / STUDY


def slurm_jobs(run: Run) -> dict[str, dict[str, str]]:
    """SLURM's own record of each job the run submitted: {jobid: scontrol fields}."""
    ids = re.findall(r"has been submitted with SLURM jobid (\d+)", run.output)
    assert ids, run.output[-4000:]
    jobs = {}
    for jobid in ids:
        proc = subprocess.run(["scontrol", "show", "job", "-o", jobid], capture_output=True, text=True)
        assert proc.returncode == 0, f"scontrol knows no job {jobid} (MinJobAge too low?): {proc.stderr}"
        jobs[jobid] = dict(re.findall(r"(\w+)=(\S*)", proc.stdout))
    return jobs


def rule_of(job: dict[str, str]) -> str:
    """The plugin labels each job with --comment rule_<rule>[_wildcards_...]."""
    comment = job.get("Comment", "")
    assert comment.startswith("rule_"), job
    return comment[len("rule_"):].split("_wildcards_")[0]


def test_contract_files_from_slurm(runs):
    study = results(runs["slurm"])
    for target in TARGETS:
        assert (runs["slurm"].workdir / target).stat().st_size > 0, target
    grid = pd.read_csv(study / "search" / "grid.csv")
    assert list(grid.columns) == [
        "optimizer.lr", "optimizer.momentum", "train_loss", "train_acc", "val_loss", "val_acc", "status", "seconds"
    ]
    best = json.loads((study / "search" / "best.json").read_text())
    assert best["metric"] == "val_acc" and best["params"]["optimizer.lr"] == 0.05
    metrics = json.loads((study / "final" / "metrics.json").read_text())
    assert 0 <= metrics["test_acc"] <= 1 and metrics["n_test"] == 20


def test_every_job_went_through_sbatch_and_gpu_rules_asked_for_a_gpu(runs):
    jobs = slurm_jobs(runs["slurm"])
    by_rule = {}
    for jobid, job in jobs.items():
        by_rule.setdefault(rule_of(job), []).append(job)
        assert job["JobState"] == "COMPLETED", (jobid, job)
    assert set(by_rule) == RULES_VIA_SBATCH
    for rule, rule_jobs in by_rule.items():
        for job in rule_jobs:
            asked_gpu = re.search(r"gpu[:=]1\b", job.get("TresPerJob", "") + " " + job.get("TresPerNode", ""))
            if rule in GPU_RULES:
                assert asked_gpu, (rule, job)  # sbatch --gpus=1: TresPerJob=gres:gpu:1
            else:
                assert not asked_gpu, (rule, job)
    # the rules' own `threads` reached SLURM (no cpus_per_task default overrides them)
    assert {job["NumCPUs"] for job in by_rule["train_pack"]} == {"1"}


def test_results_match_the_local_run(runs):
    slurm, local = results(runs["slurm"]), results(runs["local"])
    grid_s = pd.read_csv(slurm / "search" / "grid.csv")
    grid_l = pd.read_csv(local / "search" / "grid.csv")
    keys = ["optimizer.lr", "optimizer.momentum", "status"]
    assert grid_s[keys].values.tolist() == grid_l[keys].values.tolist()
    for column in ("train_loss", "train_acc", "val_loss", "val_acc"):  # not `seconds`
        assert grid_s[column].tolist() == pytest.approx(grid_l[column].tolist(), rel=1e-5, abs=1e-7, nan_ok=True), column

    best_s = json.loads((slurm / "search" / "best.json").read_text())
    best_l = json.loads((local / "search" / "best.json").read_text())
    assert best_s["params"] == best_l["params"]
    assert best_s["value"] == pytest.approx(best_l["value"], rel=1e-5)

    final_s = json.loads((slurm / "final" / "metrics.json").read_text())
    final_l = json.loads((local / "final" / "metrics.json").read_text())
    for key in ("test_loss", "test_acc"):
        assert final_s[key] == pytest.approx(final_l[key], rel=1e-5), key

    from safetensors.torch import load_file
    import torch

    model_s = load_file(str(slurm / "final" / "model.safetensors"))
    model_l = load_file(str(local / "final" / "model.safetensors"))
    assert model_s.keys() == model_l.keys()
    for name in model_s:
        torch.testing.assert_close(model_s[name], model_l[name], rtol=1e-5, atol=1e-6)


def test_a_failed_cluster_job_stops_the_run_naming_the_rule_and_keeping_its_log(runs):
    failing = runs["failing"]
    output = failing.output
    assert failing.proc.returncode != 0
    assert "Error in rule prepare" in output
    assert re.search(r"SLURM-job '\d+' failed", output), output[-4000:]
    data = failing.workdir / "resources" / "datasets" / "cifar10"
    log = data / "logs" / "prepare.log"
    assert log.exists(), output[-4000:]
    assert "md5" in log.read_text()  # the rule's own log says what went wrong
    assert str(log.relative_to(failing.workdir)) in output  # and Snakemake points at it
    slurm_logs = list((failing.workdir / ".snakemake" / "slurm_logs" / "rule_prepare").glob("*.log"))
    assert slurm_logs and "md5" in slurm_logs[0].read_text()  # SLURM's log of a failed job is kept
    # the run stopped there: nothing after the failed rule was submitted or made
    assert not (data / "cifar10.npz").exists()
    assert not (failing.workdir / "results" / STUDY / "data").exists()
    assert {rule_of(job) for job in slurm_jobs(failing).values()} == {"prepare"}


def test_a_job_past_its_time_limit_is_rerun_and_finishes_from_its_checkpoint(runs):
    run = runs["timelimit"]
    attempts = [job for job in slurm_jobs(run).values() if rule_of(job) == "train_final"]
    assert [job["JobState"] for job in attempts] == ["TIMEOUT", "COMPLETED"], attempts
    assert attempts[0]["TimeLimit"] == "00:01:00"
    log = (results(run) / "logs" / "train_final.log").read_text()
    resumed = log.split(f"resuming from checkpoint results/{STUDY}/checkpoints/train_final/checkpoint.safetensors")
    assert len(resumed) == 2 and resumed[1].startswith(" at epoch 2, step 0 of "), log[-3000:]
    assert "epoch 1/2" not in log and "epoch 2/2" in log
    assert not (results(run) / "checkpoints").exists()
    # the same model as the uninterrupted SLURM run, bit for bit (same code, threads and CPU)
    for name in ("model.safetensors", "init.safetensors"):
        assert (results(run) / "final" / name).read_bytes() == (results(runs["slurm"]) / "final" / name).read_bytes()
