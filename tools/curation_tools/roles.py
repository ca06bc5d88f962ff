"""Column-role inference (id, text, label, features, split) with a human-readable explanation."""

from __future__ import annotations

import difflib
import json
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel

from curation_tools.dataset import Roles
from curation_tools.errors import UserInputError

NONE = "none"
"""Flag value that turns a role off (``--label none``)."""

ID_NAMES = ("id", "idx", "uid", "uuid", "guid", "row_id", "_id", "key", "example_id", "sample_id")
LABEL_NAMES = ("label", "labels", "class", "category", "target", "intent", "sentiment", "y", "gold_label")
SPLIT_NAMES = ("split", "subset", "partition", "fold")
SPLIT_VALUES = {"train", "test", "valid", "validation", "dev", "eval", "val", "holdout"}
TEXT_NAMES = (
    "text",
    "sentence",
    "content",
    "review",
    "body",
    "document",
    "message",
    "utterance",
    "comment",
    "query",
    "question",
    "prompt",
    "title",
)
# Instruction/chat layouts: every column of a layout present -> the text is all of them, in order.
TEXT_LAYOUTS = (
    ("instruction", "input", "output"),
    ("instruction", "output"),
    ("prompt", "response"),
    ("prompt", "completion"),
    ("question", "answer"),
    ("query", "response"),
)
CHAT_NAMES = ("messages", "conversations", "conversation", "dialogue")
MAX_FEATURE_CATEGORIES = 50


TextLayout = Literal["plain", "chat", "instruction"]


def text_layout(frame: pd.DataFrame, text: list[str]) -> TextLayout:
    """chat: one column of message lists; instruction: several text columns (a prompt/response layout); plain:
    one column of text."""
    if len(text) > 1:
        return "instruction"
    if text and frame[text[0]].dropna().map(lambda v: isinstance(v, list) or hasattr(v, "tolist")).any():
        return "chat"
    return "plain"


class RoleOverrides(BaseModel):
    """Roles named by the user. None = infer; the string 'none' = this dataset has no such column."""

    id: str | None = None
    text: list[str] | None = None
    label: str | None = None
    features: list[str] | None = None
    split: str | None = None


def _label_like(frame: pd.DataFrame) -> list[str]:
    """Columns that could be a label: named like one first, then any with few distinct values (2 to half the rows,
    at most 1,000) that is not long text."""
    lower = _lower_map(frame, set())
    named = [c for lc, c in lower.items() if lc in LABEL_NAMES or any(n in lc for n in LABEL_NAMES)]
    few = []
    for column in map(str, frame.columns):
        values = _hashable(frame[column])
        distinct = values.nunique(dropna=True)
        long_text = _is_stringy(values) and values.dropna().astype(str).str.len().mean() > 40
        if 2 <= distinct <= min(1_000, max(2, len(frame) // 2)) and not long_text and column not in named:
            few.append(column)
    return named + few


def _check_column(frame: pd.DataFrame, name: str, flag: str) -> str:
    if name in frame.columns:
        return name
    columns = [str(c) for c in frame.columns]
    close = difflib.get_close_matches(name, columns, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    if flag == "label" and (candidates := _label_like(frame)) and not (close and close[0] in candidates):
        shown = " or ".join(f"'{c}'" for c in candidates[:3])  # a label-like column, not a similar spelling
        hint = f" Columns that look like a label: {shown}."
    raise UserInputError(
        f"--{flag} names a column '{name}' that is not in the data (columns: {', '.join(columns)}).{hint}"
    )


def _is_stringy(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series) or series.dtype == object


def _string_values(series: pd.Series) -> pd.Series:
    values = series.dropna()
    return values[values.map(lambda v: isinstance(v, str))]


def _hashable(series: pd.Series) -> pd.Series:
    """Cells as hashable values: nested lists and dicts (JSONL, Parquet) as their sorted JSON text."""

    def key(value: Any) -> Any:
        if hasattr(value, "tolist"):
            value = value.tolist()
        if isinstance(value, list | tuple | dict):
            return json.dumps(value, sort_keys=True, default=str)
        return value

    return series.map(key)


def _holds_containers(series: pd.Series) -> bool:
    """Lists, dicts or arrays in the cells (JSONL or Parquet nesting): never a categorical feature."""
    return bool(series.map(lambda v: isinstance(v, list | tuple | dict) or hasattr(v, "tolist")).any())


def _same_grouping(a: pd.Series, b: pd.Series) -> bool:
    pairs = pd.DataFrame({"a": _hashable(a).astype(str), "b": _hashable(b).astype(str)}).drop_duplicates()
    return pairs["a"].is_unique and pairs["b"].is_unique


def _lower_map(frame: pd.DataFrame, taken: set[str]) -> dict[str, str]:
    return {str(c).lower(): str(c) for c in frame.columns if str(c) not in taken}


def _named_ids(frame: pd.DataFrame) -> list[str]:
    lower = _lower_map(frame, set())
    named = [lower[n] for n in ID_NAMES if n in lower] + [c for lc, c in lower.items() if lc.endswith("_id")]
    return list(dict.fromkeys(named))


def id_candidates(frame: pd.DataFrame, overrides: RoleOverrides | None = None) -> list[str]:
    """The columns that may become the id: the one --id names, else those named like an id. A reader keeps them
    as written (ids are codes, not numbers) before the roles are inferred."""
    chosen = (overrides or RoleOverrides()).id
    if _explicit(chosen):
        return [chosen] if chosen in frame.columns else []  # type: ignore[list-item]
    return _named_ids(frame)


def _infer_id(frame: pd.DataFrame, notes: list[str]) -> str | None:
    for col in _named_ids(frame):
        values = frame[col]
        if values.isna().any() or not _hashable(values).astype(str).is_unique:
            notes.append(f"id: '{col}' looks like an id but is not unique; row ids are row positions instead")
            return None
        notes.append(f"id = '{col}' (named like an id, unique)")
        return col
    notes.append("id: no id column (looked for: " + ", ".join(ID_NAMES) + "); row ids are 0-based row positions")
    return None


def _infer_label(frame: pd.DataFrame, taken: set[str], notes: list[str]) -> str | None:
    lower = _lower_map(frame, taken)
    exact = [lower[n] for n in LABEL_NAMES if n in lower]
    partial = [
        c
        for lc, c in lower.items()
        if c not in exact and any(lc.startswith(n + "_") or lc.endswith("_" + n) for n in LABEL_NAMES)
    ]
    tier = exact or partial
    if not tier:
        notes.append(
            "label: none found (looked for: " + ", ".join(LABEL_NAMES) + "); pass --label COLUMN if there is one"
        )
        return None
    chosen, others = tier[0], [c for c in exact + partial if c != tier[0]]
    n_classes = _hashable(frame[chosen]).nunique(dropna=True)
    notes.append(f"label = '{chosen}' (named like a label, {n_classes} classes)")
    for other in others:
        if _same_grouping(frame[chosen], frame[other]):
            notes.append(f"label: '{other}' groups rows exactly like '{chosen}'; kept as metadata")
        elif other in tier:
            raise UserInputError(
                f"The label column is ambiguous: '{chosen}' and '{other}' both look like labels but "
                f"disagree. Pass --label COLUMN to choose one (or --label none)."
            )
    return chosen


def _infer_split(frame: pd.DataFrame, taken: set[str], notes: list[str]) -> str | None:
    lower = _lower_map(frame, taken)
    for name in SPLIT_NAMES:
        col = lower.get(name)
        if col is None:
            continue
        values = {str(v).lower() for v in _hashable(frame[col]).dropna().unique()}
        if values and values <= SPLIT_VALUES:
            notes.append(f"split = '{col}' (values: {', '.join(sorted(values))})")
            return col
    return None


def _infer_text(frame: pd.DataFrame, taken: set[str], notes: list[str]) -> list[str]:
    lower = _lower_map(frame, taken)
    for name in CHAT_NAMES:
        col = lower.get(name)
        if col is not None and frame[col].dropna().map(lambda v: isinstance(v, list) or hasattr(v, "tolist")).all():
            notes.append(f"text = '{col}' (chat messages, rendered as 'role: content' lines)")
            return [col]
    for layout in TEXT_LAYOUTS:
        if all(n in lower for n in layout):
            cols = [lower[n] for n in layout]
            notes.append("text = " + " + ".join(f"'{c}'" for c in cols) + " (instruction layout, joined in order)")
            return cols
    candidates: dict[str, float] = {}
    for col in (str(c) for c in frame.columns if str(c) not in taken):
        if not _is_stringy(frame[col]):
            continue
        values = _string_values(frame[col])
        if len(values) == 0:
            continue
        candidates[col] = float(values.str.len().mean())
    named = [lower[n] for n in TEXT_NAMES if n in lower and lower[n] in candidates]
    if named:
        notes.append(f"text = '{named[0]}' (named like text, mean {candidates[named[0]]:.0f} chars)")
        return [named[0]]
    long = sorted(
        ((c, m) for c, m in candidates.items() if m >= 20 and _hashable(frame[c]).nunique() > 0.5 * len(frame)),
        key=lambda cm: -cm[1],
    )
    if not long:
        notes.append("text: none (no long, mostly unique string column); treated as tabular data")
        return []
    if len(long) > 1 and long[0][1] < 2 * long[1][1]:
        raise UserInputError(
            f"The text column is ambiguous: '{long[0][0]}' (mean {long[0][1]:.0f} chars) and "
            f"'{long[1][0]}' (mean {long[1][1]:.0f} chars) both look like free text. Pass --text COLUMN "
            f"(or --text A,B to join several)."
        )
    notes.append(f"text = '{long[0][0]}' (longest free-text column, mean {long[0][1]:.0f} chars)")
    return [long[0][0]]


def _infer_features(frame: pd.DataFrame, taken: set[str], has_text: bool, notes: list[str]) -> list[str]:
    rest = [str(c) for c in frame.columns if str(c) not in taken]
    if has_text:
        if rest:
            notes.append("other columns (" + ", ".join(rest) + ") are metadata; pass --features to use them")
        return []
    features = []
    for col in rest:
        series = frame[col]
        if (
            pd.api.types.is_numeric_dtype(series)
            or pd.api.types.is_bool_dtype(series)
            or (_is_stringy(series) and not _holds_containers(series) and series.nunique() <= MAX_FEATURE_CATEGORIES)
        ):
            features.append(col)
    skipped = [c for c in rest if c not in features]
    if features:
        notes.append(f"features = {len(features)} columns (numeric and categorical)")
    if skipped:
        notes.append("not features (free text or too many categories): " + ", ".join(skipped))
    return features


def _explicit(value: Any) -> bool:
    return value is not None


def infer_roles(frame: pd.DataFrame, overrides: RoleOverrides | None = None) -> tuple[Roles, list[str]]:
    """Decide each column's role. Flags win; the notes say what was inferred and why."""
    o = overrides or RoleOverrides()
    notes: list[str] = []

    def named(value: str | None, flag: str) -> str | None:
        if value is None or value.lower() == NONE:
            return None
        return _check_column(frame, value, flag)

    id_col = named(o.id, "id") if _explicit(o.id) else _infer_id(frame, notes)
    if _explicit(o.id):
        notes.append(f"id = '{id_col}' (from --id)" if id_col else "id: none (from --id); row ids are row positions")
    taken = {id_col} if id_col else set()

    if _explicit(o.split):
        split_col = named(o.split, "split")
        notes.append(f"split = '{split_col}' (from --split)" if split_col else "split: none (from --split)")
    else:
        split_col = _infer_split(frame, taken, notes)
    taken |= {split_col} if split_col else set()

    if _explicit(o.label):
        label_col = named(o.label, "label")
        notes.append(f"label = '{label_col}' (from --label)" if label_col else "label: none (from --label)")
    else:
        label_col = _infer_label(frame, taken, notes)
    taken |= {label_col} if label_col else set()

    if _explicit(o.text):
        text_cols = [c for c in (named(t, "text") for t in o.text) if c]
        notes.append(
            "text = " + " + ".join(f"'{c}'" for c in text_cols) + " (from --text)"
            if text_cols
            else "text: none (from --text)"
        )
    else:
        text_cols = _infer_text(frame, taken, notes)
    taken |= set(text_cols)

    if _explicit(o.features):
        features = [c for c in (named(f, "features") for f in o.features) if c]
        notes.append(f"features = {', '.join(features) or 'none'} (from --features)")
    else:
        features = _infer_features(frame, taken, bool(text_cols), notes)

    if label_col:
        _check_label(frame, label_col)
    return Roles(id=id_col, text=text_cols, label=label_col, features=features, split=split_col), notes


def _check_label(frame: pd.DataFrame, label_col: str) -> None:
    labels = _hashable(frame[label_col]).dropna()
    classes = labels.unique()
    if len(classes) < 2:
        only = f" ('{classes[0]}')" if len(classes) else ""
        raise UserInputError(
            f"The label column '{label_col}' has a single class{only} across {len(labels)} labelled rows; "
            f"label tools need at least two classes. Check that the file is not a filtered subset, "
            f"or pass --label none if this column is not a label."
        )
