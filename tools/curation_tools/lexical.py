"""Lexical retrieval of benchmark items for training windows: TF-IDF cosine (sublinear tf, stop words out).

Items are indexed twice, by key (the question/prompt alone) and by full text (with choices or the
worked answer), because a reworded copy often carries only the question. The vocabulary and IDF come
from the windows and the items together, so a window's norm counts all of its words.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from curation_tools.context import ProgressFn, no_progress

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
        self.items_t = sparse.vstack([self.texts, self.keys]).T.tocsr() if not same else self.texts.T.tocsr()

    def top(self, k: int, floor: float, progress: ProgressFn = no_progress) -> tuple[np.ndarray, ...]:
        """(window, item, cosine) for each window's k best items by max(key cosine, text cosine) >= floor."""
        out_w, out_i, out_s = [], [], []
        n = self.windows.shape[0]
        for start in range(0, n, BLOCK):
            scores = (self.windows[start : start + BLOCK] @ self.items_t).toarray()
            if scores.shape[1] > self.n_items:
                scores = np.maximum(scores[:, : self.n_items], scores[:, self.n_items :])
            kk = min(k, scores.shape[1])
            best = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
            best_scores = np.take_along_axis(scores, best, axis=1)
            rows, cols = np.nonzero(best_scores >= floor)
            out_w.append(rows + start)
            out_i.append(best[rows, cols])
            out_s.append(best_scores[rows, cols])
            progress("lexical retrieval", min(start + BLOCK, n), n)
        if not out_w:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
        return np.concatenate(out_w), np.concatenate(out_i), np.concatenate(out_s)

    def cosine(self, windows: np.ndarray, items: np.ndarray) -> np.ndarray:
        """max(key cosine, text cosine) for given (window, item) pairs."""
        w = self.windows[windows]
        by_text = np.asarray(w.multiply(self.texts[items]).sum(axis=1)).ravel()
        by_key = np.asarray(w.multiply(self.keys[items]).sum(axis=1)).ravel()
        return np.maximum(by_text, by_key).astype(np.float32)
