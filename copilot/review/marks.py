"""Where a reviewer's eye should go in a finding's evidence, as plain data any front end can draw: the
stretches of a text that overlap a benchmark item, and a word diff of a dropped row against the kept one.
The TUI styles them with rich; the HTML review page wraps them in <mark>, <del> and <ins>."""

from __future__ import annotations

from typing import Literal

from curation_tools.text import word_opcodes

DiffPart = tuple[Literal["same", "removed", "added"], str]


def overlap_ranges(text: str, spans: list[str]) -> list[tuple[int, int]]:
    """Character ranges of `text` where each overlapping span (normalised words, as decontam reports them) first
    appears; words may be a few characters apart (punctuation the normalisation dropped)."""
    lowered = text.lower()
    ranges = []
    for span in spans:
        words = span.split()
        if not words:
            continue
        start = lowered.find(words[0])
        while start != -1:
            end = start
            for word in words:
                found = lowered.find(word, end)
                if found == -1 or found - end > 3:
                    break
                end = found + len(word)
            else:
                ranges.append((start, end))
                break
            start = lowered.find(words[0], start + 1)
    return sorted(ranges)


def diff_parts(kept: str, dropped: str) -> list[DiffPart]:
    """The kept text turned into the dropped one, word by word: runs of words the same, removed or added. Changes
    between two same runs are one removed run then one added run, so a removed phrase reads whole ('4111 1111 1111
    1111' replaced by '[CARD]', not '4111', '[CARD]', '1111 1111 1111')."""
    a, b = kept.split(), dropped.split()
    parts: list[DiffPart] = []
    removed: list[str] = []
    added: list[str] = []

    def changes() -> None:
        parts.extend([("removed", " ".join(removed))] if removed else [])
        parts.extend([("added", " ".join(added))] if added else [])
        removed.clear()
        added.clear()

    for op, i1, i2, j1, j2 in word_opcodes(a, b):
        if op == "equal":
            changes()
            parts.append(("same", " ".join(a[i1:i2])))
        else:
            removed.extend(a[i1:i2])
            added.extend(b[j1:j2])
    changes()
    return parts
