"""How many GPUs this machine has, found without importing torch (the Snakefile asks at parse time)."""

from __future__ import annotations

import os
from pathlib import Path

NVIDIA_PROC = Path("/proc/driver/nvidia/gpus")


def visible_gpu_count(proc_dir: Path = NVIDIA_PROC) -> int:
    """NVIDIA GPUs the driver lists, limited by CUDA_VISIBLE_DEVICES when that is set."""
    try:
        count = sum(1 for _ in proc_dir.iterdir())
    except OSError:
        count = 0
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = [part for part in visible.split(",") if part.strip() and part.strip() != "-1"]
        count = min(count, len(ids))
    return count
