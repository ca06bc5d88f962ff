"""Write a curated version back in its input's format, every cell no edit touched exactly as it was read.

CSV/TSV cells keep their text ('00501', '1.50', 'TRUE' stay as written), JSONL rows no edit touched are
the input's lines byte for byte (an edited row keeps its key order and the keys it lacked), and Parquet
keeps its Arrow schema and the untouched rows' values.
"""

from __future__ import annotations

import json
import math
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


def _csv(source: CsvCells, rows: list[OutputRow], sep: str) -> str:
    cells = source.cells
    columns = list(cells.columns)
    where = {c: i for i, c in enumerate(columns)}
    out = np.empty((len(rows), len(columns)), dtype=object)
    kept = [(i, r.position) for i, r in enumerate(rows) if r.position is not None]
    if kept:
        out[[i for i, _ in kept]] = cells.to_numpy(dtype=object)[[p for _, p in kept]]
    for i, row in enumerate(rows):
        if row.position is None:
            out[i] = [_cell_text(row.values.get(c)) for c in columns]
        for column, value in row.values.items() if row.position is not None else ():
            out[i, where[column]] = _cell_text(value)
    line_end = source.line_end
    if line_end == "\n" and any("\r" in c for c in out.ravel() if isinstance(c, str)):
        line_end = "\r\n"  # only then is a lone "\r" in a cell quoted, and so read back as data
    return pd.DataFrame(out, columns=columns).to_csv(index=False, sep=sep, lineterminator=line_end)


def _jsonl(source: JsonLines, rows: list[OutputRow]) -> str:
    lines = []
    for row in rows:
        if row.position is None:
            record = {k: v for k, v in row.values.items() if not _missing(v)}
        elif not row.values:
            lines.append(source.lines[row.position])
            continue
        else:
            record = {**source.records[row.position], **row.values}
        lines.append(json.dumps(record, ensure_ascii=False))
    return "".join(line + "\n" for line in lines)


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
            tmp.write_bytes(encode_text(_jsonl(source.raw, rows), compressed))
        else:
            tmp.write_bytes(encode_text(_csv(source.raw, rows, "," if fmt == "csv" else "\t"), compressed))


def can_write_back(source_format: str, fmt: str) -> bool:
    return source_format == fmt or {source_format, fmt} == {"csv", "tsv"}
