"""The exercises kind's headline: what the checks against torch found, and the escape height."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator, Mapping

import pandas as pd


def summarise(results: Path, config: Mapping) -> Iterator[str]:
    folder = results / "exercises"
    check = folder / "trajectories" / "check.csv"
    if check.exists():
        table = pd.read_csv(check)
        if len(table):
            yield f"Adam by hand against torch.optim.Adam: largest difference {table['max_abs_diff_torch'].max():.2e} ({len(table)} runs)"
    escape = folder / "escape.json"
    if escape.exists():
        facts = json.loads(escape.read_text())
        yield f"escape scan: the largest bump height escaped is h = {facts['h_max']}"
    ops = folder / "ops.csv"
    if ops.exists():
        table = pd.read_csv(ops)
        yield f"layers by hand against torch: {int(table['match'].sum())} of {len(table)} match"
