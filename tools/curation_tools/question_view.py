"""Reworded exam questions: a benchmark question asked again in other words, short ones included.

An exam item (a benchmark item with more than its question: choices, an answer) is reworded by a row that asks
the same question with its specifics ("Ethnic identity refers to:" / "What does ethnic identity mean?"). A row
on the same topic asks another question; a query to an assistant (an item that is only its text) has no
specifics to keep, so queries are left to the surface-variant rule (short_items). What tells them apart:
- how close the row is to the item in meaning (MiniLM cosine), and how much closer than to the next item;
- how much of the item's rare content words the row keeps, and how much of the row is the item's words (IDF
  over the benchmark's questions: "ethnic identity" counts, "which of the following" does not).
A passage question (a quoted speech, then "Which group would most likely have favoured ...?") is also seen by
its closing question alone: a rewording often keeps only that. Candidates come from TF-IDF over the items'
views, QUESTION_CANDIDATES per row; only the top item by meaning is scored, by a logistic model
(QUESTION_WEIGHTS, fitted by benchmarks/decontam.py --fit-questions on llm-decontaminator's MMLU rewordings of
even items against ARC and CLINC150 questions the report corpus does not hold).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import numpy as np
import pandas as pd

from curation_tools.arrays import second_in_group
from curation_tools.lexical import BLOCK, TOKEN_PATTERN, best_entries
from curation_tools.query_slots import content_words

QUESTION_WEIGHTS = {"cosine": 22.04, "margin": 4.49, "item_kept": 3.45, "row_in_item": -4.45, "bias": -18.64}
QUESTION_ROW_WORDS = 80  # a longer row is a document, not a question asked again
PASSAGE_WORDS = 40  # a question of more words is seen by its closing question too
QUESTION_CANDIDATES = 10


def closing_question(question: str) -> str | None:
    """The question after a passage: the last paragraph of a long question of several paragraphs (a quoted
    speech, then what is asked about it). A one-paragraph problem has none: its last sentence alone ("How many
    calories is his omelet?") is not the problem."""
    paragraphs = [p.strip() for p in question.strip().split("\n") if p.strip()]
    if len(question.split()) <= PASSAGE_WORDS or len(paragraphs) < 2:
        return None
    return paragraphs[-1]


def item_views(keys: list[str], items: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Each item's question, and for a passage question its closing question too; and the item of each view."""
    views, owners = [], []
    for item in items:
        views.append(keys[item])
        owners.append(item)
        closing = closing_question(keys[item])
        if closing:
            views.append(closing)
            owners.append(item)
    return views, np.asarray(owners, dtype=np.int64)


def _idf(views: list[list[str]]) -> Callable[[str], float]:
    counts = Counter(word for view in views for word in set(view))
    total = len(views)
    return lambda word: math.log((total + 1) / (counts.get(word, 0) + 1))


def _kept(have: list[str], want: list[str], idf: Callable[[str], float]) -> float:
    """IDF-weighted share of `want`'s distinct words found in `have`."""
    wanted = set(want)
    weight = sum(idf(w) for w in wanted)
    return sum(idf(w) for w in wanted & set(have)) / weight if weight else 0.0


def question_probability(features: pd.DataFrame) -> np.ndarray:
    z = sum(weight * features[name] for name, weight in QUESTION_WEIGHTS.items() if name != "bias")
    return 1 / (1 + np.exp(-np.asarray(z + QUESTION_WEIGHTS["bias"], dtype=np.float64)))


def question_pairs(
    texts: list[str], rows: np.ndarray, keys: list[str], items: np.ndarray, embed: Callable[[list[str]], np.ndarray]
) -> pd.DataFrame:
    """Each short row's best exam item by meaning among its TF-IDF candidates, with features and score, and the
    view of the item it matched (the question, or a passage question's closing question)."""
    columns = ["row", "item", "view_text", "cosine", "margin", "item_kept", "row_in_item", "score"]
    if len(rows) == 0 or len(items) == 0:
        return pd.DataFrame(columns=columns)
    from sklearn.feature_extraction.text import TfidfVectorizer

    views, owners = item_views(keys, items)
    vectorizer = TfidfVectorizer(token_pattern=TOKEN_PATTERN, sublinear_tf=True, stop_words="english")
    view_matrix = vectorizer.fit_transform(views).T.tocsr()
    found_rows, found_views = [], []
    for start in range(0, len(rows), BLOCK):
        product = vectorizer.transform([texts[r] for r in rows[start : start + BLOCK]]) @ view_matrix
        r, v, _ = best_entries(product, len(views), QUESTION_CANDIDATES, 1e-6)
        found_rows.append(r + start)
        found_views.append(v)
    candidate_rows, candidate_views = np.concatenate(found_rows), np.concatenate(found_views)
    if len(candidate_rows) == 0:
        return pd.DataFrame(columns=columns)
    embedded_views = np.unique(candidate_views)
    view_vectors = np.asarray(embed([views[v] for v in embedded_views]), dtype=np.float32)
    embedded_rows = np.unique(candidate_rows)
    row_vectors = np.asarray(embed([texts[rows[r]] for r in embedded_rows]), dtype=np.float32)
    cosine = np.einsum(
        "ij,ij->i",
        row_vectors[np.searchsorted(embedded_rows, candidate_rows)],
        view_vectors[np.searchsorted(embedded_views, candidate_views)],
    )
    pairs = pd.DataFrame({"row": candidate_rows, "view": candidate_views, "cosine": cosine})
    pairs["item"] = owners[pairs["view"].to_numpy()]
    # an item's better view; then each row's best item, and how far it stands above the row's next item
    pairs = pairs.sort_values("cosine", ascending=False).drop_duplicates(["row", "item"])
    second = second_in_group(pairs["row"].to_numpy(), pairs["cosine"].to_numpy(), 0.0)
    pairs = pairs.assign(margin=pairs["cosine"] - second).drop_duplicates("row")
    words = [content_words(v) for v in views]
    idf = _idf(words)
    kept, inside = [], []
    for row, view in zip(pairs["row"], pairs["view"], strict=True):
        asked = content_words(texts[rows[row]])
        kept.append(_kept(asked, words[view], idf))
        inside.append(_kept(words[view], asked, idf))
    pairs = pairs.assign(
        item_kept=kept,
        row_in_item=inside,
        row=rows[pairs["row"].to_numpy()],
        view_text=[views[v] for v in pairs["view"]],
    )
    pairs["score"] = question_probability(pairs)
    return pairs[columns].reset_index(drop=True)


def short_rows(texts: list[str]) -> np.ndarray:
    """The rows short enough to be a question asked again."""
    return np.flatnonzero([len(t.split()) <= QUESTION_ROW_WORDS for t in texts])
