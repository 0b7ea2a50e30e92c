"""The start of every heavy workflow job: its log, its GPU lease, its thread count.

One call at the top of a script, before any CUDA work, so that every job gets the same three
guarantees: output goes to the rule's log, a GPU job sees only the GPU it leased, and torch
uses exactly the threads Snakemake gave the job.
"""

from __future__ import annotations

import logging
from typing import Any

from .gpu_lease import lease_gpu
from .logs import log_to_file


def start_job(log_path: str, threads: int, gpus: int = 0, device: str = "cpu") -> logging.Logger:
    log = log_to_file(log_path)
    lease = lease_gpu(gpus, device=device)
    if lease is not None:
        log.info("leased GPU %s (CUDA_VISIBLE_DEVICES)", lease.cuda_visible_devices)
    from .device import set_threads  # imports torch: only after CUDA_VISIBLE_DEVICES is settled

    set_threads(threads)
    return log


def start_workflow_job(job: Any) -> logging.Logger:
    """``start_job`` for a Snakemake script: ``job`` is its ``snakemake`` object (read only
    through its attributes, so the package still never imports Snakemake). The GPU count is
    the job's ``gpu`` resource, the device its ``params.device`` or the ``device`` of its
    ``params.config``."""
    device = getattr(job.params, "device", None) or (getattr(job.params, "config", None) or {}).get("device", "cpu")
    return start_job(job.log[0], job.threads, job.resources.get("gpu", 0), device)


def checkpoint_place(job: Any):
    """Where a training job of the workflow keeps its checkpoint: its own folder,
    ``results/<study>/checkpoints/<rule>/<other wildcards>/``, beside and never inside its
    outputs (Snakemake deletes a failed job's outputs, and must not delete this); how often
    it writes one is the study's ``checkpoint.every_minutes``."""
    from pathlib import Path

    from .checkpoint import CheckpointPlace

    wildcards = dict(job.wildcards.items())
    study = wildcards.pop("study")
    every_minutes = float((job.config.get("checkpoint") or {}).get("every_minutes", 0.0))
    return CheckpointPlace(Path("results", study, "checkpoints", job.rule, *map(str, wildcards.values())), every_minutes)
