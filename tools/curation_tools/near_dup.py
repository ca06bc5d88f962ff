"""Near-duplicate candidate pairs: shingles -> MinHash signatures (rensa) -> LSH bands -> signature
agreement filter -> verified edges.

Signatures are reduced as they arrive to what the band stage reads (`Sketches`: band keys, uint64 (bands, rows),
in a file read back one band at a time; the low 16 bits of every value, in memory), so they are never held whole
and the same stages can run chunk by chunk or on a distributed engine. Candidates are verified by their true
similarity on the hashed shingle sets: max(Jaccard, containment), containment counting only when the smaller
document is long enough that "contained" means "copied" (truncated or boilerplate-wrapped copies).
"""

from __future__ import annotations

import mmap
import tempfile
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.format import open_memmap
from rensa import RMinHash

from curation_tools.arrays import merged_unique, sorted_unique
from curation_tools.context import ToolContext
from curation_tools.engine import TextShard, in_order
from curation_tools.text_column import take

if TYPE_CHECKING:
    from scipy import sparse  # imported where used: every `curate` command loads the tool registry

CHUNK = 20_000
VERIFY_PAIRS = 100_000  # candidate pairs per verification task on a distributed engine
PLAUSIBLE_BLOCK = 100_000  # pairs whose agreement is computed at once: two (pairs, perms) uint16 blocks
VERIFY_BLOCK = 200_000  # candidate pairs per sparse merge: bounds the two gathered row blocks
VERIFY_LOCAL_PAIRS = 500_000
"""candidate pairs verified at a time on large inputs, their documents' sets read back from the stage file: about
1.5 GB on short texts, where all of a 10M-row input's candidates at once would be over 30 GB"""
STORE_WINDOW = 8 << 20  # shingle hashes read from the store at a time (32 MB)
PARALLEL_MIN_ROWS = 100_000  # below this, starting worker processes costs more than they save (measured)


_PRIME = np.uint32(0x01000193)  # FNV-1's 32-bit prime; murmur3's finaliser below mixes the result
_MIX1, _MIX2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)


class ShingleSets:
    """Every document's 32-bit character-shingle hashes (held as uint64, rensa's input type) in one flat
    array (document order) plus offsets."""

    def __init__(self, flat: np.ndarray, offsets: np.ndarray) -> None:
        self.flat = flat
        self.offsets = offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def distinct_flat(self) -> tuple[np.ndarray, np.ndarray]:
        """Each document's distinct shingle hashes as uint32 (two 10,000-shingle sets share a false hash with
        probability about 0.02), sorted, end to end, and how many each document has. An empty text's own hash keeps
        its document number in those bits."""
        docs = np.repeat(np.arange(len(self), dtype=np.uint64), np.diff(self.offsets))
        keys = sorted_unique((docs << np.uint64(32)) | (self.flat & np.uint64(0xFFFFFFFF)))
        counts = np.bincount((keys >> np.uint64(32)).astype(np.int64), minlength=len(self))
        return (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32), counts

    def distinct(self) -> sparse.csr_array:
        """`distinct_flat` as (documents, 2^32) 0/1 rows, which multiply by a linear merge in compiled code."""
        return _set_rows(*self.distinct_flat())


def _set_rows(values: np.ndarray, counts: np.ndarray) -> sparse.csr_array:
    """Sorted per-document hashes end to end (and each document's count) as sparse 0/1 rows."""
    from scipy import sparse

    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    matrix = sparse.csr_array(
        (np.ones(len(values), dtype=np.float32), values.astype(np.int64), indptr), shape=(len(counts), 1 << 32)
    )
    matrix.has_sorted_indices = True
    return matrix


class ShingleStore:
    """Every document's distinct shingle hashes (`ShingleSets.distinct_flat`) in a file, shard by shard as they
    arrive, and where each document's run starts: verification reads the candidates' sets back instead of shingling
    their texts again."""

    def __init__(self, path: Path, documents: int) -> None:
        self.path = path
        self._file = path.open("wb")
        self.start = np.zeros(documents, dtype=np.int64)
        self.count = np.zeros(documents, dtype=np.int64)
        self._size = 0

    def add(self, first: int, values: np.ndarray, counts: np.ndarray) -> None:
        self._file.write(np.ascontiguousarray(values, dtype=np.uint32).tobytes())
        self.start[first : first + len(counts)] = self._size + np.concatenate([[0], np.cumsum(counts)[:-1]])
        self.count[first : first + len(counts)] = counts
        self._size += len(values)

    def sets(self, docs: np.ndarray) -> sparse.csr_array:
        """The documents' sets as sparse rows, in the order of `docs`."""
        self._file.flush()
        counts = self.count[docs]
        return _set_rows(self._runs(self.start[docs], counts), counts)

    def _runs(self, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """The runs at `starts`, one after another in the order given, read from the file in its own order a
        window at a time: a memory map read at random is resident wherever it was touched (the whole 6 GB file
        of 10M short texts' shingles for one block of candidates), a window is memory until the next one."""
        out = np.empty(int(counts.sum()), dtype=np.uint32)
        placed = np.cumsum(counts) - counts  # where each run goes in `out`
        order = np.argsort(starts, kind="stable")
        starts, counts, placed = starts[order], counts[order], placed[order]
        ends = starts + counts
        with self.path.open("rb") as file:
            first = 0
            while first < len(order):
                low = int(starts[first])  # the runs that end inside the window (at least one, however long)
                last = max(first + 1, int(np.searchsorted(ends, low + STORE_WINDOW, side="right")))
                file.seek(low * 4)
                window = np.fromfile(file, dtype=np.uint32, count=int(ends[first:last].max()) - low)
                lengths, total = counts[first:last], int(counts[first:last].sum())
                offsets = np.cumsum(lengths) - lengths
                within = np.repeat(starts[first:last] - low - offsets, lengths) + np.arange(total)
                out[np.repeat(placed[first:last] - offsets, lengths) + np.arange(total)] = window[within]
                first = last
        return out

    def close(self) -> None:
        self._file.close()


# whitespace left after NFKC (which maps the other spaces, e.g. U+00A0 and U+3000, to U+0020); code points
# from 1 to 32 are ASCII whitespace and control characters, dropped with it (0 separates texts)
_WIDE_SPACES = np.array([0x85, 0x1680, 0x2028, 0x2029], dtype=np.uint32)


def _text_starts(lengths: np.ndarray, size: int) -> np.ndarray:
    """Where each text begins in a join that puts size - 1 separators after every text."""
    return np.concatenate([[0], np.cumsum(lengths + size - 1)[:-1]]).astype(np.int64)


def canonical_chars(texts: list[str], size: int) -> tuple[np.ndarray, np.ndarray]:
    """The texts' code points after NFKC and case folding with all whitespace removed, joined with size - 1
    zeros after each, and each text's length in that form.

    Without whitespace, spacing, line breaks and punctuation spacing cannot tell a copy from its original,
    and one vectorised pass replaces per-text string normalisation (most of the near stage's time on long
    documents).
    """
    folded = [t.lower() if t.isascii() else unicodedata.normalize("NFKC", t).casefold() for t in texts]
    joined = ("\0" * (size - 1)).join(folded) + "\0" * size  # one spare zero: an empty last text's window
    chars = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    space = (chars > 0) & (chars <= 32)
    wide = np.flatnonzero(chars > 127)
    space[wide[np.isin(chars[wide], _WIDE_SPACES)]] = True
    lengths = np.array([len(t) for t in folded], dtype=np.int64)
    removed = np.add.reduceat(space, _text_starts(lengths, size), dtype=np.int64)
    return chars[~space], lengths - removed


def shingle_sets(texts: list[str], size: int, first: int = 0) -> ShingleSets:
    """Hash each character n-gram of each text's canonical form (`canonical_chars`) with a vectorised 32-bit
    polynomial hash (half the memory traffic of 64 bits, the dominant cost here).

    A text's windows are the ones starting inside it that hold no separator (a text shorter than `size` has
    one, padded with zeros). An empty text gets a hash of its own (from its row number: `first` is the first
    text's), so it never matches another empty text.
    """
    if not texts:
        return ShingleSets(np.zeros(0, dtype=np.uint64), np.zeros(1, dtype=np.int64))
    chars, lengths = canonical_chars(texts, size)
    windows = len(chars) - size + 1
    hashes = chars[:windows].copy()
    for k in range(1, size):  # in place (wrapping uint32 arithmetic): no temporaries the size of the corpus
        np.multiply(hashes, _PRIME, out=hashes)
        np.add(hashes, chars[k : k + windows], out=hashes)
    hashes ^= hashes >> np.uint32(16)
    hashes *= _MIX1
    hashes ^= hashes >> np.uint32(13)
    hashes *= _MIX2
    hashes ^= hashes >> np.uint32(16)
    starts = _text_starts(lengths, size)
    counts = np.where(lengths >= size, lengths - size + 1, 1)  # windows kept per text (empty: 1, replaced)
    # the windows dropped are few: from the end of each text's kept ones to the start of the next text
    gap = np.arange(2 * size, dtype=np.int64)
    dropped = (starts + counts)[:, None] + gap[None, :]
    dropped = dropped[dropped < (starts + lengths + size - 1)[:, None]]
    keep = np.ones(windows, dtype=bool)
    keep[dropped[dropped < windows]] = False
    values = hashes[keep].astype(np.uint64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    empty = np.flatnonzero(lengths == 0)
    values[offsets[empty]] = (empty + first).astype(np.uint64) | np.uint64(1 << 63)
    return ShingleSets(values, offsets)


def _digest(flat: np.ndarray, offsets: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    matrix = RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets.astype(np.uint64), num_perm, seed)
    return np.asarray(matrix.to_rows(), dtype=np.uint32).reshape(-1, num_perm)


def signatures(shingles: ShingleSets, num_perm: int, seed: int, ctx: ToolContext) -> np.ndarray:
    """(rows, num_perm) uint32 MinHash signatures, CHUNK rows at a time."""
    out = np.zeros((len(shingles), num_perm), dtype=np.uint32)
    for start in range(0, len(shingles), CHUNK):
        ctx.check_cancelled()
        stop = min(start + CHUNK, len(shingles))
        lo, hi = shingles.offsets[start], shingles.offsets[stop]
        out[start:stop] = _digest(shingles.flat[lo:hi], shingles.offsets[start : stop + 1] - lo, num_perm, seed)
        ctx.progress("minhash", stop, len(shingles))
    return out


class Sketches:
    """What the band stage reads of each row's signature, taken as the signatures arrive: its LSH band keys
    ((bands, rows) uint64 in `keys`, e.g. a file) and the low 16 bits of each value (in memory: 2.6 GB at 10M rows
    and 128 permutations, where the whole signatures are 5.1 GB and a file of them read at random was resident
    whole). Two rows' share of equal low bits estimates their Jaccard as the whole values do: a minimum's low 16
    bits are equal by chance once in 65,536, which can add a pair to verification (exact) but never removes one."""

    def __init__(self, rows: int, num_perm: int, bands: int, keys: np.ndarray | None = None) -> None:
        self.bands = bands
        self.rows_per_band = num_perm // bands
        self.keys = np.zeros((bands, rows), dtype=np.uint64) if keys is None else keys
        self.low = np.zeros((rows, num_perm), dtype=np.uint16)

    def __len__(self) -> int:
        return len(self.low)

    def add(self, start: int, sigs: np.ndarray) -> None:
        """Rows [start, start + len(sigs)) of the signatures."""
        for first in range(0, len(sigs), CHUNK):
            block = sigs[first : first + CHUNK].astype(np.uint64)
            rows = slice(start + first, start + first + len(block))
            for band in range(self.bands):
                key = np.zeros(len(block), dtype=np.uint64)
                for column in range(band * self.rows_per_band, (band + 1) * self.rows_per_band):
                    key = (key * np.uint64(0x100000001B3)) ^ block[:, column]  # FNV-style mix of the band's values
                self.keys[band, rows] = key
            self.low[rows] = block.astype(np.uint16)  # the low 16 bits (numpy casts integers by truncation)
        release(self.keys)


def _sketch_shard(
    shard: TextShard, size: int, num_perm: int, seed: int, with_sets: bool
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """A shard's signatures from its raw texts, and with `with_sets` its documents' distinct shingles: the unit of
    work an engine runs."""
    shingles = shingle_sets(shard.texts(), size, shard.start)
    return _digest(shingles.flat, shingles.offsets, num_perm, seed), shingles.distinct_flat() if with_sets else None


def engine_signatures(
    texts: Sequence[str],
    size: int,
    num_perm: int,
    seed: int,
    workers: int,
    ctx: ToolContext,
    out: Sketches | np.ndarray,
    store: ShingleStore | None = None,
) -> None:
    """Signatures computed CHUNK texts at a time on the engine (locally: by `workers` processes), given to `out`
    as they arrive (an array: written into it); the same values as in-process. With a `store`, each shard's
    distinct shingles are kept there too."""
    with ctx.engine.shards(texts, CHUNK) as shards:
        for position, (chunk, sets) in ctx.engine.map(
            _sketch_shard,
            shards,
            size,
            num_perm,
            seed,
            store is not None,
            stage="minhash",
            progress=ctx.progress,
            processes=workers,
        ):
            start = shards[position].start
            if isinstance(out, Sketches):
                out.add(start, chunk)
            else:
                out[start : start + len(chunk)] = chunk
            if store is not None and sets is not None:
                store.add(start, *sets)
            ctx.check_cancelled()


def _band_pairs(keys: np.ndarray) -> np.ndarray:
    """Pairs of rows whose band keys are equal: each row linked to the next one with the same key.

    A chain keeps every bucket linear in its size (boilerplate buckets can hold thousands of rows);
    verified chain links still join a bucket's true duplicates into one cluster.
    """
    order = np.argsort(keys, kind="stable")
    same = keys[order[1:]] == keys[order[:-1]]
    return np.stack([order[:-1][same], order[1:][same]], axis=1)


def release(mapped: np.ndarray) -> None:
    """Hand back the resident pages of a file-backed array (a numpy memmap): they stay in the page cache and are
    read again on use, so resident memory is what a stage is using, not every page it touched. No-op in memory."""
    handle = getattr(mapped, "_mmap", None)  # numpy's memmap keeps its mmap object there
    if handle is not None:
        handle.madvise(mmap.MADV_DONTNEED)


def candidate_pairs(sketches: Sketches, floor: float, ctx: ToolContext) -> np.ndarray:
    """Pairs (i < j) sharing at least one LSH band whose signatures agree on at least `floor` of their values,
    sorted. Each band's keys are read as one contiguous run and its pairs filtered at once, so only plausible
    pairs are held."""
    codes = np.zeros(0, dtype=np.int64)  # each pair as one number, distinct and sorted
    n = np.int64(len(sketches))
    for band in range(sketches.bands):
        pairs = plausible(_band_pairs(np.asarray(sketches.keys[band])), sketches.low, floor)
        release(sketches.keys)
        found = sorted_unique(np.minimum(pairs[:, 0], pairs[:, 1]) * n + np.maximum(pairs[:, 0], pairs[:, 1]))
        # merged band by band: a near copy shares many bands, so every band's pairs held until the end were
        # 3 GB at 10M rows where the distinct pairs are a fraction of that
        codes = merged_unique(codes, found)
        ctx.progress("lsh", band + 1, sketches.bands)
    pairs = np.empty((len(codes), 2), dtype=np.int64)
    np.floor_divide(codes, n, out=pairs[:, 0])
    np.remainder(codes, n, out=pairs[:, 1])
    return pairs


def plausible(pairs: np.ndarray, sigs: np.ndarray, floor: float) -> np.ndarray:
    """Candidates whose signature agreement (an estimate of Jaccard) reaches `floor`: cheap, vectorised.

    A copy that keeps a fraction f of a text has Jaccard of about f, so a low floor keeps truncated
    copies while dropping the random pairs that share one LSH band by chance.
    """
    agreement = np.empty(len(pairs), dtype=np.float32)
    for start in range(0, len(pairs), PLAUSIBLE_BLOCK):
        block = pairs[start : start + PLAUSIBLE_BLOCK]
        agreement[start : start + len(block)] = (sigs[block[:, 0]] == sigs[block[:, 1]]).mean(axis=1)
    return pairs[agreement >= floor]


def pair_similarities(pairs: np.ndarray, sets: sparse.csr_array, min_contained: int) -> np.ndarray:
    """max(Jaccard, containment) of each pair's distinct shingle sets (`ShingleSets.distinct`); containment counts
    only when the smaller set has at least `min_contained` shingles."""
    if not len(pairs):
        return np.zeros(0, dtype=np.float32)
    sizes = np.diff(sets.indptr)
    a, b = sets[pairs[:, 0]], sets[pairs[:, 1]]
    a.has_sorted_indices = b.has_sorted_indices = True  # rows of a sorted matrix: the merge path, not a dense one
    common = np.asarray(a.multiply(b).sum(axis=1), dtype=np.float64).ravel()
    size_a, size_b = sizes[pairs[:, 0]], sizes[pairs[:, 1]]
    union = size_a + size_b - common
    jaccard = np.divide(common, union, out=np.zeros_like(common), where=union > 0)
    smaller = np.minimum(size_a, size_b)
    containment = np.where(smaller >= min_contained, common / np.maximum(smaller, 1), 0.0)
    return np.maximum(jaccard, containment).astype(np.float32)


def verified_edges(
    pairs: np.ndarray, sets: sparse.csr_array, threshold: float, min_contained: int, ctx: ToolContext | None
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs whose true similarity reaches `threshold` (rows of `sets`: `ShingleSets.distinct`), and their
    scores (`ctx` None: no progress)."""
    scores = np.zeros(len(pairs), dtype=np.float32)
    for start in range(0, len(pairs), VERIFY_BLOCK):
        if ctx is not None:
            ctx.check_cancelled()
            ctx.progress("verify", start, len(pairs))
        scores[start : start + VERIFY_BLOCK] = pair_similarities(
            pairs[start : start + VERIFY_BLOCK], sets, min_contained
        )
    if ctx is not None:
        ctx.progress("verify", len(pairs), len(pairs))
    keep = scores >= threshold
    return pairs[keep], scores[keep]


def _verify_chunk(
    chunk: tuple[np.ndarray, list[str]], size: int, threshold: float, min_contained: int
) -> tuple[np.ndarray, np.ndarray]:
    """Verified edges among pairs numbering the chunk's texts: the unit of work an engine runs."""
    pairs, texts = chunk
    return verified_edges(pairs, shingle_sets(texts, size).distinct(), threshold, min_contained, None)


def _candidate_texts(pairs: np.ndarray, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The candidates' documents, the pairs renumbered over them, and their texts."""
    docs, local = np.unique(pairs, return_inverse=True)
    return docs, local.reshape(pairs.shape), take(texts, docs)


def blockwise_verified_edges(
    pairs: np.ndarray, store: ShingleStore, threshold: float, min_contained: int, ctx: ToolContext
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs whose true similarity reaches `threshold`, VERIFY_LOCAL_PAIRS at a time, each block's documents'
    sets read back from the store: memory is one block's sets, whatever the number of rows."""
    edges, scores = [np.zeros((0, 2), dtype=np.int64)], [np.zeros(0, dtype=np.float32)]
    for start in range(0, len(pairs), VERIFY_LOCAL_PAIRS):
        ctx.check_cancelled()
        block = pairs[start : start + VERIFY_LOCAL_PAIRS]
        docs, local = np.unique(block, return_inverse=True)
        local_edges, block_scores = verified_edges(
            local.reshape(block.shape), store.sets(docs), threshold, min_contained, None
        )
        edges.append(docs[local_edges])
        scores.append(block_scores)
        ctx.progress("verify", min(start + VERIFY_LOCAL_PAIRS, len(pairs)), len(pairs))
    return np.concatenate(edges), np.concatenate(scores)


def engine_verified_edges(
    pairs: np.ndarray, texts: Sequence[str], size: int, threshold: float, min_contained: int, ctx: ToolContext
) -> tuple[np.ndarray, np.ndarray]:
    """`verified_edges` VERIFY_PAIRS candidates per task on the engine, each task sent its pairs' texts only."""
    chunks = [
        _candidate_texts(pairs[start : start + VERIFY_PAIRS], texts) for start in range(0, len(pairs), VERIFY_PAIRS)
    ]
    found = in_order(
        ctx.engine.map(
            _verify_chunk,
            [(local, chunk_texts) for _, local, chunk_texts in chunks],
            size,
            threshold,
            min_contained,
            stage="verify",
            progress=ctx.progress,
        ),
        len(chunks),
    )
    edges = [docs[local_edges] for (docs, _, _), (local_edges, _) in zip(chunks, found, strict=True)]
    scores = [chunk_scores for _, chunk_scores in found]
    if not edges:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.float32)
    return np.concatenate(edges), np.concatenate(scores)


def near_edges(
    texts: Sequence[str],
    *,
    size: int,
    num_perm: int,
    bands: int,
    floor: float,
    threshold: float,
    min_contained: int,
    workers: int,
    ctx: ToolContext,
) -> tuple[np.ndarray, np.ndarray, int]:
    """The near stage end to end: verified edges (pairs of row positions), their scores, candidates checked.

    Band keys are written to a file in a scratch folder under the cache directory and read back one band at a
    time; the signatures' low bits, the candidate pairs and the verified edges stay in memory. Large inputs are
    hashed by worker processes, which also return each document's distinct shingles to a stage file that
    verification reads back a block at a time.
    """
    ctx.cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="near-stages-", dir=ctx.cache_dir) as scratch:
        stages = Path(scratch)
        keys = open_memmap(stages / "band_keys.npy", mode="w+", dtype=np.uint64, shape=(bands, len(texts)))
        sketches = Sketches(len(texts), num_perm, bands, keys)
        shingles: ShingleSets | ShingleStore | None = None  # where verification reads the sets (None: from texts)
        if ctx.engine.name != "local":
            engine_signatures(texts, size, num_perm, ctx.seed, workers, ctx, sketches)
        elif workers > 1 and len(texts) >= PARALLEL_MIN_ROWS:
            shingles = ShingleStore(stages / "shingles.u32", len(texts))
            engine_signatures(texts, size, num_perm, ctx.seed, workers, ctx, sketches, shingles)
        else:
            shingles = shingle_sets(list(texts), size)
            sketches.add(0, signatures(shingles, num_perm, ctx.seed, ctx))
        pairs = candidate_pairs(sketches, floor, ctx)
        del sketches, keys  # the stage file's map, closed before the folder goes
        if isinstance(shingles, ShingleStore):
            edges, scores = blockwise_verified_edges(pairs, shingles, threshold, min_contained, ctx)
            shingles.close()
        elif shingles is not None:
            edges, scores = verified_edges(pairs, shingles.distinct(), threshold, min_contained, ctx)
        else:
            edges, scores = engine_verified_edges(pairs, texts, size, threshold, min_contained, ctx)
        return edges, scores, len(pairs)
