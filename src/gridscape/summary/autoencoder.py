"""The autoencoder kind's headline: each run's test loss and its dead code units."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Mapping

import pandas as pd


def summarise(results: Path, config: Mapping) -> Iterator[str]:
    path = results / "autoencoders" / "results.csv"
    if not path.exists():
        return
    for _, row in pd.read_csv(path).iterrows():
        yield (f"{row['run']}: test loss {row['test_loss']:.4f} per pixel, {int(row['parameters']):,} parameters, "
               f"{int(row['dead_latents'])} dead code units")
