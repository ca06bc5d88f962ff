"""Load and save CSV/TSV/JSONL (optionally .gz) and Parquet, with clear errors for bad input."""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from curation_tools.atomic_files import atomic_path
from curation_tools.dataset import Dataset, DataSource
from curation_tools.errors import UserInputError
from curation_tools.roles import RoleOverrides, id_candidates, infer_roles

FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
SUPPORTED = ".csv, .tsv, .jsonl, .ndjson (each optionally .gz) and .parquet"
ROW_ID = "row_id"


def detect_format(path: Path) -> tuple[str, bool]:
    """The table format and whether the file is gzip-compressed, from the file name."""
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    if compressed:
        suffixes = suffixes[:-1]
    fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None or (compressed and fmt == "parquet"):
        raise UserInputError(
            f"{path}: unknown file type '{''.join(path.suffixes) or '(no extension)'}'. "
            f"Supported: {SUPPORTED}. Rename the file to the extension that matches its content."
        )
    return fmt, compressed


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise UserInputError(
            f"{path}: bytes at line {line}, column {column} are not valid UTF-8 "
            f"(byte 0x{raw[err.start]:02x}). Re-save the file as UTF-8, for example "
            f"`iconv -f latin1 -t utf-8 {path.name} > fixed{path.suffix}`."
        ) from None


@dataclass
class SourceTable:
    """A data file as read: the typed frame tools work on, and the rows exactly as the file holds them.

    `raw` is what writing an untouched cell back needs: for CSV/TSV every cell's text and the line ending;
    for JSONL each line's text and its parsed object; for Parquet the Arrow table.
    """

    frame: pd.DataFrame
    source: DataSource
    raw: Any
    bom: bool = False
    """the text file began with a UTF-8 byte order mark (written back with it)"""


@dataclass
class CsvCells:
    cells: pd.DataFrame
    """every cell's text as written ("" for an empty field), columns named exactly as the header"""
    line_end: str
    sep: str = ","


@dataclass
class JsonLines:
    lines: list[str]
    records: list[dict[str, Any]]
    line_end: str = "\n"


def _csv_rows(path: Path, reader: Any) -> Iterator[list[str]]:
    try:
        yield from reader
    except csv.Error as err:
        raise UserInputError(
            f"{path}: line {reader.line_num + 1} cannot be read as delimited text"
            f" ({err}). Quote fields that hold line breaks or separators."
        ) from None


SEPARATORS = (",", ";", "\t", "|")
SNIFF_LINES = 50


def sniff_separator(text: str) -> str:
    """The field separator of a delimited text: of `,` `;` tab `|`, the one that splits the header and the first
    lines into the same number of fields, more than one (the most fields wins; ',' on a tie). A spreadsheet's CSV in
    many locales is `;`-separated with decimal commas: read with ',' it is one column, or ragged."""
    sample = "\n".join(text.splitlines()[:SNIFF_LINES])
    best, best_fields = ",", 1
    for sep in SEPARATORS:
        try:
            counts = {len(row) for row in csv.reader(io.StringIO(sample), delimiter=sep) if row}
        except csv.Error:
            continue
        if len(counts) == 1 and (fields := counts.pop()) > best_fields:
            best, best_fields = sep, fields
    return best


def _read_csv(path: Path, text: str, sep: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(typed frame, cell texts). Numbers, booleans and empties are typed for the tools; the texts keep
    '00501', '1.50', 'TRUE' and 20-digit integers as written, for ids and for writing the file back."""
    csv.field_size_limit(sys.maxsize)  # a long document is one field; the module's default caps it at 128 KiB
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    header: list[str] | None = None
    n_rows = 0
    for fields in _csv_rows(path, reader):
        if not fields:
            continue
        if header is None:
            header = fields
            continue
        n_rows += 1
        if len(fields) != len(header):
            other = next((s for s in SEPARATORS if s != sep and s in "".join(header)), None)
            hint = f" If the file's fields are separated by {other!r}, pass --sep {other!r}." if other else ""
            raise UserInputError(
                f"{path}: line {reader.line_num} has {len(fields)} fields but the header has "
                f"{len(header)} ({', '.join(header)}), reading {sep!r} as the separator. A field likely contains "
                f"an unquoted separator or a stray quote; quote that field or fix the row.{hint}"
            )
    if header is None:
        raise UserInputError(f"{path}: the file is empty. Point curate at a file with a header and rows.")
    if n_rows == 0:
        raise UserInputError(f"{path}: the file has a header ({', '.join(header)}) but no rows.")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise UserInputError(
            f"{path}: the header names {', '.join(repr(n) for n in repeated)} more than once. Column names must "
            f"be unique (curate would otherwise have to rename one); rename the repeated column(s)."
        )
    options = {"sep": sep, "names": header, "header": 0, "keep_default_na": False}
    cells = pd.read_csv(io.StringIO(text), dtype=str, **options)
    decimal = "," if sep == ";" else "."  # ';' between fields: the locales that write 1,5 for one and a half
    typed = pd.read_csv(io.StringIO(text), na_values=[""], decimal=decimal, **options)
    for column in typed.columns:
        untypable = typed[column].dtype == object  # 20-digit integers, mixed values
        zero_padded = typed[column].dtype.kind in "iu" and cells[column].str.match(r"[+-]?0\d").any()  # 007, 00501
        if untypable or zero_padded:  # codes, not numbers: the tools see the text too
            typed[column] = cells[column].where(cells[column] != "", None)
    return typed, cells


def _read_jsonl(path: Path, text: str) -> tuple[pd.DataFrame, JsonLines]:
    lines, records = [], []
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines: U+2028 is data
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise UserInputError(
                f"{path}: line {number}, column {err.colno} is not valid JSON ({err.msg}). "
                f"Each line must hold one JSON object; fix or remove that line."
            ) from None
        except RecursionError:
            raise UserInputError(
                f"{path}: line {number} nests JSON arrays or objects too deeply to read; flatten that record."
            ) from None
        if not isinstance(record, dict):
            raise UserInputError(
                f"{path}: line {number} holds a JSON {type(record).__name__}, not an object. "
                f'Each line must be an object such as {{"text": "...", "label": "..."}}.'
            )
        lines.append(line.rstrip("\r"))
        records.append(record)
    if not records:
        raise UserInputError(f"{path}: the file is empty. Point curate at a file with one JSON object per line.")
    return pd.DataFrame.from_records(records), JsonLines(lines=lines, records=records, line_end=_line_end(text))


def read_source(path: Path, sep: str | None = None) -> SourceTable:
    """Read a table, validating it row by row so errors can name the line. A CSV's separator is `sep`, else
    sniffed (`sniff_separator`); a TSV's is a tab."""
    path = Path(path)
    if not path.exists():
        raise UserInputError(f"{path}: no such file (resolved from {Path.cwd()}). Check the path and its spelling.")
    if path.is_dir():
        raise UserInputError(f"{path}: is a folder. Point curate at a data file inside it ({SUPPORTED}).")
    if not path.is_file():  # a FIFO, socket or device would block or never end
        raise UserInputError(f"{path}: not a regular file (a pipe or device). Save the data to a file first.")
    fmt, compressed = detect_format(path)
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    source = DataSource(path=str(path), format=fmt, compressed=compressed, sha256=digest)
    if fmt == "parquet":
        if not raw:
            raise UserInputError(f"{path}: the file is empty (0 bytes).")
        try:
            table = pq.read_table(io.BytesIO(raw))
            frame = table.to_pandas()
        except Exception as err:  # pyarrow raises several types for corrupt files
            raise UserInputError(f"{path}: not a readable Parquet file ({err}).") from None
        if frame.empty:
            raise UserInputError(f"{path}: the Parquet file has no rows.")
        return SourceTable(frame, source, table)
    if compressed:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise UserInputError(f"{path}: named .gz but not a valid gzip file ({err}).") from None
    text = _decode(path, raw)
    bom = raw.startswith(codecs.BOM_UTF8)
    if not text.strip():
        raise UserInputError(f"{path}: the file is empty. Point curate at a file with data rows.")
    if fmt == "jsonl":
        frame, lines = _read_jsonl(path, text)
        return SourceTable(frame, source, lines, bom)
    sep = sep or (sniff_separator(text) if fmt == "csv" else "\t")
    frame, cells = _read_csv(path, text, sep)
    source = source.model_copy(update={"sep": sep})
    return SourceTable(frame, source, CsvCells(cells, _line_end(text), sep), bom)


def _line_end(text: str) -> str:
    """The file's line ending, from its first line: CRLF or LF."""
    first_line_end = text.find("\n")
    return "\r\n" if first_line_end > 0 and text[first_line_end - 1] == "\r" else "\n"


def read_table(path: Path) -> tuple[pd.DataFrame, DataSource]:
    """The typed frame of a data file and where it came from."""
    table = read_source(path)
    return table.frame, table.source


def assign_row_ids(frame: pd.DataFrame, id_col: str | None, path: str) -> pd.DataFrame:
    """Index the frame by string row ids: the id column's values, or 0-based positions."""
    if id_col is None:
        ids = pd.Index([str(i) for i in range(len(frame))], name=ROW_ID)
    else:
        values = frame[id_col]
        if values.isna().any():
            first = int(values.isna().to_numpy().argmax())
            raise UserInputError(
                f"{path}: the id column '{id_col}' is empty at row {first} (0-based). Every row needs an id; "
                f"fill it in or drop --id to use row positions."
            )
        ids = pd.Index(values if isinstance(values.dtype, pd.StringDtype) else values.map(str), name=ROW_ID)
        # checked on the values: the index's own check builds and keeps a hash table of every id as a Python
        # object (0.9 GB at 10M rows) that tools reading rows by position never use
        if pd.Series(ids.array).duplicated().any():
            counts = ids.value_counts()
            dups = counts[counts > 1]
            shown = ", ".join(f"'{k}' x{v}" for k, v in dups.head(5).items())
            raise UserInputError(
                f"{path}: the id column '{id_col}' has {len(dups)} repeated value(s) ({shown}"
                f"{', ...' if len(dups) > 5 else ''}). Row ids must be unique; fix the ids, pick another "
                f"--id column, or pass --id none to use row positions."
            )
    return frame.set_axis(ids, axis=0)


def load_dataset(
    path: str | Path, overrides: RoleOverrides | None = None, sep: str | None = None
) -> tuple[Dataset, list[str]]:
    """Read a data file, infer column roles and assign row ids. Returns the dataset and role notes."""
    table = read_source(Path(path), sep)
    frame, source = table.frame, table.source
    frame.columns = [str(c) for c in frame.columns]
    if isinstance(table.raw, CsvCells):  # CSV ids as written: '007' is not '7'; '1', '1.0' and '01' are three ids
        for column in id_candidates(frame, overrides):
            ids = table.raw.cells[column]
            frame[column] = ids.where(ids != "", None)
    roles, notes = infer_roles(frame, overrides)
    frame = assign_row_ids(frame, roles.id, source.path)
    del table
    # Arrow's allocator keeps the pages the file's decoded buffers used (1.3 GB after a 10M-row Parquet file)
    pa.default_memory_pool().release_unused()
    return Dataset(frame=frame, roles=roles, source=source, ids_generated=roles.id is None), notes


def encode_text(text: str, compressed: bool, bom: bool = False) -> bytes:
    data = (codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8")
    return gzip.compress(data, mtime=0) if compressed else data


def write_table(frame: pd.DataFrame, path: Path, fmt: str | None = None, compressed: bool | None = None) -> None:
    """Write atomically (temp file + rename) in the given format, or the one the name implies."""
    path = Path(path)
    if fmt is None or compressed is None:
        fmt, compressed = detect_format(path)
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            frame.to_parquet(tmp, index=False)
        elif fmt == "jsonl":
            tmp.write_bytes(encode_text(frame.to_json(orient="records", lines=True, force_ascii=False), compressed))
        else:
            tmp.write_bytes(encode_text(frame.to_csv(index=False, sep="," if fmt == "csv" else "\t"), compressed))
