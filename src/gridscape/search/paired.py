"""Two cells compared on the same validation images: McNemar's exact test.

Two accuracies measured on the same images are not independent: most images are right (or
wrong) for both cells, and only the images on which they disagree tell them apart. McNemar's
test looks at exactly those: b images the first cell gets right and the second wrong, c the
reverse; if the cells were equally good, each disagreement would go either way with
probability 1/2, so min(b, c) follows a binomial(b + c, 1/2) law. The exact two-sided p-value
is computed with integers, no approximation.
"""

from __future__ import annotations

from fractions import Fraction
from math import comb
from typing import Any

import numpy as np


def mcnemar_exact_p(b: int, c: int) -> float:
    """Two-sided exact p-value of McNemar's test for b and c discordant images."""
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(comb(n, k) for k in range(min(b, c) + 1))
    return float(min(Fraction(1), Fraction(2 * tail, 2**n)))


def paired_comparison(first: np.ndarray, second: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """McNemar's test of two cells' predicted labels against the true ``labels`` (same images,
    same order): counts of images right for both, for one only, for neither, and the p-value."""
    first, second, labels = (np.asarray(a) for a in (first, second, labels))
    if not first.shape == second.shape == labels.shape:
        raise ValueError(f"predictions of different images: shapes {first.shape}, {second.shape}, {labels.shape}")
    right_first, right_second = first == labels, second == labels
    b = int(np.sum(right_first & ~right_second))
    c = int(np.sum(~right_first & right_second))
    return {
        "n": int(labels.size),
        "both_right": int(np.sum(right_first & right_second)),
        "only_first": b,
        "only_second": c,
        "neither": int(np.sum(~right_first & ~right_second)),
        "p_value": mcnemar_exact_p(b, c),
        "test": "McNemar, exact two-sided",
    }
