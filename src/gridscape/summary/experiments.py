"""The named-experiments kind's headline: the best experiment by validation accuracy, tested."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Mapping

import pandas as pd


def summarise(results: Path, config: Mapping) -> Iterator[str]:
    path = results / "experiments" / "results.csv"
    if not path.exists():
        return
    table = pd.read_csv(path)
    ok = table[table["status"] == "ok"]
    if ok.empty:
        yield f"experiments: all {len(table)} diverged"
        return
    best = ok.loc[ok["val_acc"].idxmax()]
    yield (f"best experiment by validation accuracy: {best['experiment']} "
           f"(val_acc {100 * best['val_acc']:.2f} % at epoch {int(best['test_epoch'])})")
    yield f"its test accuracy: {100 * best['test_acc']:.2f} %  ({len(table)} experiments in results.csv)"
