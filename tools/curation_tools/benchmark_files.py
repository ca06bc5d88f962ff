"""Benchmark files named by the user (`PATH[:FIELDS]`), with presets for the usual public benchmarks.

Nothing is ever downloaded: a benchmark is a local JSONL/CSV/Parquet file. FIELDS is a comma list of
columns (each a string or a list of strings; they are concatenated) or a preset name. Without FIELDS
the preset is recognised from the columns, else the text columns are inferred.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
from pydantic import BaseModel

from curation_tools.errors import UserInputError
from curation_tools.io import read_table

PRESETS: dict[str, list[str]] = {
    "gsm8k": ["question", "answer"],
    "mmlu": ["question", "choices"],
    "humaneval": ["prompt", "canonical_solution"],
    "arc": ["question", "choices"],
    "truthfulqa": ["question", "best_answer"],
}
# columns that identify a preset when the user names none (checked in this order)
_SIGNATURES: list[tuple[str, set[str]]] = [
    ("humaneval", {"prompt", "canonical_solution"}),
    ("truthfulqa", {"question", "best_answer"}),
    ("arc", {"question", "choices", "answerKey"}),
    ("mmlu", {"question", "choices"}),
    ("gsm8k", {"question", "answer"}),
]
_ID_COLUMNS = ("task_id", "id", "question_id", "qid", "uid", "guid", "item_id", "example_id", "sample_id", "idx")


class BenchmarkItems(BaseModel):
    """One benchmark file's items: `keys` are the first field alone (the question/prompt that identifies an
    item, e.g. without its choices), `texts` all fields joined."""

    name: str
    path: str
    fields: list[str]
    ids: list[str]
    keys: list[str]
    texts: list[str]
    content_hash: str


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, dict):  # e.g. ARC's {"text": [...], "label": [...]}
        value = value.get("text", list(value.values()))
    if isinstance(value, list | tuple) or hasattr(value, "tolist"):
        items = value.tolist() if hasattr(value, "tolist") else value
        return "\n".join(_cell_text(v) for v in items)
    return str(value)


def parse_spec(spec: str) -> tuple[Path, str | None]:
    """`PATH[:FIELDS]` -> (path, fields or preset). A colon that is part of an existing path is kept."""
    if Path(spec).exists() or ":" not in spec:
        return Path(spec), None
    path, _, fields = spec.rpartition(":")
    return Path(path), fields.strip() or None


def _resolve_fields(frame: pd.DataFrame, path: Path, fields: str | None) -> tuple[str, list[str]]:
    columns = [str(c) for c in frame.columns]
    if fields is None:
        for preset, needed in _SIGNATURES:
            if needed <= set(columns):
                return preset, PRESETS[preset]
        from curation_tools.roles import RoleOverrides, infer_roles

        roles, _ = infer_roles(frame, RoleOverrides(label="none", id="none"))
        if not roles.text:
            raise UserInputError(
                f"{path}: no text column found in this benchmark; name the fields: --benchmark {path}:FIELD[,FIELD]."
            )
        return path.name, roles.text
    if fields.lower() in PRESETS:
        preset = fields.lower()
        missing = [f for f in PRESETS[preset] if f not in columns]
        if missing:
            raise UserInputError(
                f"{path}: the {preset} preset needs column(s) {', '.join(missing)}, but the file has "
                f"{', '.join(columns)}. Name the fields instead: --benchmark {path}:FIELD[,FIELD]."
            )
        return preset, PRESETS[preset]
    names = [f.strip() for f in fields.split(",") if f.strip()]
    missing = [f for f in names if f not in columns]
    if missing:
        raise UserInputError(
            f"{path}: no column(s) {', '.join(missing)}. Columns: {', '.join(columns)}. Presets: {', '.join(PRESETS)}."
        )
    return path.name, names


def load_benchmark(spec: str) -> BenchmarkItems:
    path, fields = parse_spec(spec)
    frame, _ = read_table(path)
    name, columns = _resolve_fields(frame, path, fields)
    keys = [_cell_text(v) for v in frame[columns[0]].tolist()]
    texts = keys
    for column in columns[1:]:
        texts = [f"{t}\n{_cell_text(v)}".strip() for t, v in zip(texts, frame[column].tolist(), strict=True)]
    if not any(text.strip() for text in texts):
        raise UserInputError(
            f"{path}: the field(s) {', '.join(columns)} hold no text in any of its {len(texts)} item(s), so nothing "
            f"could be searched for. Name the fields that hold the items: --benchmark {path}:FIELD[,FIELD]."
        )
    named = [c for c in _ID_COLUMNS if c in frame.columns] + [
        c for c in map(str, frame.columns) if c.lower().endswith(("_id", "id")) and c not in _ID_COLUMNS
    ]  # an item is named by its id wherever the file has one, else by its line (0-based)
    id_column = next((c for c in named if frame[c].notna().all() and frame[c].astype(str).is_unique), None)
    ids = frame[id_column].astype(str).tolist() if id_column else [str(i) for i in range(len(frame))]
    digest = hashlib.blake2b(digest_size=16)
    for text in texts:
        digest.update(text.encode("utf-8") + b"\x00")
    return BenchmarkItems(
        name=name, path=str(path), fields=columns, ids=ids, keys=keys, texts=texts, content_hash=digest.hexdigest()
    )
