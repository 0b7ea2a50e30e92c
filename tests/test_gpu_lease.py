"""GPU leases without GPUs: configured device ids, parallel holders, a crashed holder, waiting."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import pytest

from gridscape.gpu_lease import (
    LEASED_ENV,
    RUN_ALLOCATION_ENV,
    GpuLeaseError,
    GpuSetupError,
    available_device_ids,
    check_gpus_at_start,
    host_lease_dir,
    lease_gpu,
    parse_device_ids,
    record_run_allocation,
)

# A holder process: leases `wanted` of IDS, prints its CUDA_VISIBLE_DEVICES, then keeps the lease
# until the file RELEASE exists (or it is killed).
HOLDER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from gridscape.gpu_lease import lease_gpu, GpuLeaseError
    ids, lease_dir, release, timeout = sys.argv[1].split(","), sys.argv[2], Path(sys.argv[3]), float(sys.argv[4])
    os.environ.pop("SLURM_JOB_ID", None)
    try:
        lease = lease_gpu(1, ids, lease_dir, timeout=timeout, poll=0.05)
    except GpuLeaseError as error:
        print("ERROR", error, flush=True)
        sys.exit(3)
    print("LEASED", os.environ["CUDA_VISIBLE_DEVICES"], flush=True)
    while not release.exists():
        time.sleep(0.02)
    """
)


def start_holder(ids, lease_dir, release, timeout=0.0):
    env = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES", LEASED_ENV)}
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, ",".join(ids), str(lease_dir), str(release), str(timeout)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def leased_id(proc) -> str:
    line = proc.stdout.readline().split()
    assert line and line[0] == "LEASED", (line, proc.stderr.read() if proc.poll() is not None else "")
    return line[1]


@pytest.fixture
def env():
    """A clean environment for in-process leases (never the test process's own)."""
    return {}


def test_lease_sets_cuda_visible_devices_and_release_restores_it(tmp_path, env):
    lease = lease_gpu(1, ["3", "5"], tmp_path, environ=env)
    assert lease.device_ids == ("3",)
    assert env["CUDA_VISIBLE_DEVICES"] == "3"
    assert (host_lease_dir(tmp_path) / "gpu3.lock").exists()
    lease.release()
    assert "CUDA_VISIBLE_DEVICES" not in env
    lease.release()  # idempotent


def test_a_second_lease_gets_the_next_free_id(tmp_path):
    first, second = {}, {}
    with lease_gpu(1, ["3", "5"], tmp_path, environ=first) as a, lease_gpu(1, ["3", "5"], tmp_path, environ=second) as b:
        assert (first["CUDA_VISIBLE_DEVICES"], second["CUDA_VISIBLE_DEVICES"]) == ("3", "5")
        with pytest.raises(GpuLeaseError, match="No free GPU.*gpu3 by pid.*--resources gpu=2"):
            lease_gpu(1, ["3", "5"], tmp_path, environ={}, timeout=0)
    assert not a.held and not b.held
    # both free again
    lease = lease_gpu(1, ["3", "5"], tmp_path, environ={})
    assert lease.device_ids == ("3",)
    lease.release()


def test_several_gpus_for_one_job(tmp_path, env):
    with lease_gpu(2, ["0", "1", "2"], tmp_path, environ=env):
        assert env["CUDA_VISIBLE_DEVICES"] == "0,1"
        other = {}
        with lease_gpu(1, ["0", "1", "2"], tmp_path, environ=other):
            assert other["CUDA_VISIBLE_DEVICES"] == "2"
        with pytest.raises(GpuLeaseError, match="asks for 4 GPUs but only 3"):
            lease_gpu(4, ["0", "1", "2"], tmp_path, environ={})


def test_ids_come_from_cuda_visible_devices(tmp_path):
    env = {"CUDA_VISIBLE_DEVICES": "2,GPU-8a1b-c3"}
    assert available_device_ids(env) == ["2", "GPU-8a1b-c3"]
    with lease_gpu(1, lease_dir=tmp_path, environ=env):
        assert env["CUDA_VISIBLE_DEVICES"] == "2"
        other = {"CUDA_VISIBLE_DEVICES": "2,GPU-8a1b-c3"}
        with lease_gpu(1, lease_dir=tmp_path, environ=other):
            assert other["CUDA_VISIBLE_DEVICES"] == "GPU-8a1b-c3"
            assert (host_lease_dir(tmp_path) / "gpuGPU-8a1b-c3.lock").exists()
    assert env["CUDA_VISIBLE_DEVICES"] == "2,GPU-8a1b-c3"  # restored
    assert parse_device_ids(None) is None
    assert parse_device_ids("") == [] and parse_device_ids("-1") == []
    assert parse_device_ids("0,1,-1,2") == ["0", "1"]


def test_no_lease_when_none_is_needed(tmp_path):
    env = {"CUDA_VISIBLE_DEVICES": "7"}
    assert lease_gpu(0, ["0"], tmp_path, environ=env) is None
    assert lease_gpu(None, ["0"], tmp_path, environ=env) is None
    assert lease_gpu(1, ["0"], tmp_path, device="cpu", environ=env) is None
    # SLURM gave the job its GPU: keep it, lease nothing
    slurm = {"SLURM_JOB_ID": "42", "CUDA_VISIBLE_DEVICES": "0"}
    assert lease_gpu(1, ["0", "1"], tmp_path, environ=slurm) is None
    assert slurm == {"SLURM_JOB_ID": "42", "CUDA_VISIBLE_DEVICES": "0"}
    # a child process inherits its parent's lease instead of waiting for it
    parent = {}
    with lease_gpu(1, ["0"], tmp_path, environ=parent):
        child = dict(parent)
        assert lease_gpu(1, ["0"], tmp_path, environ=child, timeout=0) is None
        assert child["CUDA_VISIBLE_DEVICES"] == "0"


def test_gpu_asked_for_without_a_gpu_says_so_and_gives_the_fix(tmp_path):
    for env in ({"CUDA_VISIBLE_DEVICES": ""}, {"CUDA_VISIBLE_DEVICES": "-1"}):
        with pytest.raises(GpuLeaseError, match="no GPU.*device: cpu"):
            lease_gpu(1, lease_dir=tmp_path, environ=env)
    with pytest.raises(GpuLeaseError, match="device: cpu"):
        lease_gpu(1, [], tmp_path, environ={})


def test_parallel_processes_get_distinct_ids(tmp_path):
    ids = ["0", "1", "2"]
    release = tmp_path / "release"
    holders = [start_holder(ids, tmp_path / "leases", release, timeout=10) for _ in ids]
    try:
        got = [leased_id(proc) for proc in holders]
        assert sorted(got) == ids
        # all taken: one more fails after its (short) wait, naming the holders
        extra = start_holder(ids, tmp_path / "leases", release, timeout=0.3)
        out, _ = extra.communicate(timeout=10)
        assert extra.returncode == 3 and "No free GPU" in out and "--resources gpu=3" in out
    finally:
        release.touch()
        for proc in holders:
            proc.wait(timeout=10)
    assert all(proc.returncode == 0 for proc in holders)


def test_a_crashed_holder_frees_its_gpu(tmp_path):
    release = tmp_path / "release"
    holder = start_holder(["0"], tmp_path, release)
    try:
        assert leased_id(holder) == "0"
        with pytest.raises(GpuLeaseError, match="gpu0 by pid %d" % holder.pid):
            lease_gpu(1, ["0"], tmp_path, environ={}, timeout=0)
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    finally:
        if holder.poll() is None:
            holder.kill()
    assert holder.returncode == -signal.SIGKILL
    assert (host_lease_dir(tmp_path) / "gpu0.lock").exists()  # the file stays; the kernel dropped the lock
    env = {}
    with lease_gpu(1, ["0"], tmp_path, environ=env, timeout=5):
        assert env["CUDA_VISIBLE_DEVICES"] == "0"


def test_waits_until_a_gpu_is_released(tmp_path):
    release = tmp_path / "release"
    holder = start_holder(["0"], tmp_path, release)
    try:
        assert leased_id(holder) == "0"
        timer = threading.Timer(0.8, release.touch)
        timer.start()
        start = time.monotonic()
        env = {}
        with lease_gpu(1, ["0"], tmp_path, environ=env, timeout=10, poll=0.05):
            waited = time.monotonic() - start
            assert env["CUDA_VISIBLE_DEVICES"] == "0"
        assert 0.7 < waited < 8
    finally:
        release.touch()
        holder.wait(timeout=10)


def test_timeout_from_the_environment(tmp_path):
    with lease_gpu(1, ["0"], tmp_path, environ={}):
        start = time.monotonic()
        with pytest.raises(GpuLeaseError, match="No free GPU for 0.2 s"):
            lease_gpu(1, ["0"], tmp_path, environ={"GRIDSCAPE_GPU_LEASE_TIMEOUT": "0.2"}, poll=0.05)
        assert time.monotonic() - start < 3
        with pytest.raises(GpuLeaseError, match="GRIDSCAPE_GPU_LEASE_TIMEOUT"):
            lease_gpu(1, ["0"], tmp_path, environ={"GRIDSCAPE_GPU_LEASE_TIMEOUT": "soon"})


def test_lease_dir_from_the_environment_holds_a_folder_per_host(tmp_path):
    env = {"GRIDSCAPE_GPU_LEASE_DIR": str(tmp_path / "shared")}
    with lease_gpu(1, ["4"], environ=env):
        (host,) = (tmp_path / "shared").iterdir()
        assert host.name == socket.gethostname() and (host / "gpu4.lock").exists()


# Four jobs of a local run inside `salloc --gpus=4`: the run's allocation is theirs.
ALLOCATION_HOLDER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from gridscape.gpu_lease import lease_gpu
    release = Path(sys.argv[2])
    lease = lease_gpu(1, lease_dir=sys.argv[1], timeout=10, poll=0.05)
    print("LEASED", os.environ["CUDA_VISIBLE_DEVICES"], flush=True)
    while not release.exists():
        time.sleep(0.02)
    """
)


def test_jobs_of_a_local_run_in_one_allocation_get_its_cards_one_each(tmp_path):
    run = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES", LEASED_ENV)}
    record_run_allocation(run)  # the run's main process, outside SLURM here
    assert run[RUN_ALLOCATION_ENV] == os.environ.get("SLURM_JOB_ID", "")
    # the fake allocation: the run started inside SLURM job 4242, which gave it four GPUs
    allocation = {**run, "SLURM_JOB_ID": "4242", RUN_ALLOCATION_ENV: "4242", "CUDA_VISIBLE_DEVICES": "3,5,6,7"}
    release = tmp_path / "release"
    jobs = [subprocess.Popen([sys.executable, "-c", ALLOCATION_HOLDER, str(tmp_path / "leases"), str(release)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=allocation)
            for _ in range(4)]
    try:
        assert sorted(leased_id(job) for job in jobs) == ["3", "5", "6", "7"]
    finally:
        release.touch()
        for job in jobs:
            job.wait(timeout=10)


def test_a_job_slurm_gave_its_own_gpu_leases_nothing(tmp_path):
    # submitted by the SLURM profile: its own job, not the run's (outside SLURM, or a controller job)
    for run_allocation in ("", "777"):
        env = {"SLURM_JOB_ID": "4243", RUN_ALLOCATION_ENV: run_allocation, "CUDA_VISIBLE_DEVICES": "0"}
        assert lease_gpu(1, lease_dir=tmp_path, environ=env) is None
        assert env["CUDA_VISIBLE_DEVICES"] == "0"
    # ... and so does one whose environment did not travel with it
    assert lease_gpu(1, lease_dir=tmp_path, environ={"SLURM_JOB_ID": "4244", "CUDA_VISIBLE_DEVICES": "0"}) is None


def test_lease_module_does_not_import_torch():
    code = "import sys, gridscape.gpu_lease; print(sorted(m for m in ('torch', 'numpy', 'snakemake') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- the check at the start of a run ---------------------------------------------------------


def test_start_check_cuda_without_gpu_stops_with_the_fix():
    with pytest.raises(GpuSetupError, match="device: 'cuda'.*no GPU.*device: cpu"):
        check_gpus_at_start("cuda", None, device_ids=[], warn=lambda _: None)
    # on a cluster the submitting host's GPUs do not matter
    assert check_gpus_at_start("cuda", None, local=False, device_ids=[]) == []


def test_start_check_notes():
    class Resource:  # what workflow.global_resources.get("gpu") returns
        def __init__(self, value):
            self.value = value

    seen = []
    notes = check_gpus_at_start("auto", Resource(1), device_ids=[], warn=seen.append)
    assert len(notes) == 1 and "no GPU" in notes[0] and notes == seen
    notes = check_gpus_at_start("cuda", 4, device_ids=["0", "1"], warn=seen.append)
    assert len(notes) == 1 and "only 2 GPU" in notes[0] and "--resources gpu=2" in notes[0]
    notes = check_gpus_at_start("auto", Resource(None), device_ids=["0", "1"], warn=seen.append)
    assert len(notes) == 1 and "--resources gpu=2" in notes[0]
    assert check_gpus_at_start("cuda", 2, device_ids=["0", "1"], warn=seen.append) == []
    assert check_gpus_at_start("cpu", None, device_ids=[], warn=seen.append) == []
    assert check_gpus_at_start("auto", None, device_ids=[], warn=seen.append) == []



def test_a_shared_lease_folder_shares_its_host_folder_too(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    with lease_gpu(1, ["0"], environ={"GRIDSCAPE_GPU_LEASE_DIR": str(shared)}):
        assert host_lease_dir(shared).stat().st_mode & 0o7777 == 0o1777
    private = tmp_path / "private"
    private.mkdir(mode=0o755)
    with lease_gpu(1, ["0"], environ={"GRIDSCAPE_GPU_LEASE_DIR": str(private)}):
        assert host_lease_dir(private).stat().st_mode & 0o002 == 0
