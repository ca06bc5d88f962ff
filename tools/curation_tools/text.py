"""Text normalisation shared by the tools (exact-duplicate keys, n-grams)."""

from __future__ import annotations

import hashlib
import re
import string
import unicodedata

# Below this many words a rewording of a benchmark item cannot be told offline from another query with the
# same intent: such texts are checked for verbatim copies only (augment's filter, the heuristic planner).
SHORT_TEXT_WORDS = 15

_SPACE = re.compile(r"\s+")
_PUNCT_SPACING = re.compile(r"\s*([^\w\s])\s*")
# ASCII characters that are neither word characters nor whitespace: the same set the regex spaces out
_ASCII_SPACED = [c for c in map(chr, range(128)) if not (c.isalnum() or c == "_" or c in string.whitespace)]


def normalize(text: str) -> str:
    """NFKC, case fold, punctuation spacing and whitespace collapsed: reformatting-insensitive."""
    if text.isascii():  # fast path (NFKC is the identity on ASCII), same result as the regexes below
        text = text.lower()
        for mark in _ASCII_SPACED:
            if mark in text:
                text = text.replace(mark, f" {mark} ")
        return " ".join(text.split())
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _PUNCT_SPACING.sub(r" \1 ", text)
    return _SPACE.sub(" ", text).strip()


def content_key(text: str) -> str:
    """Stable hash of a text's normalised form."""
    return hashlib.blake2b(normalize(text).encode("utf-8"), digest_size=16).hexdigest()
