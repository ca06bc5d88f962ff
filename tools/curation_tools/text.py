"""Text normalisation shared by the tools (exact-duplicate keys, n-grams)."""

from __future__ import annotations

import hashlib
import re
import string
import unicodedata
from collections.abc import Sequence

import numpy as np
import pandas as pd

# Below this many words a rewording of a benchmark item cannot be told offline from another query with the
# same intent: such texts are checked for verbatim copies only (augment's filter, the heuristic planner).
SHORT_TEXT_WORDS = 15

# ASCII characters that are neither word characters nor whitespace: spaced out by str.replace (fast)
_ASCII_SPACED = [c for c in map(chr, range(128)) if not (c.isalnum() or c == "_" or c in string.whitespace)]
_OTHER_MARK = re.compile(r"([^\w\s\x00-\x7f])")  # the rest of the non-word, non-space characters
# Invisible format characters (zero-width space/joiners, word joiner, BOM, soft hyphen, bidi marks): NFKC keeps
# them, and one between two words would hide an exact duplicate.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")


def _space_ascii_marks(text: str) -> str:
    for mark in _ASCII_SPACED:
        if mark in text:
            text = text.replace(mark, f" {mark} ")
    return text


def normalize(text: str) -> str:
    """NFKC, invisible characters removed, case fold, punctuation spacing and whitespace collapsed:
    reformatting-insensitive."""
    if text.isascii():  # NFKC is the identity on ASCII
        return " ".join(_space_ascii_marks(text.lower()).split())
    text = _space_ascii_marks(unicodedata.normalize("NFKC", _INVISIBLE.sub("", text)).casefold())
    return " ".join(_OTHER_MARK.sub(r" \1 ", text).split())


NORMAL_FORM_BLOCK = 1_000_000  # texts normalised at a time: a hash is 8 bytes a row, a normal form a Python string


def normal_form_hashes(texts: Sequence[str]) -> np.ndarray:
    """A 64-bit hash of each text's normalised form (uint64), NORMAL_FORM_BLOCK texts at a time."""
    blocks = (texts[start : start + NORMAL_FORM_BLOCK] for start in range(0, len(texts), NORMAL_FORM_BLOCK))
    hashed = [pd.util.hash_array(np.asarray([normalize(t) for t in block], dtype=object)) for block in blocks]
    return np.concatenate([np.zeros(0, dtype=np.uint64), *hashed])


def content_key(text: str) -> str:
    """Stable hash of a text's normalised form."""
    return hashlib.blake2b(normalize(text).encode("utf-8"), digest_size=16).hexdigest()


def word_opcodes(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """Edit script turning word list `a` into `b`: (equal|replace|delete|insert, a_start, a_end, b_start, b_end).

    rapidfuzz's bit-parallel Levenshtein: a 1,000-word pair takes microseconds (difflib: milliseconds).
    """
    from rapidfuzz.distance import Levenshtein

    return [(o.tag, o.src_start, o.src_end, o.dest_start, o.dest_end) for o in Levenshtein.opcodes(a, b)]


def natural_key(text: str) -> list[tuple[int, int, str]]:
    """Sort key that orders the numbers inside a text by value: "T103" before "T1003", "2" before "10"."""
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part.casefold()) for part in re.split(r"(\d+)", text) if part
    ]


def word_windows(texts: list[str], size: int, step: int, min_tail: int = 0) -> tuple[list[str], list[int]]:
    """Windows of `size` words of each text, one starting every `step` words while more than `min_tail` words
    remain (a text of at most `size` words is its own window), and each window's text index."""
    windows: list[str] = []
    owners: list[int] = []
    for row, text in enumerate(texts):
        words = text.split()
        if len(words) <= size:
            windows.append(text)
            owners.append(row)
            continue
        for start in range(0, len(words) - min_tail, step):
            windows.append(" ".join(words[start : start + size]))
            owners.append(row)
    return windows, owners
