"""Exact cosine nearest neighbours over normalised vectors, computed in blocks so memory stays bounded."""

from __future__ import annotations

import numpy as np

BLOCK = 2048


def nearest(vectors: np.ndarray, k: int, queries: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices and similarities of the k most similar rows of `vectors` for each query, best first.

    Without `queries`, each row of `vectors` is its own query and never its own neighbour.
    """
    self_query = queries is None
    queries = vectors if queries is None else queries
    k = min(k, len(vectors) - (1 if self_query else 0))
    idx = np.zeros((len(queries), k), dtype=np.int64)
    sim = np.zeros((len(queries), k), dtype=np.float32)
    for start in range(0, len(queries), BLOCK):
        block = queries[start : start + BLOCK] @ vectors.T
        if self_query:
            rows = np.arange(block.shape[0])
            block[rows, rows + start] = -np.inf
        top = (
            np.argpartition(-block, k - 1, axis=1)[:, :k]
            if k < block.shape[1]
            else np.tile(np.arange(k), (len(block), 1))
        )
        top_sim = np.take_along_axis(block, top, axis=1)
        order = np.argsort(-top_sim, axis=1)
        idx[start : start + len(block)] = np.take_along_axis(top, order, axis=1)
        sim[start : start + len(block)] = np.take_along_axis(top_sim, order, axis=1)
    return idx, sim
