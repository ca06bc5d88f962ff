"""Copies of short benchmark items (queries, short questions): what n-gram coverage cannot decide.

A short item is copied by a row that is a surface variant of it (the same content words in the same order:
query_slots.signature), or by a row that holds the whole item as a sentence or clause of its own ("... my
ISP is down. Which of the following is a router's job? A. ..."). A row that shares most of its words but
differs in a content slot is a new query ("... my card in japan" / "... in france"), and so is a longer
question that only starts with the item ("what is the exchange rate for foreign atms" / "what is the exchange
rate?"). Those near matches are reported with the slot that differs, never flagged.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from rapidfuzz.distance import Levenshtein

from curation_tools.query_slots import (
    difference,
    differs_within,
    persons_agree,
    query_form,
    query_words,
    same_query,
    signature,
)

QUERY_TOKENS = 40  # an item shorter than this is a query or a question: one content word changed makes another
NEAR_COPY_KEPT = 0.75  # share of a query's content words a row keeps, in order, to be that query with a slot changed
SURFACE_ROW_WORDS = 30  # a row of more words than this is no surface variant of a short item
NEAR_MATCH = 0.6  # word similarity (1 - edits / longer length) from which a new query is reported as a near match
NEAR_MATCHES_LISTED = 50
SURFACE_VARIANT = "surface variant"
WHOLE_ITEM = "whole item in row"
_BOUNDARY = set('.?!:;,"()[]\n')
_OPENING = _BOUNDARY - {","}  # "in pacific time, what's the current time" narrows the item; a clause after it adds
_TAIL = re.compile(r"\W*$")
_HEAD = re.compile(r"\W*")


@dataclass
class ShortItemCopies:
    copies: pd.DataFrame
    """row, item, method (SURFACE_VARIANT or WHOLE_ITEM)."""
    near_matches: pd.DataFrame
    """row, item, similarity, slot, detail: short-item near matches that are new queries (not flagged)."""


def _short_items(key_lengths: np.ndarray, min_tokens: int, max_tokens: int) -> np.ndarray:
    return np.flatnonzero((key_lengths >= min_tokens) & (key_lengths < max_tokens))


def surface_variants(texts: list[str], keys: list[str], items: np.ndarray) -> pd.DataFrame:
    """(row, item) where a short row has the content words of one of these items, in order."""
    table: dict[tuple[str, ...], list[tuple[int, tuple[str, ...]]]] = {}
    for item in items:
        key, who = query_form(keys[item])
        if key:
            table.setdefault(key, []).append((int(item), who))
    rows, found = [], []
    for row, text in enumerate(texts):
        if len(text) > 20 * SURFACE_ROW_WORDS or len(text.split()) > SURFACE_ROW_WORDS:
            continue
        key, who = query_form(text)
        for item, item_who in table.get(key, ()):
            if persons_agree(who, item_who):
                rows.append(row)
                found.append(item)
    return pd.DataFrame({"row": np.asarray(rows, dtype=np.int64), "item": np.asarray(found, dtype=np.int64)})


def holds_whole(text: str, key_tokens: list[str]) -> bool:
    """Whether the row holds the item's words as a sentence or clause of its own: the run of its words with
    punctuation or a line break (or the start / end of the row) on both sides."""
    if not key_tokens:
        return False
    folded = unicodedata.normalize("NFKC", text).casefold()
    for match in _run_of_words(tuple(key_tokens)).finditer(folded):
        before, after = folded[: match.start()], folded[match.end() :]
        opening = _TAIL.search(before).group()  # type: ignore[union-attr]  # \W*$ always matches
        closing = _HEAD.match(after).group()  # type: ignore[union-attr]
        opens = len(opening) == len(before) or not _OPENING.isdisjoint(opening)
        closes = len(closing) == len(after) or not _BOUNDARY.isdisjoint(closing)
        if opens and closes:
            return True
    return False


@lru_cache(maxsize=4096)
def _run_of_words(tokens: tuple[str, ...]) -> re.Pattern[str]:
    """The item's words in order, anything but word characters between them (an item is checked against many rows:
    its pattern is compiled once)."""
    return re.compile(r"(?<!\w)" + r"\W+".join(map(re.escape, tokens)) + r"(?!\w)")


def _shared_questions(keys: list[str], item_texts: list[str], items: np.ndarray) -> set[int]:
    """Exam items (with choices or an answer) whose question other items ask too ("Which of the following is
    true?"): the question alone identifies none of them, only the whole item with its choices does."""
    exam = [int(i) for i in items if item_texts[i] != keys[i]]
    asked = {i: signature(keys[i]) for i in exam}
    counts = Counter(asked.values())
    return {i for i, key in asked.items() if counts[key] > 1}


def short_item_copies(
    texts: list[str],
    keys: list[str],
    item_texts: list[str],
    key_tokens: list[list[str]],
    key_lengths: np.ndarray,
    min_tokens: int,
    max_tokens: int,
    candidates: pd.DataFrame,
) -> ShortItemCopies:
    """Copies of the short items (key of min_tokens to max_tokens - 1 tokens) among the rows, and the near
    matches that are not. `candidates` (row, item): pairs that share n-grams or TF-IDF weight with a short item."""
    short = _short_items(key_lengths, min_tokens, max_tokens)
    shared = _shared_questions(keys, item_texts, short)
    copies = surface_variants(texts, keys, np.setdiff1d(short, list(shared))).assign(method=SURFACE_VARIANT)
    seen = set(zip(copies["row"].tolist(), copies["item"].tolist(), strict=True))
    whole, near = [], []
    in_range = np.isin(candidates["item"].to_numpy(), short)
    for row, item in candidates.loc[in_range, ["row", "item"]].drop_duplicates().itertuples(index=False):
        if (row, item) in seen or item in shared:
            continue
        if holds_whole(texts[row], key_tokens[item]):
            whole.append((row, item))
            continue
        words = query_words(texts[row])
        if len(words) > SURFACE_ROW_WORDS:
            continue
        similarity = Levenshtein.normalized_similarity(words, query_words(keys[item]))
        diff = difference(texts[row], keys[item])
        if similarity >= NEAR_MATCH and diff is not None:
            near.append((row, item, similarity, diff.slot, diff.describe()))
    whole_frame = pd.DataFrame(whole, columns=["row", "item"], dtype=np.int64).assign(method=WHOLE_ITEM)
    near_frame = pd.DataFrame(near, columns=["row", "item", "similarity", "slot", "detail"])
    return ShortItemCopies(
        pd.concat([copies, whole_frame], ignore_index=True),
        near_frame.sort_values("similarity", ascending=False, kind="stable"),
    )


def slot_swaps_among_copies(
    pairs: pd.DataFrame, texts: list[str], keys: list[str], key_lengths: np.ndarray, hit: float
) -> tuple[np.ndarray, pd.DataFrame]:
    """Pairs of a query or question (key under QUERY_TOKENS tokens) where the row is the item with a content word
    changed: among the n-gram copies (coverage `hit` or more) any such change; among the pairs scored as
    rewordings, a row that keeps NEAR_COPY_KEPT of the item's content words in order and changes the rest (a
    rewording changes many words and keeps the slots; a swap keeps the words and changes a slot). Returns a
    mask of them, and them as near matches."""
    copy = pairs["coverage"].to_numpy() >= hit
    check = (copy | pairs["embedding"].notna().to_numpy()) & (key_lengths[pairs["item"].to_numpy()] < QUERY_TOKENS)
    swapped = np.zeros(len(pairs), dtype=bool)
    near = []
    for j in np.flatnonzero(check):
        row, item = int(pairs["row"].iat[j]), int(pairs["item"].iat[j])
        if same_query(texts[row], keys[item]):  # a surface variant ("my name" / "name") changed no slot
            continue
        diff = differs_within(texts[row], keys[item])
        if diff is not None and (copy[j] or diff.kept >= NEAR_COPY_KEPT):
            swapped[j] = True
            near.append((row, item, diff.kept, diff.slot, diff.describe()))
    return swapped, pd.DataFrame(near, columns=["row", "item", "similarity", "slot", "detail"])
