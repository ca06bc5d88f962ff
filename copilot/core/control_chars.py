"""Control characters in untrusted text (cells, ids, file names, labels, LLM replies, flags a person typed) shown
as visible symbols, so none reaches a terminal or a report as a command: no screen clear, no window title, no
cursor move, no text reversed by a bidirectional override.
"""

from __future__ import annotations

import re

_C0 = {code: chr(0x2400 + code) for code in range(0x20) if chr(code) not in "\n\t"}  # U+241B for ESC, U+240D for CR
_PICTURES = {**_C0, 0x7F: "\u2421"}
_INVISIBLE = re.compile("[\x80-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")  # C1 controls, bidi marks and overrides


def visible(text: str) -> str:
    """`text` with each control character (but newline and tab) as its Unicode control picture, and C1 controls and
    bidirectional overrides as U+FFFD."""
    return _INVISIBLE.sub("\ufffd", text.translate(_PICTURES))
