"""Array helpers. Set operations on integer hash arrays by sorting: several times faster here than numpy.unique /
numpy.intersect1d, which take a hash-table path or a full sort (for large query arrays against a large set,
a pandas Index's hash table is faster still). Group lookups without a Python call per group."""

from __future__ import annotations

import numpy as np
import pandas as pd


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted."""
    return _distinct(np.sort(values))


def merged_unique(one: np.ndarray, other: np.ndarray) -> np.ndarray:
    """The distinct values of two sorted arrays of distinct values, sorted (a stable sort merges the two runs in
    linear time)."""
    both = np.concatenate([one, other])
    both.sort(kind="stable")  # in place: the union can be the largest array of a stage
    return _distinct(both)


def _distinct(ordered: np.ndarray) -> np.ndarray:
    first = np.ones(len(ordered), dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


def second_in_group(groups: np.ndarray, values: np.ndarray, default: float) -> np.ndarray:
    """For each entry, the value of its group's second entry in array order (`default` for a group of one), as
    float64. `groups` holds no missing keys (ids)."""
    codes, uniques = pd.factorize(groups)
    rank = pd.Series(codes).groupby(codes, sort=False).cumcount().to_numpy()
    second = np.full(len(uniques), default, dtype=np.float64)
    second[codes[rank == 1]] = values[rank == 1]
    return second[codes]
