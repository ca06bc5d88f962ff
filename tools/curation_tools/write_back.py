"""Write a curated version back in its input's format, every cell no edit touched exactly as it was read.

CSV/TSV cells keep their text ('00501', '1.50', 'TRUE' stay as written), JSONL rows no edit touched are the
input's lines byte for byte, and an edited JSONL row changes only the text of its edited values (its other
values, key order and spacing stay as written; a key it lacked is added at its end). An edited cell is written
in the column's own spelling where another row holds the same value ('1.50', not '1.5'). A byte order mark and
the line ending are kept. Parquet keeps its Arrow schema and the untouched rows' values.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from curation_tools.atomic_files import atomic_path
from curation_tools.io import CsvCells, JsonLines, SourceTable, encode_text


@dataclass
class OutputRow:
    """One row of the curated file: an input row (its position, and the cells edits changed) or a new row."""

    position: int | None
    values: dict[str, Any] = field(default_factory=dict)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _cell_text(value: Any) -> str:
    if _missing(value):
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _spellings(typed: pd.Series, texts: list[str]) -> dict[Any, str]:
    """A column's value -> the text the file first writes it as (1.5 -> '1.50'), for writing an edited cell as the
    column spells that value."""
    spelled: dict[Any, str] = {}
    for value, text in zip(typed.tolist(), texts, strict=True):
        if not _missing(value) and isinstance(value, str | int | float | bool):
            spelled.setdefault((type(value) is bool, value), text)
    return spelled


def _spelled(spellings: dict[Any, str], value: Any, default: str) -> str:
    if isinstance(value, str | int | float | bool) and not _missing(value):
        return spellings.get((type(value) is bool, value), default)
    return default


def _csv(source: CsvCells, typed: pd.DataFrame, rows: list[OutputRow], sep: str) -> str:
    cells = source.cells
    columns = list(cells.columns)
    edited = {c for r in rows if r.position is not None for c in r.values}
    spellings = {c: _spellings(typed[c], cells[c].tolist()) for c in edited}
    where = {c: i for i, c in enumerate(columns)}
    out = np.empty((len(rows), len(columns)), dtype=object)
    kept = [(i, r.position) for i, r in enumerate(rows) if r.position is not None]
    if kept:
        out[[i for i, _ in kept]] = cells.to_numpy(dtype=object)[[p for _, p in kept]]
    for i, row in enumerate(rows):
        if row.position is None:
            out[i] = [_cell_text(row.values.get(c)) for c in columns]
        for column, value in row.values.items() if row.position is not None else ():
            out[i, where[column]] = _spelled(spellings[column], value, _cell_text(value))
    line_end = source.line_end
    if line_end == "\n" and any("\r" in c for c in out.ravel() if isinstance(c, str)):
        line_end = "\r\n"  # only then is a lone "\r" in a cell quoted, and so read back as data
    return pd.DataFrame(out, columns=columns).to_csv(index=False, sep=sep, lineterminator=line_end)


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def _value_spans(line: str) -> dict[str, tuple[int, int]]:
    """Where each top-level value of a JSON object line is written: key -> (start, end) in the line."""
    spans: dict[str, tuple[int, int]] = {}
    at = _SPACE.match(line, line.index("{") + 1).end()
    while line[at] != "}":
        key, at = _DECODER.raw_decode(line, at)
        at = _SPACE.match(line, at).end() + 1  # the colon
        start = _SPACE.match(line, at).end()
        _, end = _DECODER.raw_decode(line, start)
        spans[key] = (start, end)
        at = _SPACE.match(line, end).end()
        if line[at] == ",":
            at = _SPACE.match(line, at + 1).end()
    return spans


def _json_spellings(source: JsonLines, key: str) -> dict[Any, str]:
    """A key's value -> the JSON text the file first writes it as (1.5 -> '1.50')."""
    spelled: dict[Any, str] = {}
    for line, record in zip(source.lines, source.records, strict=True):
        value = record.get(key)
        if isinstance(value, str | int | float | bool) and (type(value) is bool, value) not in spelled:
            start, end = _value_spans(line)[key]
            spelled[(type(value) is bool, value)] = line[start:end]
    return spelled


def _edited_line(line: str, values: dict[str, Any], spellings: dict[str, dict[Any, str]]) -> str:
    """The line with only its edited values' text replaced; keys it lacked are added before its closing brace."""
    spans = _value_spans(line)

    def text(key: str, value: Any) -> str:
        return _spelled(spellings[key], value, json.dumps(value, ensure_ascii=False))

    replaced = sorted((spans[k], text(k, v)) for k, v in values.items() if k in spans)
    added = [f"{json.dumps(k, ensure_ascii=False)}: {text(k, v)}" for k, v in values.items() if k not in spans]
    pieces, at = [], 0
    for (start, end), new in replaced:
        pieces += [line[at:start], new]
        at = end
    edited = "".join(pieces) + line[at:]
    if not added:
        return edited
    close = edited.rindex("}")
    head = edited[:close].rstrip()
    return head + ("" if head.endswith("{") else ", ") + ", ".join(added) + edited[close:]


def _jsonl(source: JsonLines, rows: list[OutputRow]) -> str:
    edited = {k for r in rows if r.position is not None for k in r.values}
    spellings = {k: _json_spellings(source, k) for k in edited}
    lines = []
    for row in rows:
        if row.position is None:
            record = {k: v for k, v in row.values.items() if not _missing(v)}
            lines.append(json.dumps(record, ensure_ascii=False))
        elif not row.values:
            lines.append(source.lines[row.position])
        else:
            lines.append(_edited_line(source.lines[row.position], row.values, spellings))
    return "".join(line + source.line_end for line in lines)


def _parquet(table: pa.Table, rows: list[OutputRow]) -> pa.Table:
    untouched = [i for i, r in enumerate(rows) if r.position is not None and not r.values]
    rebuilt = [i for i, r in enumerate(rows) if r.position is None or r.values]
    kept = table.take(pa.array([rows[i].position for i in untouched], type=pa.int64()))
    if not rebuilt:
        return kept
    positions = [rows[i].position for i in rebuilt if rows[i].position is not None]
    originals = table.take(pa.array(positions, type=pa.int64())).to_pylist()
    records, it = [], iter(originals)
    for i in rebuilt:
        row = rows[i]
        base = next(it) if row.position is not None else {name: None for name in table.schema.names}
        records.append({**base, **{k: (None if _missing(v) else v) for k, v in row.values.items()}})
    new = pa.Table.from_pylist(records, schema=table.schema)  # a value that no longer fits raises
    order = np.empty(len(rows), dtype=np.int64)
    order[untouched] = np.arange(len(untouched))
    order[rebuilt] = len(untouched) + np.arange(len(rebuilt))
    return pa.concat_tables([kept, new]).take(order)


def write_back(source: SourceTable, rows: list[OutputRow], path: Path, fmt: str, compressed: bool) -> None:
    """Write `rows` to `path` in `fmt` (the input's format, or CSV <-> TSV), atomically."""
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            pq.write_table(_parquet(source.raw, rows), tmp)
        elif fmt == "jsonl":
            tmp.write_bytes(encode_text(_jsonl(source.raw, rows), compressed, source.bom))
        else:
            same = fmt == source.source.format  # CSV -> TSV, or back, takes the new format's separator
            text = _csv(source.raw, source.frame, rows, source.raw.sep if same else ("," if fmt == "csv" else "\t"))
            tmp.write_bytes(encode_text(text, compressed, source.bom))


def can_write_back(source_format: str, fmt: str) -> bool:
    return source_format == fmt or {source_format, fmt} == {"csv", "tsv"}
