"""Lexical retrieval of benchmark items for training windows: TF-IDF cosine (sublinear tf, stop words out).

Items are indexed twice, by key (the question/prompt alone) and by full text (with choices or the
worked answer), because a reworded copy often carries only the question. The vocabulary and IDF come
from the windows and the items together, so a window's norm counts all of its words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from curation_tools.progress import ProgressFn, no_progress

if TYPE_CHECKING:
    from scipy import sparse

TOKEN_PATTERN = r"(?u)\b\w+\b"
BLOCK = 2048


class TfidfRetrieval:
    def __init__(self, windows: list[str], keys: list[str], texts: list[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.n_items = len(texts)
        vectorizer = TfidfVectorizer(
            token_pattern=TOKEN_PATTERN, sublinear_tf=True, stop_words="english", dtype=np.float32
        )
        same = keys == texts
        matrix = vectorizer.fit_transform(windows + texts + ([] if same else keys))
        self.windows = matrix[: len(windows)]
        items = matrix[len(windows) :]
        self.texts = items[: self.n_items]
        self.keys = self.texts if same else items[self.n_items :]
        from scipy import sparse  # lazy: registering the tool (every `curate` start) must not load scipy

        self.items_t = sparse.vstack([self.texts, self.keys]).T.tocsr() if not same else self.texts.T.tocsr()

    def top(self, k: int, floor: float, progress: ProgressFn = no_progress) -> tuple[np.ndarray, ...]:
        """(window, item, cosine) for each window's k best items by max(key cosine, text cosine) >= floor.

        Works on the sparse products' entries at or above the floor (few), never on dense blocks; ties go
        to the lower item index.
        """
        out_w, out_i, out_s = [], [], []
        n = self.windows.shape[0]
        for start in range(0, n, BLOCK):
            product = self.windows[start : start + BLOCK] @ self.items_t
            rows, items, scores = best_entries(product, self.n_items, k, floor)
            out_w.append(rows + start)
            out_i.append(items)
            out_s.append(scores)
            progress("lexical retrieval", min(start + BLOCK, n), n)
        if not out_w:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
        return np.concatenate(out_w), np.concatenate(out_i), np.concatenate(out_s)

    def item_neighbours(self, items: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(item, other item) pairs: each given item's k most similar other items by TF-IDF cosine, key to key
        and full text to full text."""
        found = []
        for view in [self.texts] if self.keys is self.texts else [self.texts, self.keys]:
            for start in range(0, len(items), BLOCK):
                block = items[start : start + BLOCK]
                product = view[block] @ view.T
                rows, others, _ = best_entries(product, self.n_items, k + 1, 0.0)  # + 1: the item itself
                mine = block[rows]
                found.append(np.stack([mine[others != mine], others[others != mine]], axis=1))
        return np.unique(np.concatenate(found), axis=0) if found else np.zeros((0, 2), dtype=np.int64)

    def cosine(self, windows: np.ndarray, items: np.ndarray) -> np.ndarray:
        """max(key cosine, text cosine) for given (window, item) pairs."""
        w = self.windows[windows]
        by_text = np.asarray(w.multiply(self.texts[items]).sum(axis=1)).ravel()
        by_key = np.asarray(w.multiply(self.keys[items]).sum(axis=1)).ravel()
        return np.maximum(by_text, by_key).astype(np.float32)


def best_entries(product: sparse.spmatrix, n_items: int, k: int, floor: float) -> tuple[np.ndarray, ...]:
    """(row, item, score) of each row's k best items among the product's entries >= floor, column c scoring
    item c % n_items (views side by side; an item's better view counts); ties go to the lower item index."""
    product = product.tocoo()
    keep = product.data >= floor
    rows, items, scores = product.row[keep], product.col[keep], product.data[keep]
    views = -(-product.shape[1] // max(n_items, 1))  # an item has at most this many entries in a row
    keep = scores >= _kth_best_bound(rows, scores, product.shape[0], k * views)
    rows, items, scores = rows[keep], items[keep] % n_items, scores[keep]
    order = np.lexsort((items, -scores, rows))  # by row, best score first, then item
    rows, items, scores = rows[order], items[order], scores[order]
    pair = rows.astype(np.int64) * n_items + items
    first_of_pair = np.sort(np.unique(pair, return_index=True)[1])  # an item's better view
    rows, items, scores = rows[first_of_pair], items[first_of_pair], scores[first_of_pair]
    starts = np.flatnonzero(np.diff(rows, prepend=-1))  # where each row's entries begin
    rank = np.arange(len(rows)) - np.repeat(starts, np.diff(starts, append=len(rows)))
    best = rank < k
    return rows[best].astype(np.int64), items[best].astype(np.int64), scores[best]


SCORE_BINS = 1024


def _kth_best_bound(rows: np.ndarray, scores: np.ndarray, n_rows: int, need: int) -> np.ndarray:
    """Per entry, a lower bound on its row's k-th best item score: the lower edge of the highest score bin from
    which the row has `need` entries (k items' worth of views; a product has one entry per row and column), else
    -inf. Entries below it cannot be among the row's k best, so the sort that ranks them sees only the few that can
    (a row can have thousands of entries). Bins cover [0, 1); the lowest also holds every score below it."""
    if len(rows) == 0:
        return np.zeros(0)
    bins = np.clip(scores.astype(np.float64) * SCORE_BINS, 0, SCORE_BINS - 1).astype(np.int64)
    counts = np.bincount(rows.astype(np.int64) * SCORE_BINS + bins, minlength=n_rows * SCORE_BINS)
    from_top = counts.reshape(n_rows, SCORE_BINS)[:, ::-1].cumsum(axis=1) >= need
    first = from_top.argmax(axis=1)
    lowest = SCORE_BINS - 1 - first
    reached = from_top[np.arange(n_rows), first] & (lowest > 0)
    edge = np.where(reached, lowest / SCORE_BINS, -np.inf)
    return edge[rows]
