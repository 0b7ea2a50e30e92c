"""Fetch official archives into a directory, verifying each md5 before it takes its final name.

A fetch goes to a private temporary directory first, so an interrupted download never leaves a
partial file under the final name, and a file that fails its checksum is renamed aside
(``<name>.corrupt``) so that the next run fetches it again instead of trusting it.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from gridscape.data.integrity import DataIntegrityError, expected_md5, file_md5
from gridscape.data.registry import Archive, get_spec

log = logging.getLogger(__name__)


def download(
    name: str,
    root: str | os.PathLike[str],
    mirror: str | None = None,
    checksums: Mapping[str, str] | None = None,
) -> list[Path]:
    """Fetch every archive of dataset ``name`` into ``root`` and return their verified paths.

    ``mirror`` replaces the directory part of each official URL (``file://`` works, for offline
    copies and tests); ``checksums`` maps file names to md5 sums that override the official ones.
    A file already present with the right md5 is kept as it is.
    """
    spec = get_spec(name)
    directory = Path(root)
    directory.mkdir(parents=True, exist_ok=True)
    return [_fetch(archive, directory, mirror, checksums) for archive in spec.archives]


def archive_url(archive: Archive, mirror: str | None) -> str:
    """The official URL, or the same file name under ``mirror``."""
    if mirror is None:
        return archive.url
    base = mirror if mirror.endswith("/") else mirror + "/"
    return base + archive.filename


def _fetch(archive: Archive, root: Path, mirror: str | None, checksums: Mapping[str, str] | None) -> Path:
    target = root / archive.filename
    md5 = expected_md5(archive, checksums)
    if target.is_file():
        if file_md5(target) == md5:
            return target
        aside = _set_aside(target, target)
        log.warning("%s does not have md5 %s; moved it to %s and fetching it again", target, md5, aside)

    url = archive_url(archive, mirror)
    with tempfile.TemporaryDirectory(prefix=f".{archive.filename}.", dir=root) as tmp:
        fetched = Path(tmp) / archive.filename
        _retrieve(url, fetched)
        actual = file_md5(fetched)
        if actual != md5:
            aside = _set_aside(fetched, target)
            raise DataIntegrityError(
                f"{archive.filename} fetched from {url} has md5 {actual}, expected {md5} "
                f"(corrupt or truncated); kept it as {aside} and will fetch it again next time"
            )
        os.replace(fetched, target)
    return target


def _set_aside(path: Path, target: Path) -> Path:
    """Move a file that failed its checksum to ``<target>.corrupt`` for inspection."""
    aside = target.with_name(target.name + ".corrupt")
    os.replace(path, aside)
    return aside


def _retrieve(url: str, destination: Path) -> None:
    """Copy ``url`` to ``destination``; torchvision's downloader cannot read ``file://`` URLs."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        source = Path(url2pathname(parsed.path))
        if not source.is_file():
            raise FileNotFoundError(f"{url}: no such file")
        shutil.copyfile(source, destination)
    elif parsed.scheme in ("http", "https"):
        from torchvision.datasets.utils import download_url

        download_url(url, destination.parent, filename=destination.name)
    else:
        raise ValueError(f"{url}: unsupported URL scheme {parsed.scheme!r}; use http(s):// or file://")
