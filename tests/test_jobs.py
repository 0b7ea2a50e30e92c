"""The start of a workflow job: log file, thread count, and no GPU lease for CPU jobs."""

import logging
import os
import sys
from types import SimpleNamespace

import torch

from gridscape.jobs import start_workflow_job


def test_workflow_job_logs_to_its_file_and_takes_the_rules_threads(tmp_path, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    # start_workflow_job redirects stderr and logging for the whole process: undo it afterwards
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    handlers = logging.getLogger().handlers[:]
    before = torch.get_num_threads()
    job = SimpleNamespace(
        log=[str(tmp_path / "logs" / "job.log")],
        threads=1,
        resources={"gpu": 0},
        params=SimpleNamespace(config={"device": "cpu"}),
    )
    try:
        log = start_workflow_job(job)
        log.info("hello from the job")
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
        logging.getLogger().handlers[:] = handlers
    assert "hello from the job" in (tmp_path / "logs" / "job.log").read_text()
    assert "CUDA_VISIBLE_DEVICES" not in os.environ  # a CPU job leases no GPU
