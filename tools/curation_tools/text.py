"""Text normalisation shared by the tools (exact-duplicate keys, n-grams)."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_SPACE = re.compile(r"\s+")
_PUNCT_SPACING = re.compile(r"\s*([^\w\s])\s*")


def normalize(text: str) -> str:
    """NFKC, case fold, punctuation spacing and whitespace collapsed: reformatting-insensitive."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _PUNCT_SPACING.sub(r" \1 ", text)
    return _SPACE.sub(" ", text).strip()


def content_key(text: str) -> str:
    """Stable hash of a text's normalised form."""
    return hashlib.blake2b(normalize(text).encode("utf-8"), digest_size=16).hexdigest()
