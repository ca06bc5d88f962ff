"""Exact cosine nearest neighbours over normalised vectors, computed in blocks so memory stays bounded."""

from __future__ import annotations

import numpy as np

BLOCK = 2048
BLOCK_BYTES = 256 * 2**20
"""what one block of queries may hold: its similarities (4 bytes each) and argpartition's indices (8 bytes each)"""


def block_rows(n_vectors: int) -> int:
    """Queries per block so that a block's similarity row against every vector, and its argpartition, fit in
    BLOCK_BYTES: 2,048 rows against 200,000 vectors took 8 GB (issue 23)."""
    return max(1, min(BLOCK, BLOCK_BYTES // (12 * max(n_vectors, 1))))


def nearest(vectors: np.ndarray, k: int, queries: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices and similarities of the k most similar rows of `vectors` for each query, best first.

    Without `queries`, each row of `vectors` is its own query and never its own neighbour. Memory is the output
    plus one block (`block_rows`), whatever the number of rows.
    """
    self_query = queries is None
    queries = vectors if queries is None else queries
    n = len(vectors)
    k = min(k, n - (1 if self_query else 0))
    idx = np.zeros((len(queries), k), dtype=np.int64)
    sim = np.zeros((len(queries), k), dtype=np.float32)
    step = block_rows(n)
    for start in range(0, len(queries), step):
        block = queries[start : start + step] @ vectors.T
        if self_query:
            rows = np.arange(block.shape[0])
            block[rows, rows + start] = -np.inf
        top = (
            np.argpartition(block, n - k, axis=1)[:, n - k :]  # the k largest, without a negated copy
            if k < n
            else np.tile(np.arange(k), (len(block), 1))
        )
        top_sim = np.take_along_axis(block, top, axis=1)
        order = np.argsort(-top_sim, axis=1, kind="stable")
        idx[start : start + len(block)] = np.take_along_axis(top, order, axis=1)
        sim[start : start + len(block)] = np.take_along_axis(top_sim, order, axis=1)
    return idx, sim


def similar_pairs(
    vectors: np.ndarray, threshold: float, k: int, exact_max_rows: int, rows_per_cluster: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (row, neighbour) among each row's k nearest with cosine >= threshold, and their cosines.

    Up to `exact_max_rows` rows every pair is compared. Above it the search is SemDeDup-style: k-means
    clusters of about `rows_per_cluster` rows, each row placed in its two nearest clusters (so a pair split
    by a cluster boundary is still seen from one side), neighbours searched within clusters only. A pair
    may come back more than once.
    """
    groups = [np.arange(len(vectors))] if len(vectors) <= exact_max_rows else _clusters(vectors, rows_per_cluster, seed)
    pairs, sims = [np.zeros((0, 2), dtype=np.int64)], [np.zeros(0, dtype=np.float32)]
    for members in groups:
        if len(members) < 2:
            continue
        idx, sim = nearest(vectors[members], k)
        keep = sim >= threshold
        rows = np.broadcast_to(members[:, None], idx.shape)
        pairs.append(np.stack([rows[keep], members[idx[keep]]], axis=1))
        sims.append(sim[keep])
    return np.concatenate(pairs), np.concatenate(sims)


def _clusters(vectors: np.ndarray, rows_per_cluster: int, seed: int) -> list[np.ndarray]:
    """Members of each k-means cluster, every row in its two nearest clusters (by cosine to the centroid)."""
    from sklearn.cluster import MiniBatchKMeans

    count = max(2, -(-len(vectors) // rows_per_cluster))
    model = MiniBatchKMeans(n_clusters=count, batch_size=4096, n_init=1, random_state=seed).fit(vectors)
    centres = model.cluster_centers_ / np.maximum(np.linalg.norm(model.cluster_centers_, axis=1, keepdims=True), 1e-12)
    nearest_two = np.zeros((len(vectors), 2), dtype=np.int64)
    for start in range(0, len(vectors), BLOCK * 8):  # bounded memory: a block of rows x all centroids at a time
        scores = vectors[start : start + BLOCK * 8] @ centres.T
        nearest_two[start : start + len(scores)] = np.argpartition(-scores, 1, axis=1)[:, :2]
    rows = np.repeat(np.arange(len(vectors)), 2)
    order = np.argsort(nearest_two.ravel(), kind="stable")
    bounds = np.searchsorted(nearest_two.ravel()[order], np.arange(count + 1))
    return [rows[order[bounds[c] : bounds[c + 1]]] for c in range(count)]
