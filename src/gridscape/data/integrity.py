"""Checksums: every archive is checked when fetched and again before it is read."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from gridscape.data.registry import Archive


class DataIntegrityError(ValueError):
    """A file's content is not what it must be; the message names the file and the expectation."""


def expected_md5(archive: Archive, checksums: Mapping[str, str] | None) -> str:
    """The md5 to demand: an override by file name (for generated test archives) or the official one."""
    if checksums and archive.filename in checksums:
        return checksums[archive.filename].lower()
    return archive.md5


def file_md5(path: str | os.PathLike[str]) -> str:
    # torchvision is imported here, not at module level, because it takes seconds to import.
    from torchvision.datasets.utils import calculate_md5

    return calculate_md5(path)


def verify_md5(path: Path, expected: str) -> None:
    """Raise DataIntegrityError unless ``path`` has md5 ``expected``."""
    actual = file_md5(path)
    if actual != expected:
        raise DataIntegrityError(f"{path}: md5 is {actual}, expected {expected} (corrupt, truncated or wrong file)")
