"""Near-duplicate candidate pairs: shingles -> MinHash signatures (rensa) -> LSH bands -> signature
agreement filter -> verified edges.

Each stage's output is a plain array that can be written to disk and read back by the next stage
(signatures: uint32 (rows, perms); candidates and edges: int64 pairs), so the same stages can run
chunk by chunk or on a distributed engine. Candidates are verified by their true similarity on the
hashed shingle sets: max(Jaccard, containment), containment counting only when the smaller document
is long enough that "contained" means "copied" (truncated or boilerplate-wrapped copies).
"""

from __future__ import annotations

import numpy as np
from rensa import RMinHash

from curation_tools.context import ToolContext

CHUNK = 20_000


_PRIME = np.uint64(0x100000001B3)
_MIX = np.uint64(0xBF58476D1CE4E5B9)


class ShingleSets:
    """Every document's 64-bit character-shingle hashes in one flat array (document order) plus offsets."""

    def __init__(self, flat: np.ndarray, offsets: np.ndarray) -> None:
        self.flat = flat
        self.offsets = offsets
        self._unique: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, doc: int) -> np.ndarray:
        """The document's sorted unique shingle hashes, cut to their low 32 bits (sorted twice as fast; two
        10,000-shingle sets share a false hash with probability about 0.02), computed on first use: only
        candidates need them. An empty text's own hash keeps its document number in those bits."""
        if doc not in self._unique:
            hashes = np.sort(self.flat[self.offsets[doc] : self.offsets[doc + 1]].astype(np.uint32))
            first = np.ones(len(hashes), dtype=bool)  # sort + neighbour test: 4x numpy.unique's hash path here
            np.not_equal(hashes[1:], hashes[:-1], out=first[1:])
            self._unique[doc] = hashes[first]
        return self._unique[doc]


def shingle_sets(normalized: list[str], size: int) -> ShingleSets:
    """Hash each character n-gram of each (normalised) text with a vectorised polynomial hash.

    Texts are joined with size - 1 zeros after each, so no window straddles two texts; a text's windows
    are the ones starting inside it that hold no padding (a text shorter than `size` has one, padded with
    zeros). An empty text gets a hash of its own, so it never matches another empty text.
    """
    if not normalized:
        return ShingleSets(np.zeros(0, dtype=np.uint64), np.zeros(1, dtype=np.int64))
    lengths = np.array([len(t) for t in normalized], dtype=np.int64)
    joined = ("\0" * (size - 1)).join(normalized) + "\0" * size  # one spare zero: an empty last text's window
    chars = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    windows = len(chars) - size + 1
    hashes = chars[:windows].astype(np.uint64)
    for k in range(1, size):  # in place: no temporaries the size of the corpus
        np.multiply(hashes, _PRIME, out=hashes)
        np.add(hashes, chars[k : k + windows], out=hashes, casting="unsafe")
    hashes ^= hashes >> np.uint64(31)
    hashes *= _MIX
    hashes ^= hashes >> np.uint64(29)
    starts = np.concatenate([[0], np.cumsum(lengths + size - 1)[:-1]]).astype(np.int64)
    counts = np.where(lengths >= size, lengths - size + 1, 1)  # windows kept per text (empty: 1, replaced)
    # the windows dropped are few: from the end of each text's kept ones to the start of the next text
    gap = np.arange(2 * size, dtype=np.int64)
    dropped = (starts + counts)[:, None] + gap[None, :]
    dropped = dropped[dropped < (starts + lengths + size - 1)[:, None]]
    keep = np.ones(windows, dtype=bool)
    keep[dropped[dropped < windows]] = False
    values = hashes[keep]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    empty = np.flatnonzero(lengths == 0)
    values[offsets[empty]] = empty.astype(np.uint64) | np.uint64(1 << 63)
    return ShingleSets(values, offsets)


def signatures(shingles: ShingleSets, num_perm: int, seed: int, ctx: ToolContext) -> np.ndarray:
    out = np.zeros((len(shingles), num_perm), dtype=np.uint32)
    for start in range(0, len(shingles), CHUNK):
        ctx.check_cancelled()
        stop = min(start + CHUNK, len(shingles))
        lo, hi = shingles.offsets[start], shingles.offsets[stop]
        offsets = (shingles.offsets[start : stop + 1] - lo).astype(np.uint64)
        matrix = RMinHash.digest_matrix_from_flat_token_hashes(shingles.flat[lo:hi], offsets, num_perm, seed)
        out[start:stop] = np.asarray(matrix.to_rows(), dtype=np.uint32)
        ctx.progress("minhash", stop, len(shingles))
    return out


def _band_pairs(keys: np.ndarray) -> np.ndarray:
    """Pairs of rows whose band keys are equal: each row linked to the next one with the same key.

    A chain keeps every bucket linear in its size (boilerplate buckets can hold thousands of rows);
    verified chain links still join a bucket's true duplicates into one cluster.
    """
    order = np.argsort(keys, kind="stable")
    same = keys[order[1:]] == keys[order[:-1]]
    return np.stack([order[:-1][same], order[1:][same]], axis=1)


def candidate_pairs(sigs: np.ndarray, bands: int, ctx: ToolContext) -> np.ndarray:
    """Pairs (i < j) sharing at least one LSH band."""
    rows = sigs.shape[1] // bands
    found: list[np.ndarray] = []
    for band in range(bands):
        keys = np.zeros(len(sigs), dtype=np.uint64)
        for column in range(band * rows, (band + 1) * rows):  # FNV-style mix of the band's values
            keys = (keys * np.uint64(0x100000001B3)) ^ sigs[:, column].astype(np.uint64)
        pairs = _band_pairs(keys)
        found.append(np.sort(pairs, axis=1))
        ctx.progress("lsh", band + 1, bands)
    return np.unique(np.concatenate(found), axis=0)


def plausible(pairs: np.ndarray, sigs: np.ndarray, floor: float) -> np.ndarray:
    """Candidates whose signature agreement (an estimate of Jaccard) reaches `floor`: cheap, vectorised.

    A copy that keeps a fraction f of a text has Jaccard of about f, so a low floor keeps truncated
    copies while dropping the random pairs that share one LSH band by chance.
    """
    agreement = np.empty(len(pairs), dtype=np.float32)
    for start in range(0, len(pairs), 100_000):
        block = pairs[start : start + 100_000]
        agreement[start : start + len(block)] = (sigs[block[:, 0]] == sigs[block[:, 1]]).mean(axis=1)
    return pairs[agreement >= floor]


def similarity(a: np.ndarray, b: np.ndarray, min_contained: int) -> float:
    if not len(a) or not len(b):
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    found = np.searchsorted(large, small)  # both sorted and unique: count the small set's members in the large
    common = int((large[np.minimum(found, len(large) - 1)] == small).sum())
    jaccard = common / (len(a) + len(b) - common)
    smaller = min(len(a), len(b))
    containment = common / smaller if smaller >= min_contained else 0.0
    return max(jaccard, containment)


def verified_edges(
    pairs: np.ndarray, hashes: ShingleSets, threshold: float, min_contained: int, ctx: ToolContext
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
