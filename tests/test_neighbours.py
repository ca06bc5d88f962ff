"""Blocked exact nearest neighbours: the same answer as a full sort, in memory bounded by one block."""

from __future__ import annotations

import tracemalloc

import numpy as np

from curation_tools import neighbours
from curation_tools.neighbours import block_rows, clustered_nearest, nearest


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


def _topics(rows: int, topics: int, seed: int) -> np.ndarray:
    """Unit vectors around `topics` centres: the structure real embeddings have and k-means can find."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(topics, 32))
    vectors = centres[rng.integers(0, topics, rows)] + 0.6 * rng.normal(size=(rows, 32))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_clustered_search_finds_nearly_all_true_neighbours():
    vectors = _topics(6_000, 40, 3)
    exact_idx, exact_sim = nearest(vectors, 10)
    idx, sim = clustered_nearest(vectors, 10, rows_per_cluster=300, seed=0)
    rows = np.arange(len(vectors))[:, None]
    assert (idx != rows).all(), "a row is never its own neighbour"
    assert all(len(set(r)) == 10 for r in idx.tolist()), "a neighbour met in both clusters counts once"
    assert (np.diff(sim, axis=1) <= 1e-6).all(), "best first"
    assert np.allclose(sim, np.sum(vectors[rows] * vectors[idx], axis=2), atol=1e-5)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(idx.tolist(), exact_idx.tolist(), strict=True)])
    assert recall > 0.95, recall
    assert (sim <= exact_sim + 1e-5).all()


def test_rows_of_a_tiny_cluster_are_searched_against_every_row():
    """An outlier alone in its clusters still gets k real neighbours (no -1 and no -inf in the answer)."""
    vectors = _topics(400, 4, 4)
    vectors[0] = -vectors[1:].mean(axis=0) / np.linalg.norm(vectors[1:].mean(axis=0))
    idx, sim = clustered_nearest(vectors, 10, rows_per_cluster=5, seed=0)
    assert (idx >= 0).all() and np.isfinite(sim).all()
    assert (idx[0] != 0).all()
    exact_idx, _ = nearest(vectors, 10)
    assert set(idx[0]) == set(exact_idx[0])
