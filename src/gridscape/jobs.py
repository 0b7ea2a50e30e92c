"""The start of every heavy workflow job: its log, its GPU lease, its thread count.

One call at the top of a script, before any CUDA work, so that every job gets the same three
guarantees: output goes to the rule's log, a GPU job sees only the GPU it leased, and torch
uses exactly the threads Snakemake gave the job.
"""

from __future__ import annotations

import logging

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
