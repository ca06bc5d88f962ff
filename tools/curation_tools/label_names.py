"""Columns that name a label one-to-one: banking77 ships `label` (a code) with `label_name`.

Findings and reviews show the names, and a relabel renames the row too, so a row never keeps the old class's
name next to its new code.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def naming_columns(frame: pd.DataFrame, label: str, columns: list[str]) -> dict[str, dict[str, Any]]:
    """column -> {label as text: its name}, for each of `columns` whose values pair one-to-one with the label's
    (at least two classes, and some class on more than one row)."""
    rows = frame[frame[label].notna()]
    keys = rows[label].map(lambda v: str(_plain(v)))
    if keys.nunique() < 2 or keys.nunique() == len(rows):
        return {}
    found: dict[str, dict[str, Any]] = {}
    for column in columns:
        if column == label:
            continue
        try:
            pairs = pd.DataFrame({"key": keys, "name": rows[column]}).drop_duplicates()
        except TypeError:  # unhashable cells (lists)
            continue
        if pairs["name"].notna().all() and pairs["key"].is_unique and pairs["name"].is_unique:
            found[column] = {k: _plain(n) for k, n in zip(pairs["key"], pairs["name"], strict=True)}
    return found
