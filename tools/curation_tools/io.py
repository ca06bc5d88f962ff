"""Load and save CSV/TSV/JSONL (optionally .gz) and Parquet, with clear errors for bad input."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from curation_tools.dataset import Dataset, DataSource
from curation_tools.errors import UserInputError
from curation_tools.roles import RoleOverrides, infer_roles

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


def _read_csv(path: Path, text: str, sep: str) -> pd.DataFrame:
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    header: list[str] | None = None
    n_rows = 0
    for fields in reader:
        if not fields:
            continue
        if header is None:
            header = fields
            continue
        n_rows += 1
        if len(fields) != len(header):
            raise UserInputError(
                f"{path}: line {reader.line_num} has {len(fields)} fields but the header has "
                f"{len(header)} ({', '.join(header)}). A field likely contains an unquoted "
                f"{'comma' if sep == ',' else 'separator'} or a stray quote; quote that field or fix the row."
            )
    if header is None:
        raise UserInputError(f"{path}: the file is empty. Point curate at a file with a header and rows.")
    if n_rows == 0:
        raise UserInputError(f"{path}: the file has a header ({', '.join(header)}) but no rows.")
    return pd.read_csv(io.StringIO(text), sep=sep, keep_default_na=False, na_values=[""])


def _read_jsonl(path: Path, text: str) -> pd.DataFrame:
    records = []
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
        if not isinstance(record, dict):
            raise UserInputError(
                f"{path}: line {number} holds a JSON {type(record).__name__}, not an object. "
                f'Each line must be an object such as {{"text": "...", "label": "..."}}.'
            )
        records.append(record)
    if not records:
        raise UserInputError(f"{path}: the file is empty. Point curate at a file with one JSON object per line.")
    return pd.DataFrame.from_records(records)


def read_table(path: Path) -> tuple[pd.DataFrame, DataSource]:
    """Read a table, validating it row by row so errors can name the line."""
    path = Path(path)
    if not path.exists():
        raise UserInputError(f"{path}: no such file (resolved from {Path.cwd()}). Check the path and its spelling.")
    if path.is_dir():
        raise UserInputError(f"{path}: is a folder. Point curate at a data file inside it ({SUPPORTED}).")
    fmt, compressed = detect_format(path)
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    source = DataSource(path=str(path), format=fmt, compressed=compressed, sha256=digest)
    if fmt == "parquet":
        if not raw:
            raise UserInputError(f"{path}: the file is empty (0 bytes).")
        try:
            frame = pd.read_parquet(io.BytesIO(raw))
        except Exception as err:  # pyarrow raises several types for corrupt files
            raise UserInputError(f"{path}: not a readable Parquet file ({err}).") from None
        if frame.empty:
            raise UserInputError(f"{path}: the Parquet file has no rows.")
        return frame, source
    if compressed:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise UserInputError(f"{path}: named .gz but not a valid gzip file ({err}).") from None
    text = _decode(path, raw)
    if not text.strip():
        raise UserInputError(f"{path}: the file is empty. Point curate at a file with data rows.")
    if fmt == "jsonl":
        return _read_jsonl(path, text), source
    return _read_csv(path, text, "," if fmt == "csv" else "\t"), source


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
        ids = pd.Index(values.map(str), name=ROW_ID)
        if not ids.is_unique:
            counts = ids.value_counts()
            dups = counts[counts > 1]
            shown = ", ".join(f"'{k}' x{v}" for k, v in dups.head(5).items())
            raise UserInputError(
                f"{path}: the id column '{id_col}' has {len(dups)} repeated value(s) ({shown}"
                f"{', ...' if len(dups) > 5 else ''}). Row ids must be unique; fix the ids, pick another "
                f"--id column, or pass --id none to use row positions."
            )
    return frame.set_axis(ids, axis=0)


def load_dataset(path: str | Path, overrides: RoleOverrides | None = None) -> tuple[Dataset, list[str]]:
    """Read a data file, infer column roles and assign row ids. Returns the dataset and role notes."""
    frame, source = read_table(Path(path))
    frame.columns = [str(c) for c in frame.columns]
    roles, notes = infer_roles(frame, overrides)
    frame = assign_row_ids(frame, roles.id, source.path)
    return Dataset(frame=frame, roles=roles, source=source, ids_generated=roles.id is None), notes


def write_table(frame: pd.DataFrame, path: Path, fmt: str | None = None, compressed: bool | None = None) -> None:
    """Write atomically (temp file + rename) in the given format, or the one the name implies."""
    path = Path(path)
    if fmt is None or compressed is None:
        fmt, compressed = detect_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if fmt == "parquet":
            frame.to_parquet(tmp, index=False)
        else:
            if fmt == "jsonl":
                payload = frame.to_json(orient="records", lines=True, force_ascii=False)
            else:
                payload = frame.to_csv(index=False, sep="," if fmt == "csv" else "\t")
            data = payload.encode("utf-8")
            tmp.write_bytes(gzip.compress(data, mtime=0) if compressed else data)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
