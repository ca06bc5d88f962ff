"""Short texts one inserted word apart: the near duplicates that character shingles miss.

A 6-word query with a word added ("My card now is broken !" / "My card is broken") shares too few
character 5-grams with the original for MinHash to see it, yet it is the same row. Below
SHORT_TEXT_WORDS words, two texts are linked when the longer one is the shorter with exactly one word
inserted (case, punctuation and spacing ignored), the shorter has at least MIN_WORDS words, the
inserted word is neither a negation nor a number, and, where both rows have labels, they carry the
same label: "I need a disposable virtual card" and "I need a virtual card" are different intents.
Substitutions are never linked ("Is my card accepted anywhere?" / "denied"): one swapped word often
flips the meaning, one added word rarely does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from curation_tools.text import SHORT_TEXT_WORDS, normalize

MIN_WORDS = 3
NEGATIONS = frozenset({"not", "no", "never", "t", "nt", "cannot", "without", "nothing", "none", "nobody", "nor"})


_ASCII_WORD = re.compile(r"[a-z0-9_]*[a-z0-9][a-z0-9_]*")
"""on ASCII, normalize() leaves runs of letters, digits and underscores between spaces and marks: a word token is
such a run holding a letter or digit"""


def words(text: str) -> tuple[str, ...]:
    """The normalised text's word tokens (punctuation marks dropped)."""
    if text.isascii():  # the same tokens as below, without building the normalised string
        return tuple(_ASCII_WORD.findall(text.lower()))
    return tuple(token for token in normalize(text).split() if any(c.isalnum() for c in token))


def _short_words(text: str) -> tuple[str, ...] | None:
    """`words(text)` when it holds at most SHORT_TEXT_WORDS words, else None."""
    found = words(text)
    return found if len(found) <= SHORT_TEXT_WORDS else None


def _meaningful(word: str) -> bool:
    return word in NEGATIONS or any(c.isdigit() for c in word)


def _same_or_unknown(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a == b


def one_word_apart(texts: Sequence[str], labels: Sequence[str | None] | None = None) -> list[tuple[int, int, float]]:
    """(shorter row, longer row, token similarity) for each pair of short texts one inserted word apart.

    Memory stays at one hash per short text (a 1M-row table holds no word lists); a hash hit is confirmed
    against the row's words before it counts."""
    by_hash: dict[int, list[int]] = {}
    counts = np.zeros(len(texts), dtype=np.int64)  # each text's words; SHORT_TEXT_WORDS + 1 for a long text
    for i, text in enumerate(texts):
        found = _short_words(text)
        counts[i] = SHORT_TEXT_WORDS + 1 if found is None else len(found)
        if found is not None and MIN_WORDS <= len(found) < SHORT_TEXT_WORDS:
            by_hash.setdefault(hash(found), []).append(i)
    shorter_counts = set(counts[[i for rows in by_hash.values() for i in rows]].tolist())
    pairs = []
    for j in np.flatnonzero(np.isin(counts - 1, list(shorter_counts))).tolist():  # a word more than some text
        longer = words(texts[j])
        similarity = 1 - 1 / len(longer)
        seen: set[int] = set()
        for k, inserted in enumerate(longer):
            if _meaningful(inserted):
                continue
            shorter = longer[:k] + longer[k + 1 :]
            for i in by_hash.get(hash(shorter), ()):
                if i in seen or (labels is not None and not _same_or_unknown(labels[i], labels[j])):
                    continue
                if words(texts[i]) == shorter:
                    seen.add(i)
                    pairs.append((i, j, similarity))
    return pairs
