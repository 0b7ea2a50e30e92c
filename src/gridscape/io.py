"""File input and output: every result is written to a temporary name and renamed.

A job killed half-way therefore never leaves a truncated file under the final name, and
Snakemake never mistakes a partial file for a result. Nothing here unpickles: arrays go
through ``.npz`` read with ``allow_pickle=False``, tensors through safetensors.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np


@contextmanager
def atomic_paths(paths: Sequence[str | os.PathLike]) -> Iterator[list[Path]]:
    """Yield one temporary path beside each of ``paths``; when the block succeeds, rename
    them all to their final names, so a failure leaves none of them written or half-written."""
    finals = [Path(p) for p in paths]
    temps: list[Path] = []
    try:
        for final in finals:
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
            os.close(fd)
            temps.append(Path(tmp_name))
        yield temps
        for tmp, final in zip(temps, finals):
            # mkstemp creates files readable by the owner only; results are meant to be shared.
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, final)
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` only on success."""
    with atomic_paths([path]) as (tmp,):
        yield tmp


@contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; it becomes ``path`` only when the block succeeds.

    An existing ``path`` is replaced whole, so a folder never mixes files from two runs.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _json_safe(value: Any) -> Any:
    """Replace non-finite floats by null so that the JSON stays standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    return value


def write_json(path: str | os.PathLike, data: Any) -> None:
    write_text(path, json.dumps(_json_safe(data), indent=2, sort_keys=False) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def write_csv(path: str | os.PathLike, frame) -> None:
    """Write a pandas DataFrame as CSV; floats in their shortest exact form, so values read
    back equal the values written (a learning rate of 1/30 stays 1/30)."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def read_csv_exact(path: str | os.PathLike):
    """Read a CSV written by ``write_csv`` back bit for bit (pandas 3 does so by default,
    pandas 2 needs ``float_precision='round_trip'``)."""
    import pandas as pd

    if int(pd.__version__.split(".")[0]) >= 3:
        return pd.read_csv(path)
    return pd.read_csv(path, float_precision="round_trip")


def write_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    for name, array in arrays.items():
        if np.asarray(array).dtype == object:
            raise TypeError(f"array {name!r} has dtype object, which .npz can only store by pickling")
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def write_safetensors(path: str | os.PathLike, tensors: Mapping[str, Any], metadata: Mapping[str, str] | None = None) -> None:
    from safetensors.torch import save_file

    contiguous = {name: tensor.detach().cpu().contiguous() for name, tensor in tensors.items()}
    with atomic_path(path) as tmp:
        save_file(contiguous, str(tmp), metadata=dict(metadata) if metadata else None)
        _sort_safetensors_metadata(tmp)


def _sort_safetensors_metadata(path: str | os.PathLike) -> None:
    """Put the header's metadata in key order. safetensors writes it from a Rust HashMap, whose
    order changes from process to process, so the same tensors and metadata gave files that
    differ in the order of two header entries; sorting keeps the header's length and the data."""
    with open(path, "r+b") as handle:
        size = int.from_bytes(handle.read(8), "little")
        raw = handle.read(size)
        header = json.loads(raw)
        if not isinstance(header.get("__metadata__"), dict):
            return
        header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
        text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
        if len(text) > size or json.loads(text) != json.loads(raw):
            return
        handle.seek(8)
        handle.write(text.ljust(size, b" "))


def read_safetensors(path: str | os.PathLike) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(path))
