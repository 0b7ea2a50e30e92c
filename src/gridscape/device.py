"""Choosing the device and the thread count for a job, with no silent fallback."""

from __future__ import annotations

import torch


class DeviceError(RuntimeError):
    """The configured device cannot be used."""


def resolve_device(setting: str) -> torch.device:
    """'auto' takes CUDA when visible, else the CPU; 'cuda' without a GPU stops with the fix."""
    if setting == "cpu":
        return torch.device("cpu")
    available = torch.cuda.is_available()
    if setting == "cuda":
        if not available:
            raise DeviceError(
                "config key device: 'cuda' was asked for but torch sees no CUDA device "
                f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'no'}). "
                "Run on a machine with an NVIDIA GPU and driver, or set device: cpu "
                "(or auto) in the study config."
            )
        return torch.device("cuda")
    if setting == "auto":
        return torch.device("cuda" if available else "cpu")
    raise DeviceError(f"config key device: {setting!r} is not one of auto, cpu, cuda")


def set_threads(threads: int) -> None:
    """Use exactly the threads Snakemake gave the job, so --cores N never oversubscribes."""
    threads = max(1, int(threads))
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set in this process: harmless, inter-op parallelism is unused here
