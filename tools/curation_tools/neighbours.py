"""Exact cosine nearest neighbours over normalised vectors, computed in blocks so memory stays bounded."""

from __future__ import annotations

import numpy as np

from curation_tools.progress import ProgressFn, no_progress

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


def clustered_nearest(
    vectors: np.ndarray, k: int, rows_per_cluster: int, seed: int, progress: ProgressFn = no_progress
) -> tuple[np.ndarray, np.ndarray]:
    """Like `nearest` (each row its own query), searched within k-means clusters: each row is in its two nearest
    clusters and keeps the best k of the neighbours found in both. Rows of clusters too small to give k
    neighbours are searched against every row. Time is about rows x 2 x 2 x rows_per_cluster instead of rows^2."""
    n = len(vectors)
    k = min(k, n - 1)
    idx = np.full((n, 2 * k), -1, dtype=np.int64)
    sim = np.full((n, 2 * k), -np.inf, dtype=np.float32)
    filled = np.zeros(n, dtype=np.int64)  # clusters already searched for each row: 0, 1 or 2
    groups = _clusters(vectors, rows_per_cluster, seed)
    for number, members in enumerate(groups, start=1):
        if len(members) > 1:
            found, scores = nearest(vectors[members], k)
            columns = filled[members, None] * k + np.arange(found.shape[1])
            idx[members[:, None], columns] = members[found]
            sim[members[:, None], columns] = scores
            filled[members] += 1
        progress("neighbours", number, len(groups))
    # a neighbour met in both clusters counts once
    by_id = np.argsort(idx, axis=1, kind="stable")
    ids, sims = np.take_along_axis(idx, by_id, axis=1), np.take_along_axis(sim, by_id, axis=1)
    repeated = np.zeros_like(ids, dtype=bool)
    repeated[:, 1:] = (ids[:, 1:] == ids[:, :-1]) & (ids[:, 1:] >= 0)
    sims[repeated] = -np.inf
    best = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    idx, sim = np.take_along_axis(ids, best, axis=1), np.take_along_axis(sims, best, axis=1)
    short = np.flatnonzero(~np.isfinite(sim).all(axis=1))
    if len(short):
        found, scores = nearest(vectors, k + 1, queries=vectors[short])
        own = found == short[:, None]
        own[:, -1] |= ~own.any(axis=1)  # a row that is not its own nearest (ties) drops its last neighbour
        idx[short] = found[~own].reshape(len(short), k)
        sim[short] = scores[~own].reshape(len(short), k)
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
