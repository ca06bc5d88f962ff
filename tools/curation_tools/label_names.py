"""A label column's classes as text, and the columns that name them one-to-one (banking77 ships `label`, a code,
with `label_name`).

A person's new label is checked against the classes as text ("1" is the class 1 of an integer column);
findings and reviews show the names, and a relabel renames the row too, so a row never keeps the old class's
name next to its new code.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (JSON-friendly); anything else as it is."""
    return value.item() if hasattr(value, "item") else value


def named_label(value: Any, name: Any) -> str:
    """A class as a person reads it: "lost_card (12)" where a name is known (and differs from the value), else
    the value itself."""
    if name is None or str(name) == str(value):
        return str(value)
    return f"{name} ({value})"


def class_values(values: pd.Series) -> dict[str, Any] | None:
    """Each class as text -> the value the column holds for it; None for a multi-label column (cells of lists)."""
    try:
        distinct = values.dropna().unique().tolist()
    except TypeError:  # unhashable cells: lists
        return None
    if any(isinstance(v, list | tuple) or hasattr(v, "tolist") for v in distinct):
        return None
    return {str(plain(v)): plain(v) for v in distinct}


def naming_columns(frame: pd.DataFrame, label: str, columns: list[str]) -> dict[str, dict[str, Any]]:
    """column -> {label as text: its name}, for each of `columns` whose values pair one-to-one with the label's
    (at least two classes, and some class on more than one row)."""
    rows = frame[frame[label].notna()]
    keys = rows[label].map(lambda v: str(plain(v)))
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
            found[column] = {k: plain(n) for k, n in zip(pairs["key"], pairs["name"], strict=True)}
    return found


def class_names(frame: pd.DataFrame, label: str, exclude: list[str]) -> dict[str, Any]:
    """The label's names from the first column (not in `exclude`, e.g. the text) that names it; {} if none."""
    found = naming_columns(frame, label, [c for c in frame.columns if c not in exclude])
    return next(iter(found.values()), {})


def missing_labels(labels: pd.Series) -> pd.Series:
    """Rows with no label: null, or text that is empty or only spaces (a JSONL `"label": ""`). Never a class: a
    tool neither learns from them nor proposes them as a label."""
    blank = labels.map(lambda v: isinstance(v, str) and not v.strip())
    return labels.isna() | blank.astype(bool)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    text = str(value).strip()
    try:
        float(text)
    except ValueError:
        return False
    return bool(text)


def mixed_kinds(labels: pd.Series) -> tuple[dict[str, int], dict[str, int]] | None:
    """(numbers, names) with their row counts, largest first, when a label column holds both ("alarm" and 2: two
    encodings of one label, not classes of one), else None. Multi-label lists are not checked."""
    present = labels[~missing_labels(labels)]
    if present.map(lambda v: isinstance(v, list | tuple) or hasattr(v, "tolist")).any():
        return None
    numeric = present.map(_is_number).astype(bool)
    if numeric.all() or not numeric.any():
        return None

    def counts(values: pd.Series) -> dict[str, int]:
        return {str(k): int(v) for k, v in values.map(str).value_counts().items()}

    return counts(present[numeric]), counts(present[~numeric])
