"""Blocked exact nearest neighbours: the same answer as a full sort, in memory bounded by one block."""

from __future__ import annotations

import tracemalloc

import numpy as np

from curation_tools import neighbours
from curation_tools.neighbours import block_rows, nearest


def _unit(rows: int, dim: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_the_k_nearest_are_those_of_a_full_sort(monkeypatch):
    monkeypatch.setattr(neighbours, "BLOCK_BYTES", 12 * 500 * 7)  # 7 queries per block: blocks end mid-way
    vectors, queries = _unit(500, 16, 0), _unit(37, 16, 1)
    for query_set, own in ((None, True), (queries, False)):
        idx, sim = nearest(vectors, 5, query_set)
        full = (vectors if own else queries) @ vectors.T
        if own:
            np.fill_diagonal(full, -np.inf)
        expected = np.argsort(-full, axis=1)[:, :5]
        assert (idx == expected).all()
        assert np.allclose(sim, np.take_along_axis(full, expected, axis=1))


def test_memory_is_one_block_plus_the_answer(monkeypatch):
    """2,048 queries against 200,000 rows held 8 GB at once; the block now shrinks with the number of rows."""
    assert block_rows(200_000) == 111 and block_rows(1_000) == 2048
    monkeypatch.setattr(neighbours, "BLOCK_BYTES", 4 * 2**20)
    vectors = _unit(30_000, 32, 2)
    tracemalloc.start()
    idx, sim = nearest(vectors, 10)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    answer = idx.nbytes + sim.nbytes
    assert peak < answer + 3 * 4 * 2**20, f"peak {peak / 2**20:.1f} MB"  # 2,048-row blocks: ~980 MB
