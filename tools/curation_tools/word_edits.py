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

from collections.abc import Sequence

from curation_tools.text import SHORT_TEXT_WORDS, normalize

MIN_WORDS = 3
NEGATIONS = frozenset({"not", "no", "never", "t", "nt", "cannot", "without", "nothing", "none", "nobody", "nor"})


def words(text: str) -> tuple[str, ...]:
    """The normalised text's word tokens (punctuation marks dropped)."""
    return tuple(token for token in normalize(text).split() if any(c.isalnum() for c in token))


def _short_words(text: str) -> tuple[str, ...] | None:
    """`words(text)` when it may hold at most SHORT_TEXT_WORDS words; None (cheaply) for longer texts."""
    chunks_with_words = 0
    for chunk in text.split():
        chunks_with_words += any(c.isalnum() for c in chunk)
        if chunks_with_words > SHORT_TEXT_WORDS:  # each such chunk holds at least one word
            return None
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
    for i, text in enumerate(texts):
        found = _short_words(text)
        if found is not None and MIN_WORDS <= len(found) < SHORT_TEXT_WORDS:
            by_hash.setdefault(hash(found), []).append(i)
    pairs = []
    for j, text in enumerate(texts):
        longer = _short_words(text)
        if longer is None or len(longer) <= MIN_WORDS:
            continue
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
