"""The search kind's headline: the best cell, its metric, the final model's test accuracy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator, Mapping


def value_text(metric: str, value: float) -> str:
    return f"{100 * value:.2f} %" if metric.endswith("acc") else f"{value:.4f}"


def summarise(results: Path, config: Mapping) -> Iterator[str]:
    best_path = results / "search" / "best.json"
    if best_path.exists():
        best = json.loads(best_path.read_text())
        sampled = "stage" in best  # a random or staged search: drawn values, three digits say enough
        params = ", ".join(f"{key} = {f'{value:.3g}' if sampled and isinstance(value, float) else value}"
                           for key, value in best["params"].items())
        what = f"best trial:  {best['trial']}:" if sampled else "best cell:  "
        yield f"{what} {params} ({best['metric']} {value_text(best['metric'], best['value'])})"
    metrics_path = results / "final" / "metrics.json"
    if metrics_path.exists():
        metrics = json.loads(metrics_path.read_text())
        yield (f"final model: test accuracy {100 * metrics['test_acc']:.2f} % "
               f"(loss {metrics['test_loss']:.4f}) on {metrics['n_test']:,} test images")
