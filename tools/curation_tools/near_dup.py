"""Near-duplicate candidate pairs: shingles -> MinHash signatures (rensa) -> LSH bands -> verified edges.

Each stage's output is a plain array that can be written to disk and read back by the next stage
(signatures: uint32 (rows, perms); candidates and edges: int64 pairs), so the same stages can run
chunk by chunk or on a distributed engine. Candidates are verified by their true similarity on the
hashed shingle sets: max(Jaccard, containment), containment counting only when the smaller document
is long enough that "contained" means "copied" (truncated or boilerplate-wrapped copies).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from rensa import RMinHash

from curation_tools.context import ToolContext
from curation_tools.text import normalize

CHUNK = 20_000
MAX_BUCKET = 200  # a band bucket larger than this is boilerplate; its members are linked to neighbours only


def shingles(text: str, size: int) -> list[str]:
    norm = normalize(text)
    if len(norm) <= size:
        return [norm] if norm else []
    return [norm[i : i + size] for i in range(len(norm) - size + 1)]


def shingle_hashes(texts: list[str], size: int) -> list[np.ndarray]:
    """Sorted unique 64-bit hashes of each text's character shingles."""
    hashed = RMinHash.hash_token_sets([shingles(t, size) for t in texts])
    return [np.unique(np.asarray(h, dtype=np.uint64)) for h in hashed]


def signatures(hashes: list[np.ndarray], num_perm: int, seed: int, ctx: ToolContext) -> np.ndarray:
    out = np.zeros((len(hashes), num_perm), dtype=np.uint32)
    for start in range(0, len(hashes), CHUNK):
        ctx.check_cancelled()
        chunk = [h.tolist() if len(h) else [0] for h in hashes[start : start + CHUNK]]
        matrix = RMinHash.digest_matrix_from_token_hash_sets(chunk, num_perm, seed)
        out[start : start + len(chunk)] = np.asarray(matrix.to_rows(), dtype=np.uint32)
        ctx.progress("minhash", min(start + CHUNK, len(hashes)), len(hashes))
    return out


def _band_pairs(keys: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    boundaries = np.flatnonzero(np.diff(sorted_keys)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(keys)]])
    sizes = ends - starts
    for start, end in zip(starts[sizes > 1], ends[sizes > 1], strict=True):
        members = order[start:end]
        if len(members) > MAX_BUCKET:
            yield members[:-1], members[1:]  # a chain keeps huge buckets linear
        else:
            yield np.repeat(members[:1], len(members) - 1), members[1:]


def candidate_pairs(sigs: np.ndarray, bands: int, ctx: ToolContext) -> np.ndarray:
    """Pairs (i < j) sharing at least one LSH band."""
    rows = sigs.shape[1] // bands
    found: list[np.ndarray] = []
    for band in range(bands):
        keys = np.zeros(len(sigs), dtype=np.uint64)
        for column in range(band * rows, (band + 1) * rows):  # FNV-style mix of the band's values
            keys = (keys * np.uint64(0x100000001B3)) ^ sigs[:, column].astype(np.uint64)
        for left, right in _band_pairs(keys):
            found.append(np.stack([np.minimum(left, right), np.maximum(left, right)], axis=1))
        ctx.progress("lsh", band + 1, bands)
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(found), axis=0)


def similarity(a: np.ndarray, b: np.ndarray, min_contained: int) -> float:
    if not len(a) or not len(b):
        return 0.0
    common = len(np.intersect1d(a, b, assume_unique=True))
    jaccard = common / (len(a) + len(b) - common)
    smaller = min(len(a), len(b))
    containment = common / smaller if smaller >= min_contained else 0.0
    return max(jaccard, containment)


def verified_edges(
    pairs: np.ndarray, hashes: list[np.ndarray], threshold: float, min_contained: int, ctx: ToolContext
) -> tuple[np.ndarray, np.ndarray]:
    keep, scores = [], []
    for n, (i, j) in enumerate(pairs):
        score = similarity(hashes[i], hashes[j], min_contained)
        if score >= threshold:
            keep.append(n)
            scores.append(score)
        if n % 50_000 == 0:
            ctx.check_cancelled()
            ctx.progress("verify", n, len(pairs))
    ctx.progress("verify", len(pairs), len(pairs))
    return pairs[keep], np.asarray(scores, dtype=np.float32)
