"""The merge step: chunk files to the surface and its diagnostics. Torch-free, so the merge
job starts in well under a second (importing torch costs 2-4 s per job)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping, Sequence

from gridscape import io

from .diagnostics import PRECISION_RTOL, precision_of, require_reference, surface_diagnostics
from .grid import PlaneGrid, MergeError, effective_chunks, merge_chunks, read_chunk

log = logging.getLogger(__name__)


def merge(landscape: Mapping, chunk_paths: Sequence[str]) -> tuple:
    grid = PlaneGrid.from_config(landscape)
    expected = effective_chunks(grid.size, int(landscape["chunks"]))
    if len(chunk_paths) != expected:
        raise MergeError(f"{len(chunk_paths)} chunk files given, the config asks for {expected}")
    frames = [read_chunk(p) for p in chunk_paths]
    names = [f"chunk {k} ({Path(p).name})" for k, p in enumerate(chunk_paths)]
    return grid, frames, merge_chunks(grid, frames, names, n_chunks=int(landscape["chunks"]))


def run_merge(
    landscape: Mapping, chunk_paths: Sequence[str], directions_json: str, reference_json: str,
    surface_csv: str, surface_npz: str, diagnostics_json: str,
) -> dict:
    """Check and assemble the chunks; write the surface (CSV + npz) and the diagnostics.

    Raises when the centre does not reproduce L(θ*) to 1e-6 relative (1e-2 for
    ``landscape.precision`` bfloat16): such a surface is not the landscape of the final
    model. When 0 lies in both ranges but is not a grid point the check cannot be made: a
    warning names the config keys.
    """
    grid, frames, surface = merge(landscape, chunk_paths)
    reference = io.read_json(reference_json)
    cos = io.read_json(directions_json)["cos_delta_eta"]
    precision = precision_of(landscape)
    diagnostics = surface_diagnostics(surface, reference, cos, frames, precision)
    diagnostics["data"] = reference.get("data")
    log.info("diagnostics: %s", diagnostics)
    if diagnostics["centre"]["on_grid"]:
        check = require_reference("the grid's centre f(0, 0)", diagnostics["centre"]["loss"], reference["loss"],
                                  PRECISION_RTOL[precision])
        if diagnostics["centre_check"].get("bitwise_expected") and not check["bitwise"]:
            log.warning("the %s method's centre is within %g of L(theta*) but not bit for bit: the reference and "
                        "the chunk jobs ran with different kernels (another kind of machine or thread count?)",
                        diagnostics["method"], check["tolerance"])
    elif (problem := diagnostics["centre_check"].get("problem")) is not None:
        log.warning("the centre check against L(theta*) is skipped: %s", problem)
    else:
        log.info("theta* (alpha = beta = 0) lies outside the grid's ranges: no centre check")
    if diagnostics.get("method") is None:
        log.warning("the chunk files do not record their evaluation method (written by an older version)")
    if diagnostics["non_finite"]["count"]:
        log.warning("%d of %d grid points have a non-finite loss (kept as they are)",
                    diagnostics["non_finite"]["count"], grid.size)
    io.write_csv(surface_csv, surface.to_frame())
    io.write_npz(surface_npz, **surface.arrays())
    io.write_json(diagnostics_json, diagnostics)
    return diagnostics
