"""Set operations on integer hash arrays by sorting: several times faster here than numpy.unique /
numpy.intersect1d, which take a hash-table path or a full sort (for large query arrays against a large set,
a pandas Index's hash table is faster still)."""

from __future__ import annotations

import numpy as np


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted."""
    ordered = np.sort(values)
    first = np.ones(len(ordered), dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]
