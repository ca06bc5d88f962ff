"""The ledger's storage: a workspace folder's SQLite file, version files and description, each checked when read.

Layout of a workspace folder::

    workspace.json        the source file (path, format, sha256, separator) and column roles
    ledger.sqlite         versions, proposals, decisions, edits, operations, exports, workspace_files
    versions/vNNNNNN.parquet
    source.<ext>          the input as read (untouched cells are exported from it)

Every operation first writes its new version file atomically (temp file, fsync, rename) and then records it in
one SQLite transaction. A crash between the two leaves an unreferenced file that the next operation overwrites;
the current version is always the one the last committed operation names. Rows come back as `sqlite3.Row`s, read
by column name.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import TypeAdapter

from copilot.core import formats
from copilot.core.integrity import (
    DamagedFile,
    WriteFailed,
    check_hash,
    check_recorded,
    check_sqlite_file,
    check_sqlite_integrity,
    file_sha256,
    is_write_failure,
    unwritable,
)
from copilot.ledger.models import VersionInfo
from copilot.ledger.values import dump, jsonable, now
from curation_tools.atomic_files import write_text_atomic
from curation_tools.collector import many_objects
from curation_tools.dataset import Dataset, DataSource, Roles
from curation_tools.errors import UserInputError
from curation_tools.io import SourceTable, read_source, write_table
from curation_tools.schema import Finding, Proposal

ROW_COL = "__row_id__"
ORD_COL = "__ord__"
INTERNAL = (ROW_COL, ORD_COL)
JSON_PREFIX = "__json__:"
SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS versions (
    version_id INTEGER PRIMARY KEY, parent_id INTEGER, file TEXT NOT NULL, n_rows INTEGER NOT NULL,
    created_at TEXT NOT NULL, note TEXT NOT NULL, sha256 TEXT);
CREATE TABLE IF NOT EXISTS proposals (
    proposal_id TEXT PRIMARY KEY, tool TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS decisions (
    decision_id INTEGER PRIMARY KEY, proposal_id TEXT NOT NULL REFERENCES proposals(proposal_id),
    tool TEXT NOT NULL, decided_by TEXT NOT NULL, reason TEXT NOT NULL, decided_at TEXT NOT NULL,
    approved INTEGER NOT NULL, rejected INTEGER NOT NULL, conflicts TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('applied', 'undone')));
CREATE TABLE IF NOT EXISTS edits (
    edit_id INTEGER PRIMARY KEY, decision_id INTEGER NOT NULL REFERENCES decisions(decision_id),
    row_id TEXT NOT NULL, action TEXT NOT NULL, col TEXT, old_value TEXT, new_value TEXT,
    finding_id TEXT NOT NULL, issue TEXT NOT NULL, score REAL NOT NULL);
CREATE INDEX IF NOT EXISTS edits_row ON edits(row_id);
CREATE TABLE IF NOT EXISTS operations (
    op_id INTEGER PRIMARY KEY, op TEXT NOT NULL CHECK (op IN ('apply', 'undo', 'redo')),
    decision_id INTEGER NOT NULL REFERENCES decisions(decision_id), version_before INTEGER NOT NULL,
    version_after INTEGER NOT NULL, at TEXT NOT NULL, by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS exports (
    export_id INTEGER PRIMARY KEY, path TEXT NOT NULL, sha256 TEXT NOT NULL, version_id INTEGER NOT NULL,
    at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS workspace_files (name TEXT PRIMARY KEY, sha256 TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS finding_decisions (
    decision_id INTEGER NOT NULL REFERENCES decisions(decision_id), finding_id TEXT NOT NULL,
    approve INTEGER NOT NULL, new_label TEXT NOT NULL, decided_by TEXT NOT NULL, reason TEXT NOT NULL,
    PRIMARY KEY (decision_id, finding_id));
"""
# made by the first rule added, not on open: opening a ledger to read it must not write to it
GUIDANCE_SQL = """
CREATE TABLE IF NOT EXISTS guidance (
    rule_id INTEGER PRIMARY KEY, body TEXT NOT NULL, words TEXT NOT NULL, source TEXT NOT NULL,
    parser TEXT NOT NULL, added_by TEXT NOT NULL, added_at TEXT NOT NULL, removed_at TEXT, removed_by TEXT)
"""


def default_workspace(data_path: Path) -> Path:
    """`.curate/<file name>/` beside the data file."""
    return data_path.resolve().parent / ".curate" / data_path.name


def connect(root: Path, existing: bool = True) -> sqlite3.Connection:
    """Open (or, for a new workspace, create) ledger.sqlite. An existing ledger is checked first: the file's
    structure, SQLite's quick_check (once per process) and version 1's record, so a damaged, emptied or deleted
    ledger is refused by name instead of read as an empty history."""
    path = root / "ledger.sqlite"
    if unwritable(root):
        raise UserInputError(
            f"{root}: the workspace folder is read-only. curate writes there even to read the history (the "
            f"ledger's journal and lock): make it writable, or copy the workspace and pass --workspace COPY."
        )
    if existing:
        check_sqlite_file(path, "the ledger")
    try:
        db = sqlite3.connect(path, isolation_level=None, timeout=600)  # a writer waits its turn
        db.row_factory = sqlite3.Row
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > formats.LEDGER:
            db.close()
        formats.check("ledger", version or formats.LEDGER, formats.LEDGER, path)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        if existing:
            check_sqlite_integrity(db, path, "the ledger")
        db.executescript(SCHEMA_SQL)
        if version and version < formats.LEDGER:
            _upgrade(db, root)
        elif version == 0:  # new
            db.execute(f"PRAGMA user_version = {formats.LEDGER}")
        if existing and db.execute("SELECT 1 FROM versions WHERE version_id=1").fetchone() is None:
            raise DamagedFile(path, "the ledger has no record of the input (version 1): it was emptied or replaced")
    except sqlite3.OperationalError as error:
        raise UserInputError(
            f"{path}: cannot open the ledger ({error}). Check that the disk has free space and the workspace is "
            f"writable, then run the command again; nothing was changed."
        ) from None
    except sqlite3.DatabaseError as error:
        raise DamagedFile(path, f"the ledger is damaged ({error})") from None
    return db


def _upgrade(db: sqlite3.Connection, root: Path) -> None:
    """Ledger format 1 -> 2: versions gain the sha256 of their file, and workspace.json's is recorded, from the
    files as they are now."""
    with contextlib.suppress(sqlite3.OperationalError):  # a concurrent opener added it first
        db.execute("ALTER TABLE versions ADD COLUMN sha256 TEXT")
    db.execute("BEGIN IMMEDIATE")
    for row in db.execute("SELECT version_id, file FROM versions WHERE sha256 IS NULL").fetchall():
        file = root / "versions" / row["file"]
        if file.is_file():
            db.execute("UPDATE versions SET sha256=? WHERE version_id=?", (file_sha256(file), row["version_id"]))
    if (root / "workspace.json").is_file():
        db.execute(
            "INSERT OR IGNORE INTO workspace_files VALUES ('workspace.json', ?)",
            (file_sha256(root / "workspace.json"),),
        )
    db.execute(f"PRAGMA user_version = {formats.LEDGER}")
    db.execute("COMMIT")


def write_version(frame: pd.DataFrame, path: Path) -> None:
    """Store a version as Parquet. A column Arrow cannot hold as it is (mixed types, integers past 64
    bits, a label a person typed into a number column) is stored as JSON text under a marked name."""
    encoded = {}
    for column in frame.columns:
        if frame[column].dtype != object:
            continue
        nested = frame[column].map(lambda v: isinstance(v, list | tuple | dict) or hasattr(v, "tolist")).any()
        try:
            if not nested:  # Arrow would turn dicts into structs with every key any row has
                # its values, not the Series: `pa.array` of a Series looks a name up in its index, which builds a
                # hash table of every row id as a Python object
                pa.array(frame[column].to_numpy(dtype=object), from_pandas=True)
                continue
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
            pass
        encoded[column] = JSON_PREFIX + column
    frame = frame.assign(**{c: frame[c].map(lambda v: None if jsonable(v) is None else dump(v)) for c in encoded})
    write_table(frame.rename(columns=encoded), path, "parquet", False)


def read_version(path: Path) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    encoded = {c: c[len(JSON_PREFIX) :] for c in frame.columns if c.startswith(JSON_PREFIX)}
    for column in encoded:
        frame[column] = frame[column].map(lambda v: json.loads(v) if isinstance(v, str) else None).astype(object)
    return frame.rename(columns=encoded)


FINDINGS = TypeAdapter(list[Finding])
FINDINGS_BLOCK = 10_000


class ReadCache:
    """The last few large records read through one connection (a proposal, a decision's edits), kept parsed: a
    run's outputs read each of them two or three times, and parsing 261,208 findings takes 9 s. Both are written
    once and only ever rewritten by forgetting redacted values (`forget` empties this); the cache is also emptied
    when another connection has written (SQLite's data_version moves) and when a transaction is rolled back."""

    KEPT = 2  # per kind: a run's outputs go through its proposals (or decisions) twice, in the same order

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.entries: dict[tuple[str, object], object] = {}
        self.version = None

    def get(self, kind: str, key: object) -> Any:
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        if version != self.version:
            self.entries.clear()
            self.version = version
        return self.entries.get((kind, key))

    def put(self, kind: str, key: object, value: object) -> None:
        same_kind = [k for k in self.entries if k[0] == kind]
        if len(same_kind) >= self.KEPT:
            del self.entries[same_kind[0]]
        self.entries[(kind, key)] = value

    def clear(self) -> None:
        self.entries.clear()


class Store:
    """One workspace's files: the description (workspace.json), the SQLite ledger and the version files."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        meta_path = self.root / "workspace.json"
        if not meta_path.exists():
            raise UserInputError(
                f"{self.root} is not a curate workspace (no workspace.json). Run a curate command on the "
                f"data file first, or pass the right --workspace."
            )
        self.db = connect(self.root)
        self.read_cache = ReadCache(self.db)
        meta = formats.load_json(meta_path, "workspace", formats.WORKSPACE)  # a newer format: said so first
        recorded = self.db.execute("SELECT sha256 FROM workspace_files WHERE name='workspace.json'").fetchone()
        if recorded is not None:
            check_hash(meta_path, recorded["sha256"], "the workspace's description")
        self.source = DataSource.model_validate(meta["source"])
        self.roles = Roles.model_validate(meta["roles"])
        self.ids_generated: bool = meta["ids_generated"]
        self.data_columns: list[str] = meta["columns"]
        self.source_copy: str | None = meta.get("source_copy")  # workspaces made before it existed lack it

    @staticmethod
    def create(root: Path, data: Dataset) -> None:
        """A new workspace: version 1 (the input), its copy of the input, then workspace.json, written last so
        a workspace killed while being created is made again."""
        meta_path = root / "workspace.json"
        (root / "versions").mkdir(parents=True, exist_ok=True)
        (root / "ledger.sqlite").unlink(missing_ok=True)
        frame = data.frame.reset_index(names=ROW_COL)
        frame[ORD_COL] = np.arange(len(frame), dtype=np.float64)
        first = root / "versions" / f"v{1:06d}.parquet"
        write_version(frame, first)
        copy = None
        if Path(data.source.path).is_file():  # the rows as read: untouched cells are exported from this copy
            copy = "source" + "".join(Path(data.source.path).suffixes[-2:])
            shutil.copyfile(data.source.path, root / copy)
        meta = {
            formats.KEY: formats.WORKSPACE,
            "source_copy": copy,
            "source": data.source.model_dump(),
            "roles": data.roles.model_dump(),
            "ids_generated": data.ids_generated,
            "columns": list(data.frame.columns),
            "created_at": now(),
        }
        text = json.dumps(meta, indent=2)
        db = connect(root, existing=False)
        db.execute(
            "INSERT INTO versions VALUES (1, NULL, ?, ?, ?, 'input', ?)",
            (first.name, len(frame), now(), file_sha256(first)),
        )
        db.execute(
            "INSERT INTO workspace_files VALUES ('workspace.json', ?)", (hashlib.sha256(text.encode()).hexdigest(),)
        )
        db.close()
        write_text_atomic(meta_path, text)

    # ---- versions ------------------------------------------------------------------------------------------
    def version_file(self, version_id: int) -> Path:
        return self.root / "versions" / f"v{version_id:06d}.parquet"

    def head(self) -> int:
        row = self.db.execute("SELECT version_after FROM operations ORDER BY op_id DESC LIMIT 1").fetchone()
        return int(row["version_after"]) if row else 1

    def frame(self, version_id: int) -> pd.DataFrame:
        """A version's rows with the ledger's row-id and order columns, its file checked against its hash."""
        row = self.db.execute("SELECT file, sha256 FROM versions WHERE version_id=?", (version_id,)).fetchone()
        if row is None:
            raise UserInputError(f"No version v{version_id} in {self.root} (see `curate log`).")
        path = self.root / "versions" / row["file"]  # a version rewritten to forget a redaction has a new name
        check_recorded(path, row["sha256"], f"version v{version_id}")
        try:
            frame = read_version(path)
        except (OSError, ValueError, pa.ArrowException) as error:  # only reached by a ledger older than its hashes
            raise DamagedFile(path, f"version v{version_id} cannot be read ({error})") from None
        return frame.set_index(ROW_COL, drop=False)

    def versions(self) -> list[VersionInfo]:
        rows = self.db.execute(
            "SELECT version_id, parent_id, n_rows, created_at, note FROM versions ORDER BY version_id"
        )
        return [VersionInfo(**dict(r)) for r in rows]

    def n_rows(self, version_id: int | None = None) -> int:
        """A version's row count, from the versions table (no data file is read)."""
        version = version_id or self.head()
        row = self.db.execute("SELECT n_rows FROM versions WHERE version_id=?", (version,)).fetchone()
        if row is None:
            raise UserInputError(f"No version v{version} in {self.root} (see `curate log`).")
        return int(row["n_rows"])

    def commit_version(self, frame: pd.DataFrame, note: str) -> tuple[int, int]:
        """Write a new version after the head; returns (before, after). Caller holds the transaction."""
        before = self.head()
        after = int(self.db.execute("SELECT MAX(version_id) AS last FROM versions").fetchone()["last"]) + 1
        file = self.version_file(after)
        write_version(frame.reset_index(drop=True), file)
        self.db.execute(
            "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?)",
            (after, before, file.name, len(frame), now(), note, file_sha256(file)),
        )
        return before, after

    def source_rows(self) -> SourceTable | None:
        """The input's rows as read: the workspace's copy, or the input file while it is unchanged."""
        copy = self.root / self.source_copy if self.source_copy else None
        if copy is not None and not copy.exists() and self.has_table("forgotten"):
            copy = None  # deleted when a redaction was forgotten (by another connection than this one)
        if copy is not None:
            check_recorded(copy, self.source.sha256, "the workspace's copy of the input")
            return read_source(copy, self.source.sep)
        original = Path(self.source.path)
        if original.is_file() and hashlib.sha256(original.read_bytes()).hexdigest() == self.source.sha256:
            return read_source(original, self.source.sep)
        return None

    # ---- proposals -----------------------------------------------------------------------------------------
    def insert_proposal(self, proposal: Proposal) -> None:
        if self.has_proposal(proposal.proposal_id):  # stored once, never changed (its JSON takes seconds to write)
            return
        self.db.execute(
            "INSERT OR IGNORE INTO proposals VALUES (?, ?, ?, ?)",
            (proposal.proposal_id, proposal.tool, proposal.model_dump_json(), proposal.created_at.isoformat()),
        )

    def has_proposal(self, proposal_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM proposals WHERE proposal_id=?", (proposal_id,)).fetchone() is not None

    def proposal(self, proposal_id: str) -> Proposal:
        """A stored proposal (the last ones read stay parsed: ReadCache)."""
        cached = self.read_cache.get("proposal", proposal_id)
        if cached is not None:
            return cached
        row = self.db.execute("SELECT body FROM proposals WHERE proposal_id=?", (proposal_id,)).fetchone()
        if row is None:
            raise UserInputError(f"No proposal {proposal_id} in {self.root}.")
        raw = json.loads(row["body"])
        formats.check("proposal", raw.get(formats.KEY, 1), formats.PROPOSAL, f"{self.root}: proposal {proposal_id}")
        findings = raw.pop("findings", [])
        proposal = Proposal.model_validate(raw)
        # a block at a time: validating 261,208 findings in one call holds the GIL for 7 s, and a run's progress
        # heartbeat (another thread) must speak every few seconds
        with many_objects():
            proposal.findings = [
                finding
                for start in range(0, len(findings), FINDINGS_BLOCK)
                for finding in FINDINGS.validate_python(findings[start : start + FINDINGS_BLOCK])
            ]
        self.read_cache.put("proposal", proposal_id, proposal)
        return proposal

    # ---- writing -------------------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One SQLite write transaction: committed whole, or rolled back (also on KeyboardInterrupt). A write the
        disk refuses (full, read-only) is a WriteFailed naming the workspace: nothing of it is current."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self.db.execute("COMMIT")
            except BaseException:
                self.read_cache.clear()  # what was read inside may be rolled back
                with contextlib.suppress(sqlite3.Error):
                    if self.db.in_transaction:
                        self.db.execute("ROLLBACK")
                raise
        except (sqlite3.OperationalError, OSError) as error:
            if not is_write_failure(error):
                raise
            raise WriteFailed(self.root, "the workspace", error) from None

    def record_op(self, op: str, decision_id: int, before: int, after: int, by: str) -> None:
        self.db.execute(
            "INSERT INTO operations (op, decision_id, version_before, version_after, at, by) VALUES (?, ?, ?, ?, ?, ?)",
            (op, decision_id, before, after, now(), by),
        )

    def record_export(self, path: Path, version_id: int) -> None:
        """What left the workspace, by hash: `curate audit` reports it."""
        with self.transaction():
            self.db.execute(
                "INSERT INTO exports (path, sha256, version_id, at) VALUES (?, ?, ?, ?)",
                (str(path.resolve()), file_sha256(path), version_id, now()),
            )

    def has_table(self, name: str) -> bool:
        return (
            self.db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None
        )

    def close(self) -> None:
        self.db.close()
