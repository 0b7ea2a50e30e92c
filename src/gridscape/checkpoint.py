"""Checkpoints of a training job, so that a killed or preempted job resumes where it stopped.

A checkpoint is one safetensors file in the job's own folder
(``results/<study>/checkpoints/<rule>/<job>/``), outside every declared output: Snakemake deletes
a failed job's outputs before rerunning it, and must not delete this. The file holds the tensors
(weights, optimiser buffers, random generators, the current epoch's partial sums) and, in its
metadata, one JSON document: where training stands (epoch and step), the history so far and
the job's fingerprint. It is written to a temporary name and renamed, so a kill while writing
leaves the previous checkpoint whole; nothing is unpickled.

A checkpoint is used only when its fingerprint (the job's settings, the package's code and
torch version, the contents of its input files) equals the job's; otherwise the log says what
differs and training starts from the beginning. SIGTERM or SIGINT (what SLURM sends before a
time limit or a preemption) is caught: the loop writes a checkpoint at its next step boundary
and the job exits with status 128 + the signal number, a failure that Snakemake's
``--retries`` or SLURM's requeue turns into a rerun, which resumes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import signal
import sys
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch

from . import io

log = logging.getLogger(__name__)

FORMAT = 1
FILE_NAME = "checkpoint.safetensors"
STATE_KEY = "gridscape_checkpoint"


@dataclass(frozen=True)
class CheckpointPlace:
    """Where a job keeps its checkpoint and how often it writes one: at the end of every epoch
    (``every_minutes`` 0), or at the first step boundary ``every_minutes`` after the last."""

    directory: Path
    every_minutes: float = 0.0


class StoppedForCheckpoint(SystemExit):
    """The job caught a stop signal and wrote its checkpoint; its exit status is 128 + signal."""

    def __init__(self, signum: int, path: Path):
        super().__init__(128 + signum)
        self.signum = signum
        self.path = path


@lru_cache(maxsize=1)
def code_version() -> str:
    """A digest of the package's source files and the torch version: a checkpoint written by
    other code is not resumed (the rest of the run would mix two versions' arithmetic)."""
    digest = hashlib.sha256(torch.__version__.encode())
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def file_digest(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(settings: Any, inputs: Sequence[str | Path]) -> dict[str, Any]:
    """What a checkpoint must share with the job that resumes it: ``settings`` (a JSON-able
    description of everything that changes the job's results), the code, the input files."""
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)
    return {
        "format": FORMAT,
        "settings": hashlib.sha256(canonical.encode()).hexdigest(),
        "code": code_version(),
        "inputs": {str(path): file_digest(path) for path in inputs},
    }


def environment() -> dict[str, Any]:
    """What may differ on resume without refusing the checkpoint, but is said when it does:
    another thread count or device can change the last bits of the remaining epochs."""
    return {
        "threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() and torch.cuda.is_initialized() else None,
    }


class _StopSignals:
    """SIGTERM and SIGINT set a flag instead of ending the process (main thread only)."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in self.SIGNALS:
            self._previous[signum] = signal.signal(signum, self._catch)

    def uninstall(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _catch(self, signum, frame) -> None:
        if self.signum is None:
            log.warning("received %s: writing a checkpoint at the next step boundary, then stopping",
                        signal.Signals(signum).name)
        self.signum = signum


class Checkpointer:
    """Loads, writes and removes one job's checkpoint; the training loops ask it when one is due.

    Use as a context manager around the training: inside it, a stop signal makes the next
    ``save`` (due at once) raise ``StoppedForCheckpoint``."""

    def __init__(self, place: CheckpointPlace, job_fingerprint: Mapping[str, Any]):
        self.path = Path(place.directory) / FILE_NAME
        self.every_seconds = float(place.every_minutes) * 60.0
        self.fingerprint = dict(job_fingerprint)
        self._signals = _StopSignals()
        self._last_save = time.monotonic()

    def __enter__(self) -> "Checkpointer":
        self._signals.install()
        return self

    def __exit__(self, *exc) -> None:
        self._signals.uninstall()

    @property
    def stop_requested(self) -> bool:
        return self._signals.signum is not None

    def due(self, epoch_end: bool) -> bool:
        """Whether to write a checkpoint at this step boundary (``epoch_end``: after an epoch)."""
        if self.stop_requested:
            return True
        if self.every_seconds <= 0:
            return epoch_end
        return time.monotonic() - self._last_save >= self.every_seconds

    def load(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]] | None:
        """The saved tensors and state, or None (no checkpoint, or one that must not be used:
        the log says why)."""
        if not self.path.exists():
            return None
        try:
            from safetensors import safe_open

            with safe_open(str(self.path), framework="pt") as handle:
                state = json.loads((handle.metadata() or {})[STATE_KEY])
                tensors = {name: handle.get_tensor(name) for name in handle.keys()}
        except Exception as error:  # a file that is not a whole checkpoint is never trusted
            log.warning("checkpoint %s is unreadable (%s): not used, training starts from the beginning", self.path, error)
            return None
        differs = [key for key in ("format", "settings", "code", "inputs") if state.get("fingerprint", {}).get(key) != self.fingerprint.get(key)]
        if differs:
            reasons = {
                "format": "another checkpoint format",
                "settings": "other settings (the job's config changed)",
                "code": "another version of gridscape's code or of torch",
                "inputs": "other input files ("
                + ", ".join(
                    name for name in self.fingerprint["inputs"]
                    if state.get("fingerprint", {}).get("inputs", {}).get(name) != self.fingerprint["inputs"][name]
                )
                + ")",
            }
            log.warning(
                "checkpoint %s was written for %s: not used, training starts from the beginning",
                self.path, " and ".join(reasons[key] for key in differs),
            )
            return None
        now = environment()
        for key, then in state.get("environment", {}).items():
            if now.get(key) != then:
                log.warning(
                    "resuming with %s %s where the checkpoint was written with %s: the remaining epochs may "
                    "differ in the last bits from an uninterrupted run", key, now.get(key), then,
                )
        return tensors, state

    def save(self, tensors: Mapping[str, torch.Tensor], state: Mapping[str, Any]) -> None:
        """Write the checkpoint (atomically); after a stop signal, then stop the job."""
        start = time.perf_counter()
        document = {**state, "fingerprint": self.fingerprint, "environment": environment()}
        text = json.dumps(document, allow_nan=True)  # key order kept: a history row's is its CSV's column order
        io.write_safetensors(self.path, {name: t.detach() for name, t in tensors.items()}, {STATE_KEY: text})
        self._last_save = time.monotonic()
        position = state.get("position", {})
        log.info(
            "checkpoint written at epoch %s, step %s (%.1f MB, %.2f s): %s",
            position.get("epoch"), position.get("step"), self.path.stat().st_size / 1e6,
            time.perf_counter() - start, self.path,
        )
        if self.stop_requested:
            signum = self._signals.signum
            message = f"stopping on {signal.Signals(signum).name}; a rerun of this job resumes from {self.path}"
            log.warning(message)
            # also to the terminal: Snakemake empties the rule's log when it retries the job
            if sys.__stderr__ is not None and sys.__stderr__ is not sys.stderr:
                print(f"gridscape: {message}", file=sys.__stderr__, flush=True)
            raise StoppedForCheckpoint(signum, self.path)

    def clear(self) -> None:
        """Remove the checkpoint once the job's outputs are complete (and its folder if empty)."""
        self.path.unlink(missing_ok=True)
        for folder in (self.path.parent, self.path.parent.parent):
            try:
                folder.rmdir()
            except OSError:
                break


def open_checkpoint(place: CheckpointPlace | None, settings: Any, inputs: Sequence[str | Path]) -> Checkpointer | None:
    """The job's checkpointer, or None when the job runs without checkpoints."""
    if place is None:
        return None
    return Checkpointer(place, fingerprint(settings, inputs))


# The state of what training loops hold, as tensors (safetensors) and JSON.

def prefixed(prefix: str, tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{name}": tensor for name, tensor in tensors.items()}


def unprefixed(prefix: str, tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    start = len(prefix) + 1
    return {name[start:]: tensor for name, tensor in tensors.items() if name.startswith(prefix + ".")}


def random_states(generators: Sequence[torch.Generator]) -> dict[str, torch.Tensor]:
    """The job's generators (shuffling, augmentation) and torch's global ones (dropout)."""
    states = {f"rng.generator.{i}": g.get_state() for i, g in enumerate(generators)}
    states["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states.update({f"rng.cuda.{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())})
    return states


def restore_random_states(tensors: Mapping[str, torch.Tensor], generators: Sequence[torch.Generator]) -> None:
    for i, generator in enumerate(generators):
        generator.set_state(tensors[f"rng.generator.{i}"])
    torch.set_rng_state(tensors["rng.torch"])
    cuda = [tensors[f"rng.cuda.{i}"] for i in range(len(tensors)) if f"rng.cuda.{i}" in tensors]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)


def optimizer_state(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """A torch optimiser's state dict split into tensors and JSON."""
    state_dict = optimizer.state_dict()
    tensors, values = {}, {}
    for index, entries in state_dict["state"].items():
        for key, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer.{index}.{key}"] = value
            else:
                values[f"{index}.{key}"] = value
    return tensors, {"values": values, "param_groups": state_dict["param_groups"]}


def load_optimizer_state(optimizer: torch.optim.Optimizer, tensors: Mapping[str, torch.Tensor], saved: Mapping[str, Any]) -> None:
    state: dict[int, dict[str, Any]] = {}
    for name, tensor in unprefixed("optimizer", tensors).items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = tensor
    for name, value in saved["values"].items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
