"""The in-memory dataset every tool receives: rows indexed by stable string row ids, plus roles."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import BaseModel, Field

from curation_tools.errors import UserInputError
from curation_tools.text_column import TextColumn


class Roles(BaseModel):
    """Which column plays which part. `text` may name several columns (joined, in order)."""

    id: str | None = None
    text: list[str] = Field(default_factory=list)
    label: str | None = None
    features: list[str] = Field(default_factory=list)
    split: str | None = None

    def assigned(self) -> list[str]:
        cols = [c for c in (self.id, self.label, self.split) if c]
        return cols + self.text + self.features


class DataSource(BaseModel):
    """Where a dataset came from, so it can be written back in the same format."""

    path: str
    format: str  # csv | tsv | jsonl | parquet
    compressed: bool = False
    sha256: str = ""
    sep: str | None = None  # a CSV/TSV's field separator as read (given, or sniffed)


def _render_value(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and all(isinstance(m, dict) for m in value):
        return "\n".join(f"{m.get('role', m.get('from', ''))}: {m.get('content', m.get('value', ''))}" for m in value)
    if hasattr(value, "tolist"):
        return _render_value(value.tolist())
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


@dataclass
class Dataset:
    frame: pd.DataFrame
    """Data columns as loaded; index = row ids (strings), named ``row_id``."""
    roles: Roles
    source: DataSource
    ids_generated: bool = True

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def row_ids(self) -> list[str]:
        return [str(i) for i in self.frame.index]

    def require(self, roles: list[str], tool: str) -> None:
        """Fail with a clear message when a tool needs a role the dataset lacks."""
        columns = ", ".join(map(str, self.frame.columns))
        for role in roles:
            value = getattr(self.roles, role)
            if not value:
                raise UserInputError(
                    f"The {tool} tool needs a {role} column, and none was found in "
                    f"{self.source.path} (columns: {columns}). Pass --{role} COLUMN to name it."
                )

    def texts(self) -> pd.Series:
        """One string per row: the text columns joined by newlines (chat messages as 'role: content')."""
        cols = self.roles.text
        if not cols:
            raise UserInputError("This dataset has no text column; pass --text COLUMN to name one.")
        if len(cols) == 1:
            column = self.frame[cols[0]]
            if isinstance(column.dtype, pd.StringDtype):  # strings or missing: nothing to render, no copy made
                return (column.fillna("") if column.hasnans else column).astype(str)
            return column.map(_render_value).astype(str)
        parts = self.frame[cols].map(_render_value)
        return parts.apply(lambda row: "\n".join(v for v in row if v), axis=1).astype(str)

    def text_column(self) -> TextColumn:
        """`texts()` as one Arrow column: no Python string per row until a stage reads it (large data)."""
        return TextColumn.of(self.texts())

    def labels(self) -> pd.Series:
        if not self.roles.label:
            raise UserInputError("This dataset has no label column; pass --label COLUMN to name one.")
        labels = self.frame[self.roles.label]
        objects = labels.map(lambda v: isinstance(v, dict)).to_numpy()
        if objects.any():
            raise UserInputError(
                f"The label column '{self.roles.label}' holds JSON objects (row {self.frame.index[objects.argmax()]}: "
                f"{json.dumps(labels.iloc[int(objects.argmax())], default=str)[:80]}). A label is a value or a list "
                f"of values (multi-label); name the right column with --label."
            )
        return labels

    def with_frame(self, frame: pd.DataFrame) -> Dataset:
        return Dataset(frame=frame, roles=self.roles, source=self.source, ids_generated=self.ids_generated)
