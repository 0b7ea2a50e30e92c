"""One GPU per job on one machine: each GPU job leases a free device id through lock files.

Snakemake's ``--resources gpu=N`` only counts GPU jobs; it never tells a job *which* GPU to use
(snakemake/snakemake#281), so two jobs would land on the same card. A GPU job therefore calls
:func:`lease_gpu` before torch touches CUDA: it takes an exclusive ``fcntl.flock`` on
``<lease_dir>/gpu<id>.lock`` for a free id and sets ``CUDA_VISIBLE_DEVICES`` to that id, so
torch sees exactly one card (as ``cuda:0``).

* The kernel drops a flock when the holding process ends, however it ends (normal exit,
  exception, SIGKILL, out-of-memory kill): a crashed job never keeps its GPU. Lock files are
  never deleted (deleting one while another process opens it would let two processes hold
  "the same" lock on two different files); a stale file with no holder is simply free.
* When every id is leased the job waits (``GRIDSCAPE_GPU_LEASE_TIMEOUT`` seconds, default
  3600), then stops with an error that names the holders and the fix.
* Device ids come from ``CUDA_VISIBLE_DEVICES`` when it is set (so ``CUDA_VISIBLE_DEVICES=2,3
  snakemake ...`` shares cards 2 and 3 among the jobs), else from the driver's GPU count
  (:func:`gridscape.gpus.visible_gpu_count`), or from the ``device_ids`` argument.
* A job that SLURM gave GPUs of its own (each job its own ``sbatch``, as with the SLURM
  profile) leases nothing: its ``CUDA_VISIBLE_DEVICES`` is already its own. A job of a local
  run inside one allocation (``salloc --gpus=4``, then ``snakemake --cores 16 --resources
  gpu=4``) shares that allocation's cards with the run's other jobs, so it leases among them.
  The run's main process records its own ``SLURM_JOB_ID`` (or none) in
  ``GRIDSCAPE_RUN_SLURM_JOB`` (:func:`record_run_allocation`); a job whose ``SLURM_JOB_ID`` is
  that one runs in the run's allocation.
* ``lease_dir`` defaults to ``.snakemake/gpu-leases`` in the working directory (Snakemake runs
  jobs there); set ``GRIDSCAPE_GPU_LEASE_DIR`` to one path (e.g. ``/tmp/gpu-leases``) to make
  several Snakemake runs on one machine share the same GPUs correctly (for several users, make
  that directory writable by all of them, e.g. ``chmod 1777``). Leases live in a folder per
  host under it: on a shared file system, "gpu0" of one node is not "gpu0" of another.

Torch-free on purpose: it must run before torch initialises CUDA, and the Snakefile imports it.
"""

from __future__ import annotations

import atexit
import errno
import fcntl
import logging
import os
import re
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, MutableMapping, Sequence

from gridscape.gpus import visible_gpu_count

DEFAULT_LEASE_DIR = Path(".snakemake") / "gpu-leases"
DEFAULT_TIMEOUT = 3600.0
# Set in the environment of a process that holds a lease, so that its children (which inherit
# CUDA_VISIBLE_DEVICES) use the parent's GPU instead of waiting for it.
LEASED_ENV = "GRIDSCAPE_GPU_LEASED"
SCHEDULER_ENV = ("SLURM_JOB_ID",)
# The SLURM job the run's main process is in ("" when none): see record_run_allocation.
RUN_ALLOCATION_ENV = "GRIDSCAPE_RUN_SLURM_JOB"

_log = logging.getLogger("gridscape.gpu_lease")


class GpuLeaseError(RuntimeError):
    """A GPU job cannot get a GPU: none exists, too many are asked for, or none came free."""


class GpuSetupError(RuntimeError):
    """The run's GPU settings cannot work on this machine (raised at the start of a run)."""


@dataclass
class Lease:
    """GPUs held by this process until :meth:`release` or the process ends."""

    device_ids: tuple[str, ...]
    lease_dir: Path
    _fds: list[int] = field(default_factory=list, repr=False)
    _previous: str | None = field(default=None, repr=False)
    _environ: MutableMapping[str, str] = field(default_factory=lambda: os.environ, repr=False)

    @property
    def cuda_visible_devices(self) -> str:
        return ",".join(self.device_ids)

    @property
    def held(self) -> bool:
        return bool(self._fds)

    def release(self) -> None:
        """Free the GPUs now and restore the previous ``CUDA_VISIBLE_DEVICES`` (idempotent)."""
        if not self._fds:
            return
        for fd in self._fds:
            _unlock(fd)
        self._fds = []
        env = self._environ
        if env.get("CUDA_VISIBLE_DEVICES") == self.cuda_visible_devices:
            if self._previous is None:
                env.pop("CUDA_VISIBLE_DEVICES", None)
            else:
                env["CUDA_VISIBLE_DEVICES"] = self._previous
        if env.get(LEASED_ENV) == self.cuda_visible_devices:
            env.pop(LEASED_ENV, None)

    def __enter__(self) -> "Lease":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def parse_device_ids(value: str | None) -> list[str] | None:
    """Ids in a ``CUDA_VISIBLE_DEVICES`` value, as CUDA reads it (up to an invalid ``-1``).

    None when the variable is unset; an empty list when it hides every GPU ("" or "-1").
    """
    if value is None:
        return None
    ids: list[str] = []
    for part in value.split(","):
        part = part.strip()
        if not part or part.startswith("-"):
            break
        ids.append(part)
    return ids


def available_device_ids(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """The GPUs jobs may lease: ``CUDA_VISIBLE_DEVICES`` when set, else 0..n-1 of the driver's."""
    environ = os.environ if environ is None else environ
    ids = parse_device_ids(environ.get("CUDA_VISIBLE_DEVICES"))
    if ids is not None:
        return ids
    return [str(i) for i in range(visible_gpu_count())]


def record_run_allocation(environ: MutableMapping[str, str] | None = None) -> None:
    """Called by the run's main process (the Snakefile): its SLURM job, inherited by every job
    it starts locally and by the environment of the jobs it submits."""
    environ = os.environ if environ is None else environ
    environ.setdefault(RUN_ALLOCATION_ENV, environ.get("SLURM_JOB_ID", ""))


def scheduler_job(environ: MutableMapping[str, str] | None = None) -> str | None:
    """The cluster job id when a scheduler gave this job its own GPUs: it runs under a SLURM
    job other than the run's own allocation (the run's main process is outside SLURM, or in
    another job, such as a small controller job)."""
    environ = os.environ if environ is None else environ
    for name in SCHEDULER_ENV:
        job = environ.get(name)
        if job and job != environ.get(RUN_ALLOCATION_ENV):
            return f"{name}={job}"
    return None


def _share_like(folder: Path, base: Path) -> None:
    """A host folder under a lease folder shared by several users (``chmod 1777``) is shared
    the same way, or the second user could not create a lock file in it."""
    try:
        mode = base.stat().st_mode & 0o7777
        if mode & 0o002 and folder.stat().st_mode & 0o7777 != mode:
            os.chmod(folder, mode)
    except OSError:  # another user's folder: they shared it when they made it
        pass


def host_lease_dir(base: str | os.PathLike) -> Path:
    """The leases of this machine under ``base``: a folder per host."""
    return Path(base) / re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname() or "localhost")


def lease_gpu(
    wanted: int | str | None,
    device_ids: Sequence[str] | None = None,
    lease_dir: str | os.PathLike | None = None,
    *,
    device: str | None = None,
    timeout: float | None = None,
    poll: float = 0.5,
    environ: MutableMapping[str, str] | None = None,
) -> Lease | None:
    """Lease ``wanted`` free GPUs for this process and point ``CUDA_VISIBLE_DEVICES`` at them.

    Returns None, changing nothing, when no lease is needed: ``wanted`` is 0, the study runs on
    ``device: cpu``, a scheduler (SLURM) already assigned the job's GPUs, or this process
    inherited a lease from its parent. Call it before torch initialises CUDA (any
    ``torch.cuda`` call); importing torch before is fine.

    Raises GpuLeaseError when no GPU exists (with the fix: ``device: cpu``), when more GPUs are
    wanted than exist, or when none came free within ``timeout`` seconds (default:
    ``$GRIDSCAPE_GPU_LEASE_TIMEOUT`` or 3600; 0 means do not wait).
    """
    environ = os.environ if environ is None else environ
    wanted = int(wanted or 0)
    if wanted <= 0 or device == "cpu":
        return None
    if scheduler_job(environ):
        _log.info("GPU assigned by the scheduler (%s): CUDA_VISIBLE_DEVICES=%s",
                  scheduler_job(environ), environ.get("CUDA_VISIBLE_DEVICES", "<unset>"))
        return None
    inherited = environ.get(LEASED_ENV)
    if inherited and inherited == environ.get("CUDA_VISIBLE_DEVICES"):
        return None
    _check_cuda_not_initialised()

    ids = list(device_ids) if device_ids is not None else available_device_ids(environ)
    if len(set(ids)) != len(ids):
        raise GpuLeaseError(f"GPU ids to lease are not distinct: {ids}")
    if not ids:
        raise GpuLeaseError(
            f"This job asks for {wanted} GPU(s) (resources: gpu={wanted}) but this machine has "
            f"no GPU{_visible_note(environ)}. Set device: cpu (or auto) in the study config, or "
            "run on a machine with an NVIDIA GPU and driver."
        )
    if wanted > len(ids):
        raise GpuLeaseError(
            f"This job asks for {wanted} GPUs but only {len(ids)} exist here "
            f"(ids {','.join(ids)}): lower the rule's gpu resource."
        )
    base = Path(lease_dir or environ.get("GRIDSCAPE_GPU_LEASE_DIR") or DEFAULT_LEASE_DIR)
    lease_dir = host_lease_dir(base)
    lease_dir.mkdir(parents=True, exist_ok=True)
    _share_like(lease_dir, base)
    timeout = _timeout(timeout, environ)

    start = time.monotonic()
    next_note = start
    while True:
        fds = _try_lock(lease_dir, ids, wanted)
        if fds is not None:
            break
        now = time.monotonic()
        if now - start >= timeout:
            raise GpuLeaseError(
                f"No free GPU for {timeout:g} s: all {len(ids)} GPU(s) are leased "
                f"({_holders(lease_dir, ids)}; lease files in {lease_dir}). Run Snakemake with "
                f"--resources gpu={len(ids)} so it never starts more GPU jobs than there are "
                "GPUs, or raise GRIDSCAPE_GPU_LEASE_TIMEOUT (seconds)."
            )
        if now >= next_note:
            _log.info("waiting for a free GPU: %s", _holders(lease_dir, ids))
            next_note = now + 60
        time.sleep(min(poll, max(0.0, timeout - (now - start))) or 0.01)

    chosen = tuple(ids[i] for i, _ in fds)
    lease = Lease(
        device_ids=chosen,
        lease_dir=lease_dir,
        _fds=[fd for _, fd in fds],
        _previous=environ.get("CUDA_VISIBLE_DEVICES"),
        _environ=environ,
    )
    environ["CUDA_VISIBLE_DEVICES"] = lease.cuda_visible_devices
    environ[LEASED_ENV] = lease.cuda_visible_devices
    atexit.register(lease.release)
    _log.info("leased GPU %s: CUDA_VISIBLE_DEVICES=%s", ",".join(chosen), lease.cuda_visible_devices)
    return lease


def check_gpus_at_start(
    device: str,
    requested: object = None,
    *,
    local: bool = True,
    device_ids: Sequence[str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> list[str]:
    """Say at the start of a run what will go wrong with GPUs on this machine.

    ``device`` is the config's ``device``; ``requested`` the N of ``--resources gpu=N`` (an int,
    None, or Snakemake's ``workflow.global_resources.get("gpu")``); ``local`` whether jobs run
    on this machine (``workflow.local_exec``). On a cluster nothing is checked: the submitting
    host's GPUs do not matter there.

    Raises GpuSetupError for ``device: cuda`` on a machine with no GPU (every GPU job would
    fail). Returns the notes (also passed to ``warn``, default: printed to stderr) for
    ``--resources gpu=N`` with no GPU, N larger than the GPUs present, or GPU jobs without a
    ``--resources gpu`` limit.
    """
    if not local:
        return []
    requested = _resource_value(requested)
    ids = list(device_ids) if device_ids is not None else available_device_ids()
    count = len(ids)
    where = f"({count} visible: ids {','.join(ids)})" if ids else ""
    if device == "cuda" and count == 0:
        raise GpuSetupError(
            f"config key device: 'cuda', but this machine has no GPU{_visible_note(os.environ)}, "
            "so every training job would fail. Set device: cpu (or auto) in the study config, "
            "run on a machine with an NVIDIA GPU, or submit to a cluster "
            "(snakemake --profile profiles/slurm)."
        )
    notes = []
    if requested and count == 0:
        notes.append(
            f"--resources gpu={requested} was given, but this machine has no GPU"
            f"{_visible_note(os.environ)}: the GPU rules run on the CPU and ask for no GPU "
            f"(device: {device})."
        )
    elif requested and requested > count:
        notes.append(
            f"--resources gpu={requested}, but this machine has only {count} GPU(s) {where}: "
            f"GPU jobs beyond {count} wait for a free GPU. Use --resources gpu={count}."
        )
    elif requested is None and count > 0 and device in ("cuda", "auto"):
        notes.append(
            f"GPU jobs (device: {device}) on a machine with {count} GPU(s) {where}, but no "
            "--resources gpu=N: Snakemake will not limit how many GPU jobs start, and those "
            f"beyond {count} wait for a free GPU. Add --resources gpu={count}."
        )
    report = warn or (lambda text: print(f"gridscape: {text}", file=sys.stderr, flush=True))
    for note in notes:
        report(note)
    return notes


# --- helpers ---------------------------------------------------------------------------------


def _lock_path(lease_dir: Path, device_id: str) -> Path:
    # ids may be UUIDs (GPU-1234abcd-...) or MIG ids: keep the name a plain file name
    return lease_dir / f"gpu{re.sub(r'[^A-Za-z0-9_.-]', '_', device_id)}.lock"


def _try_lock(lease_dir: Path, ids: Sequence[str], wanted: int) -> list[tuple[int, int]] | None:
    """Lock ``wanted`` free ids now (lowest first), all or none: [(index, fd)] or None."""
    got: list[tuple[int, int]] = []
    for index, device_id in enumerate(ids):
        fd = _open_lock(_lock_path(lease_dir, device_id))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(fd)
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                continue
            for _, held in got:
                _unlock(held)
            raise
        _write_holder(fd, device_id)
        got.append((index, fd))
        if len(got) == wanted:
            return got
    for _, held in got:
        _unlock(held)
    return None


def _open_lock(path: Path) -> int:
    """Open (create) a lock file; read-only where another user created it (flock needs no write)."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except PermissionError:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)


def _write_holder(fd: int, device_id: str) -> None:
    """Who holds the lease (for messages only: the flock, not this text, is the lease)."""
    text = f"pid={os.getpid()} host={socket.gethostname()} gpu={device_id} since={time.strftime('%Y-%m-%dT%H:%M:%S')}\n"
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, text.encode(), 0)
    except OSError:
        pass


def _unlock(fd: int) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holders(lease_dir: Path, ids: Iterable[str]) -> str:
    parts = []
    for device_id in ids:
        try:
            text = _lock_path(lease_dir, device_id).read_text().strip()
        except OSError:
            text = ""
        pid = re.search(r"pid=(\d+)", text)
        parts.append(f"gpu{device_id} by pid {pid.group(1)}" if pid else f"gpu{device_id}")
    return ", ".join(parts)


def _timeout(timeout: float | None, environ: MutableMapping[str, str]) -> float:
    if timeout is not None:
        return float(timeout)
    value = environ.get("GRIDSCAPE_GPU_LEASE_TIMEOUT")
    if not value:
        return DEFAULT_TIMEOUT
    try:
        return float(value)
    except ValueError:
        raise GpuLeaseError(
            f"GRIDSCAPE_GPU_LEASE_TIMEOUT={value!r} is not a number of seconds"
        ) from None


def _resource_value(value: object) -> int | None:
    value = getattr(value, "value", value)  # Snakemake's Resource("gpu", 2) -> 2
    if value is None or value == "":
        return None
    return int(value)


def _visible_note(environ: MutableMapping[str, str]) -> str:
    value = environ.get("CUDA_VISIBLE_DEVICES")
    if value is not None:
        return f" (CUDA_VISIBLE_DEVICES={value!r})"
    return " (no NVIDIA driver lists one)"


def _check_cuda_not_initialised() -> None:
    torch = sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None)
    try:
        initialised = bool(cuda is not None and cuda.is_initialized())
    except Exception:  # a torch without CUDA support, or a stub: nothing to protect
        initialised = False
    if initialised:
        raise GpuLeaseError(
            "lease_gpu() was called after torch initialised CUDA, so CUDA_VISIBLE_DEVICES can "
            "no longer take effect: call it at the top of the script, before any torch.cuda call."
        )
