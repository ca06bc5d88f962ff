"""Replacing a value wherever the product wrote it: each way a text can be spelled in the files we write (as is,
escaped in JSON, in HTML, quoted in CSV), in text files (gzipped or not), in SQLite text columns, and inside
Python values. Used to forget what a redaction removed (`ledger.forget`)."""

from __future__ import annotations

import gzip
import html
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from curation_tools.atomic_files import atomic_path

Replacement = tuple[str, str]  # (value, what it becomes)
TEXT_SUFFIXES = {".jsonl", ".json", ".md", ".html", ".csv", ".tsv", ".txt", ".yaml", ".yml", ".log"}
SQLITE_HEADER = b"SQLite format 3\x00"


def written_forms(value: str) -> list[str]:
    """The spellings of `value` in our files, longest first so an escaped form is replaced whole."""
    forms = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        html.escape(value, quote=True),
        html.escape(value, quote=False),
        value.replace('"', '""'),
        " ".join(value.split()),  # as a word diff joins it
    }
    return sorted((f for f in forms if f), key=len, reverse=True)


def scrub_string(text: str, replacements: list[Replacement]) -> str:
    for value, marker in replacements:
        for form in written_forms(value):
            text = text.replace(form, marker)
    return text


def scrub_value(value: Any, replacements: list[Replacement], other: Callable[[Any], Any] | None = None) -> Any:
    """A JSON-like value (strings, lists, dicts, numpy arrays of them) with every replacement made; `other`
    rebuilds any other object from its scrubbed parts (it is given a function that scrubs a part)."""

    def again(part: Any) -> Any:
        return scrub_value(part, replacements, other)

    if isinstance(value, str):
        return scrub_string(value, replacements)
    if isinstance(value, bool | int | float | bytes) or value is None:
        return value
    if hasattr(value, "tolist"):
        return again(value.tolist())
    if isinstance(value, list | tuple):
        return type(value)(again(v) for v in value) if type(value) in (list, tuple) else [again(v) for v in value]
    if isinstance(value, dict):
        return {again(k): again(v) for k, v in value.items()}
    return other(value, again) if other is not None else value


def holds_any(data: bytes, values: list[str]) -> bool:
    return any(form.encode() in data for value in values for form in written_forms(value))


def scrub_text_file(path: Path, replacements: list[Replacement]) -> bool:
    """Rewrite a text file (or a gzipped one) with the replacements made; True when it changed."""
    raw = path.read_bytes()
    packed = raw[:2] == b"\x1f\x8b"
    data = gzip.decompress(raw) if packed else raw
    if not holds_any(data, [v for v, _ in replacements]):
        return False
    text = scrub_string(data.decode("utf-8", errors="surrogateescape"), replacements)
    out = text.encode("utf-8", errors="surrogateescape")
    with atomic_path(path) as tmp:
        tmp.write_bytes(gzip.compress(out, mtime=0) if packed else out)
    return True


def is_sqlite(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(16) == SQLITE_HEADER


def scrub_sqlite(db: sqlite3.Connection, replacements: list[Replacement]) -> int:
    """Every text cell of every table with the replacements made, with SQLite's secure delete on (overwritten
    content is zeroed, not left in free pages). Returns the cells changed. The caller commits and vacuums."""
    db.execute("PRAGMA secure_delete=ON")
    changed = 0
    query = "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
    for table in [r[0] for r in db.execute(query)]:
        columns = [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]
        for column in columns:
            for value, marker in replacements:
                for form in written_forms(value):
                    cursor = db.execute(
                        f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) '
                        f'WHERE typeof("{column}") = \'text\' AND instr("{column}", ?) > 0',
                        (form, marker, form),
                    )
                    changed += cursor.rowcount
    return changed


def compact(db: sqlite3.Connection) -> None:
    """Rebuild the database file (no free page keeps old content) and empty its write-ahead log."""
    db.execute("VACUUM")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
