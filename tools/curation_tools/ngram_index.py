"""Word n-gram overlap between training documents and benchmark items, vectorised with numpy.

Tokens are the word characters of the normalised text; each token gets a stable 64-bit hash
(pandas' siphash with a fixed key), n-grams a polynomial hash of their tokens. Items whose key is
shorter than n tokens are indexed by the whole key (exact matching of short items).

What n-gram coverage decides depends on the item's length. A long item (SHORT_KEY_TOKENS tokens or more: a math
problem, a code prompt, a detailed question) is held by a row that reproduces most of its n-grams, whatever else
the row says (its answer, a surrounding document). A short item (a query) is held by coverage only when the row
is the whole item (a short question with its choices, where choice letters break the choices' n-grams); its
other pairs are handed on as `short_pairs`, for short_items to tell a surface variant or the item as a whole
sentence inside a longer row from a new query that shares most of its words. N-grams shared by many items
(templates) or found in many training documents (boilerplate, quotes) are not informative and are left out of
an item's coverage.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from curation_tools.arrays import sorted_unique
from curation_tools.text import SHORT_TEXT_WORDS, normalize

_WORD = re.compile(r"\w+")
_MULT = np.uint64(0x9E3779B97F4A7C15)


def tokenize(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


@dataclass
class TokenStream:
    """All documents' token hashes end to end; doc `d` owns hashes[offsets[d]:offsets[d + 1]]."""

    hashes: np.ndarray
    offsets: np.ndarray

    @classmethod
    def from_tokens(cls, docs: list[list[str]]) -> TokenStream:
        lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
        flat = [t for d in docs for t in d]
        hashes = pd.util.hash_array(np.asarray(flat, dtype=object)) if flat else np.zeros(0, dtype=np.uint64)
        return cls(hashes.astype(np.uint64), np.concatenate([[0], np.cumsum(lengths)]))

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def doc(self, d: int) -> np.ndarray:
        """Document d's token hashes."""
        return self.hashes[self.offsets[d] : self.offsets[d + 1]]

    def select(self, docs: np.ndarray) -> TokenStream:
        """The stream of these documents only, in the order given."""
        lengths = self.lengths()[docs]
        parts = [self.doc(int(d)) for d in docs]
        hashes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
        return TokenStream(hashes, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))

    def grams(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(gram hash, doc index, start position within the doc) of every n-gram inside one document."""
        total = len(self.hashes) - n + 1
        if total <= 0:
            empty = np.zeros(0, dtype=np.int64)
            return np.zeros(0, dtype=np.uint64), empty, empty
        acc = np.full(total, np.uint64(n), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for k in range(n):
                acc = acc * _MULT + self.hashes[k : k + total]
        starts = np.arange(total)
        doc = np.searchsorted(self.offsets, starts, side="right") - 1
        inside = starts + n <= self.offsets[doc + 1]
        return acc[inside], doc[inside], (starts - self.offsets[doc])[inside]


@dataclass
class ItemGrams:
    """Informative n-grams of benchmark items: parallel arrays gram -> (item, in the item's key part)."""

    grams: np.ndarray
    items: np.ndarray
    is_key: np.ndarray
    n_full: np.ndarray
    n_key: np.ndarray
    short_lengths: list[int]
    """gram lengths used for items shorter than n (matched whole)."""
    whole_key_grams: pd.Index
    """the grams of whole keys shorter than n."""
    key_lengths: np.ndarray
    item_tokens: TokenStream


def index_items(keys: list[list[str]], texts: list[list[str]], n: int, min_short: int, max_items: int) -> ItemGrams:
    """Index items' n-grams; the key is a prefix of the text, so a gram is a key gram when it ends inside it."""
    stream = TokenStream.from_tokens(texts)
    key_len = np.fromiter((len(k) for k in keys), dtype=np.int64, count=len(keys))
    parts = []
    grams, docs, starts = stream.grams(n)
    parts.append((grams, docs, starts + n <= key_len[docs]))
    short = sorted({int(length) for length in key_len if min_short <= length < n})
    for length in short:
        g, d, s = stream.grams(length)
        whole_key = (key_len[d] == length) & (s == 0)
        parts.append((g[whole_key], d[whole_key], np.ones(int(whole_key.sum()), dtype=bool)))
    whole = np.concatenate([p[0] for p in parts[1:]] or [np.zeros(0, np.uint64)])
    grams = np.concatenate([p[0] for p in parts])
    items = np.concatenate([p[1] for p in parts])
    is_key = np.concatenate([p[2] for p in parts])
    frame = pd.DataFrame({"gram": grams, "item": items, "key": is_key})
    frame = frame.groupby(["gram", "item"], sort=False)["key"].any().reset_index()
    spread = frame.groupby("gram")["item"].transform("size")
    frame = frame[spread <= max_items]
    n_items = len(texts)
    n_full = np.bincount(frame["item"], minlength=n_items)
    n_key = np.bincount(frame.loc[frame["key"], "item"], minlength=n_items)
    return ItemGrams(
        grams=frame["gram"].to_numpy(np.uint64),
        items=frame["item"].to_numpy(np.int64),
        is_key=frame["key"].to_numpy(bool),
        n_full=n_full,
        n_key=n_key,
        short_lengths=short,
        whole_key_grams=pd.Index(sorted_unique(whole)),
        key_lengths=key_len,
        item_tokens=stream,
    )


@dataclass
class Overlap:
    """Per (document, item) pair with shared informative grams: coverage of the item by the document. Pairs of a
    short item whose coverage does not count (the row is not the item with its other fields) are `short_pairs`:
    a surface variant of the item, the item as a whole sentence inside the row, or a new query (query_slots)."""

    docs: np.ndarray
    items: np.ndarray
    coverage: np.ndarray
    boilerplate_grams: int
    short_docs: np.ndarray
    short_items: np.ndarray


def overlap(stream: TokenStream, index: ItemGrams, n: int, max_doc_freq: int) -> Overlap:
    """Coverage = max(shared grams / item's grams, shared key grams / item's key grams)."""
    grams, docs = gram_hits(stream, index, n)
    return overlap_of_hits(grams, docs, stream.select, index, max_doc_freq)


def gram_hits(stream: TokenStream, index: ItemGrams, n: int, first_doc: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(gram, document) of each informative benchmark gram found in these documents, numbered from `first_doc`:
    the part of `overlap` that reads every document, so it can run shard by shard on an engine."""
    known = pd.Index(sorted_unique(index.grams))  # its hash table is built once, used for every length
    hit_grams, hit_docs = [], []
    for length in [n, *index.short_lengths]:
        grams, docs, _ = stream.grams(length)
        found = (index.whole_key_grams if length < n else known).get_indexer(grams) >= 0
        hit_grams.append(grams[found])
        hit_docs.append(docs[found] + first_doc)
    return np.concatenate(hit_grams), np.concatenate(hit_docs)


def overlap_of_hits(
    hit_grams: np.ndarray,
    hit_docs: np.ndarray,
    tokens_of: Callable[[np.ndarray], TokenStream],
    index: ItemGrams,
    max_doc_freq: int,
) -> Overlap:
    """`overlap` from every document's hits: the global part (document frequencies, postings, the short-item
    checks). `tokens_of(docs)` gives the token stream of those documents (sorted ids), the candidates only."""
    hits = pd.DataFrame({"gram": hit_grams, "doc": hit_docs}).drop_duplicates()
    doc_freq = hits.groupby("gram")["doc"].transform("size")
    boilerplate = hits.loc[doc_freq > max_doc_freq, "gram"].nunique()
    hits = hits[doc_freq <= max_doc_freq]
    postings = pd.DataFrame({"gram": index.grams, "item": index.items, "key": index.is_key})
    pairs = hits.merge(postings, on="gram")
    candidates = np.unique(pairs["doc"].to_numpy())
    stream = tokens_of(candidates)
    pairs["doc"] = np.searchsorted(candidates, pairs["doc"].to_numpy())  # positions in `stream`
    empty = np.zeros(0, dtype=np.int64)
    if pairs.empty:
        return Overlap(empty, empty, np.zeros(0), boilerplate, empty, empty)
    pairs["key"] = pairs["key"].astype(np.int64)
    counts = pairs.groupby(["doc", "item"]).agg(full=("gram", "size"), key=("key", "sum")).reset_index()
    docs, items = counts["doc"].to_numpy(), counts["item"].to_numpy()
    full = counts["full"].to_numpy() / np.maximum(index.n_full[items], 1)
    key = np.where(index.n_key[items] > 0, counts["key"].to_numpy() / np.maximum(index.n_key[items], 1), 0.0)
    short = _short_not_whole(docs, items, stream, index)
    held = ~short
    return Overlap(
        candidates[docs[held]], items[held], np.maximum(full, key)[held], boilerplate, candidates[docs[short]],
        items[short],
    )  # fmt: skip


SHORT_ITEM_WORDS = 0.8  # share of a short item's distinct words the item with its other fields holds
SHORT_KEY_TOKENS = SHORT_TEXT_WORDS  # keys shorter than this are queries: n-gram coverage does not hold them


def _holds_item_words(item: np.ndarray, doc: np.ndarray) -> bool:
    """Whether the row holds SHORT_ITEM_WORDS of the item's distinct words (a short question with its choices)."""
    return bool(np.isin(np.unique(item), doc).mean() >= SHORT_ITEM_WORDS)


def _short_not_whole(docs: np.ndarray, items: np.ndarray, stream: TokenStream, index: ItemGrams) -> np.ndarray:
    """Which pairs are of a short key where the row is not the whole item with its other fields (a short question
    with its choices, at most twice the item's length: its n-gram coverage stands)."""
    short = index.key_lengths[items] < SHORT_KEY_TOKENS
    doc_len = stream.lengths()[docs]
    item_len = index.item_tokens.lengths()[items]
    for j in np.flatnonzero(short & (item_len > index.key_lengths[items]) & (doc_len <= 2 * item_len)):
        short[j] = not _holds_item_words(index.item_tokens.doc(items[j]), stream.doc(docs[j]))
    return short


def shared_spans(doc_tokens: list[str], item_tokens: list[str], n: int, limit: int = 3) -> list[str]:
    """The longest runs of the document's tokens covered by n-grams it shares with the item."""
    n = min(n, len(item_tokens))
    if n == 0 or len(doc_tokens) < n:
        return []
    item_grams = {tuple(item_tokens[i : i + n]) for i in range(len(item_tokens) - n + 1)}
    covered = np.zeros(len(doc_tokens), dtype=bool)
    for i in range(len(doc_tokens) - n + 1):
        if tuple(doc_tokens[i : i + n]) in item_grams:
            covered[i : i + n] = True
    spans, start = [], None
    for i, flag in enumerate([*covered, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            spans.append(doc_tokens[start:i])
            start = None
    spans.sort(key=len, reverse=True)
    return [" ".join(s) for s in spans[:limit]]
