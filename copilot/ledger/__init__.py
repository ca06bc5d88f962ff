"""Dataset versions and the edit ledger: apply decisions, undo, redo, diff, explain, export.

Layout of a workspace folder::

    workspace.json        the source file (path, format, sha256) and column roles
    ledger.sqlite         proposals, decisions, edits, operations (apply / undo / redo)
    versions/vNNNNNN.parquet

Every operation first writes its new version file atomically (temp file, fsync, rename) and then
records it in one SQLite transaction. A crash between the two leaves an unreferenced file that the
next operation overwrites; the current version is always the one the last committed operation
names, so killing the process at any moment leaves the previous state intact.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, Field

from copilot.core import formats
from copilot.core.decisions import Decision, FindingDecision
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
from copilot.core.locks import folder_lock
from copilot.core.output_paths import check_output, is_run_folder
from curation_tools.atomic_files import write_text_atomic
from curation_tools.dataset import Dataset, DataSource, Roles
from curation_tools.errors import UserInputError
from curation_tools.io import ROW_ID, SourceTable, detect_format, read_source, write_table
from curation_tools.label_names import class_names, class_values, named_label, naming_columns
from curation_tools.schema import ActionType, Finding, Proposal
from curation_tools.write_back import OutputRow, can_write_back, write_back

ROW_COL = "__row_id__"
ORD_COL = "__ord__"
INTERNAL = (ROW_COL, ORD_COL)
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


class Conflict(BaseModel):
    row_id: str
    finding_id: str
    reason: str


class Edit(BaseModel):
    row_id: str
    action: ActionType
    column: str | None = None
    old_value: Any = None
    new_value: Any = None
    finding_id: str
    issue: str
    score: float
    decided_by: str | None = Field(None, description="who approved this edit's finding (None: before it was kept)")


class OperationResult(BaseModel):
    op: str
    decision_id: int
    version_before: int
    version_after: int
    edits: list[Edit]
    conflicts: list[Conflict]
    rejected: int = 0


class DecisionInfo(BaseModel):
    decision_id: int
    proposal_id: str
    tool: str
    decided_by: str
    decided_at: str
    reason: str
    approved: int
    rejected: int
    status: str
    n_edits: int
    conflicts: list[Conflict]


class VersionInfo(BaseModel):
    version_id: int
    parent_id: int | None
    n_rows: int
    created_at: str
    note: str


class CellChange(BaseModel):
    row_id: str
    column: str
    old: Any
    new: Any


class ExportInfo(BaseModel):
    path: str
    sha256: str
    version_id: int
    at: str


class VersionDiff(BaseModel):
    version_a: int
    version_b: int
    removed: list[str]
    added: list[str]
    changed: list[CellChange]
    texts: dict[str, str] = Field(
        default_factory=dict, description="each listed row's text (removed: as it was; added and changed: as it is)"
    )


class RowEvent(BaseModel):
    decision_id: int
    op_status: str
    tool: str
    issue: str
    action: str
    column: str | None
    old_value: Any
    new_value: Any
    score: float
    decided_by: str
    decided_at: str
    reason: str
    message: str
    evidence: dict[str, Any]


class RowHistory(BaseModel):
    row_id: str
    present: bool
    current: dict[str, Any] | None
    text: str | None = Field(None, description="the row's text: as it is now, or as it was when it was removed")
    events: list[RowEvent]
    label_names: dict[str, str] = Field(
        default_factory=dict, description="the label column's classes (as text) -> names, where a column names them"
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def jsonable(value: Any) -> Any:
    """Plain JSON value for a cell (numpy scalars unwrapped, NaN as null, arrays as lists)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _dump(value: Any) -> str:
    return json.dumps(jsonable(value), ensure_ascii=False, default=str)


def _same(a: Any, b: Any) -> bool:
    return jsonable(a) == jsonable(b)


def _cells_differ(left: pd.Series, right: pd.Series, nested: bool) -> pd.Series:
    """Cell-wise "may differ" (confirmed by `_same`): JSON-text comparison where cells may hold lists or dicts."""
    if nested:
        return left.map(_dump) != right.map(_dump)
    return (left != right) & ~(left.isna() & right.isna())


def _connect(root: Path, existing: bool = True) -> sqlite3.Connection:
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
            _upgrade(db, root, version)
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


def _upgrade(db: sqlite3.Connection, root: Path, version: int) -> None:
    """Ledger format 1 -> 2: versions gain the sha256 of their file, and workspace.json's is recorded, from the
    files as they are now."""
    with contextlib.suppress(sqlite3.OperationalError):  # a concurrent opener added it first
        db.execute("ALTER TABLE versions ADD COLUMN sha256 TEXT")
    db.execute("BEGIN IMMEDIATE")
    for version_id, name in db.execute("SELECT version_id, file FROM versions WHERE sha256 IS NULL").fetchall():
        file = root / "versions" / name
        if file.is_file():
            db.execute("UPDATE versions SET sha256=? WHERE version_id=?", (file_sha256(file), version_id))
    if (root / "workspace.json").is_file():
        db.execute(
            "INSERT OR IGNORE INTO workspace_files VALUES ('workspace.json', ?)",
            (file_sha256(root / "workspace.json"),),
        )
    db.execute(f"PRAGMA user_version = {formats.LEDGER}")
    db.execute("COMMIT")


JSON_PREFIX = "__json__:"


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
                pa.array(frame[column], from_pandas=True)
                continue
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
            pass
        encoded[column] = JSON_PREFIX + column
    frame = frame.assign(**{c: frame[c].map(lambda v: None if jsonable(v) is None else _dump(v)) for c in encoded})
    write_table(frame.rename(columns=encoded), path, "parquet", False)


def read_version(path: Path) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    encoded = {c: c[len(JSON_PREFIX) :] for c in frame.columns if c.startswith(JSON_PREFIX)}
    for column in encoded:
        frame[column] = frame[column].map(lambda v: json.loads(v) if isinstance(v, str) else None).astype(object)
    return frame.rename(columns=encoded)


def default_workspace(data_path: Path) -> Path:
    """`.curate/<file name>/` beside the data file."""
    return data_path.resolve().parent / ".curate" / data_path.name


class _Working:
    """A version being edited: removals and additions are collected and applied once, at the end."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame.copy()
        self.removed: set[str] = set()
        self.added: dict[str, dict[str, Any]] = {}
        self._classes: dict[tuple[str, int], dict[str, Any] | None] = {}
        self._companions: dict[str, dict[str, dict[str, Any]]] = {}

    def has(self, row: str) -> bool:
        return row in self.added or (row in self.frame.index and row not in self.removed)

    def record(self, row: str) -> dict[str, Any]:
        if row in self.added:
            return dict(self.added[row])
        return jsonable(self.frame.loc[row].to_dict())

    def get(self, row: str, column: str) -> Any:
        return self.added[row][column] if row in self.added else self.frame.at[row, column]

    def companions(self, label: str, columns: list[str]) -> dict[str, dict[str, Any]]:
        """Columns that name the label one-to-one (see curation_tools.label_names), found once per batch."""
        if label not in self._companions:
            self._companions[label] = naming_columns(self.frame, label, columns)
        return self._companions[label]

    def label_class(self, column: str, label: Any) -> tuple[bool, Any]:
        """(known, value): the column's class equal to `label`, typed as the column holds it ("1" is 1 in an
        integer column). Unknown when no row holds it. Columns of lists (multi-label) take any label."""
        key = (column, len(self.added))
        if key not in self._classes:
            values = self.frame[column]
            if self.added:
                values = pd.concat([values, pd.Series([r.get(column) for r in self.added.values()], dtype=object)])
            self._classes[key] = class_values(values)
        by_text = self._classes[key]
        if by_text is None:
            return True, label
        return str(label) in by_text, by_text.get(str(label), label)

    def set(self, row: str, column: str, value: Any) -> None:
        if row in self.added:
            self.added[row][column] = value
            return
        try:
            self.frame.at[row, column] = value
        except (TypeError, ValueError):  # the value does not fit the column's dtype (e.g. str into int)
            self.frame[column] = self.frame[column].astype(object)
            self.frame.at[row, column] = value

    def add(self, record: dict[str, Any]) -> None:
        row = str(record[ROW_COL])
        if row in self.removed:  # removed earlier in this same batch: restore it in place
            self.removed.discard(row)
            for column, value in record.items():
                self.set(row, column, value)
            return
        self.added[row] = dict(record)

    def remove(self, row: str) -> None:
        if self.added.pop(row, None) is None:
            self.removed.add(row)

    def next_ord(self) -> float:
        ords = [float(self.frame[ORD_COL].max()) if len(self.frame) else -1.0]
        ords += [float(r[ORD_COL]) for r in self.added.values()]
        return max(ords) + 1.0

    def result(self) -> pd.DataFrame:
        frame = self.frame.drop(index=list(self.removed)) if self.removed else self.frame
        if self.added:
            extra = pd.DataFrame(list(self.added.values())).set_index(ROW_COL, drop=False)
            frame = pd.concat([frame, extra])
        return frame


class Ledger:
    """One dataset's versions and decisions inside a workspace folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        meta_path = self.root / "workspace.json"
        if not meta_path.exists():
            raise UserInputError(
                f"{self.root} is not a curate workspace (no workspace.json). Run a curate command on the "
                f"data file first, or pass the right --workspace."
            )
        self._db = _connect(self.root)
        meta = formats.load_json(meta_path, "workspace", formats.WORKSPACE)  # a newer format: said so first
        recorded = self._db.execute("SELECT sha256 FROM workspace_files WHERE name='workspace.json'").fetchone()
        if recorded is not None:
            check_hash(meta_path, recorded[0], "the workspace's description")
        self.source = DataSource.model_validate(meta["source"])
        self.roles = Roles.model_validate(meta["roles"])
        self.ids_generated: bool = meta["ids_generated"]
        self.data_columns: list[str] = meta["columns"]
        self.source_copy: str | None = meta.get("source_copy")  # workspaces made before it existed lack it

    # ---- creation -------------------------------------------------------------------------
    @classmethod
    def open_or_create(cls, root: Path, data: Dataset) -> Ledger:
        """Open the workspace for this data, creating it (version 1 = the input) on first use.

        workspace.json is written last, so a workspace killed while being created is made again.
        """
        root = Path(root)
        if not (root / "workspace.json").exists():
            with folder_lock(root, "this workspace", wait=True):  # two first uses at once: one creates
                if not (root / "workspace.json").exists():
                    cls._create(root, data)
        ledger = cls(root)
        if ledger.source.sha256 != data.source.sha256:
            raise UserInputError(
                f"{data.source.path} changed since the workspace {root} was created from it "
                f"(sha256 {ledger.source.sha256[:12]} then, {data.source.sha256[:12]} now). Pass a "
                f"new --workspace to start over, or restore the original file."
            )
        return ledger

    @staticmethod
    def _create(root: Path, data: Dataset) -> None:
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
            "created_at": _now(),
        }
        text = json.dumps(meta, indent=2)
        db = _connect(root, existing=False)
        db.execute(
            "INSERT INTO versions VALUES (1, NULL, ?, ?, ?, 'input', ?)",
            (first.name, len(frame), _now(), file_sha256(first)),
        )
        db.execute(
            "INSERT INTO workspace_files VALUES ('workspace.json', ?)", (hashlib.sha256(text.encode()).hexdigest(),)
        )
        db.close()
        write_text_atomic(meta_path, text)

    # ---- versions ---------------------------------------------------------------------------
    def _version_file(self, version_id: int) -> Path:
        return self.root / "versions" / f"v{version_id:06d}.parquet"

    def head(self) -> int:
        row = self._db.execute("SELECT version_after FROM operations ORDER BY op_id DESC LIMIT 1").fetchone()
        return int(row[0]) if row else 1

    def _frame(self, version_id: int) -> pd.DataFrame:
        row = self._db.execute("SELECT sha256 FROM versions WHERE version_id=?", (version_id,)).fetchone()
        if row is None:
            raise UserInputError(f"No version v{version_id} in {self.root} (see `curate log`).")
        path = self._version_file(version_id)
        check_recorded(path, row[0], f"version v{version_id}")
        try:
            frame = read_version(path)
        except (OSError, ValueError, pa.ArrowException) as error:  # only reached by a ledger older than its hashes
            raise DamagedFile(path, f"version v{version_id} cannot be read ({error})") from None
        return frame.set_index(ROW_COL, drop=False)

    def dataset(self, version_id: int | None = None) -> Dataset:
        """A version (default: the current one) as a Dataset for tools."""
        frame = self._frame(version_id or self.head()).sort_values(ORD_COL)
        data = frame.drop(columns=list(INTERNAL)).rename_axis(ROW_ID)
        return Dataset(frame=data, roles=self.roles, source=self.source, ids_generated=self.ids_generated)

    def versions(self) -> list[VersionInfo]:
        rows = self._db.execute(
            "SELECT version_id, parent_id, n_rows, created_at, note FROM versions ORDER BY version_id"
        )
        return [VersionInfo(version_id=r[0], parent_id=r[1], n_rows=r[2], created_at=r[3], note=r[4]) for r in rows]

    def _commit_version(self, frame: pd.DataFrame, note: str) -> tuple[int, int]:
        """Write a new version after the head; returns (before, after). Caller holds the transaction."""
        before = self.head()
        after = int(self._db.execute("SELECT MAX(version_id) FROM versions").fetchone()[0]) + 1
        file = self._version_file(after)
        write_version(frame.reset_index(drop=True), file)
        self._db.execute(
            "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?)",
            (after, before, file.name, len(frame), _now(), note, file_sha256(file)),
        )
        return before, after

    # ---- apply ------------------------------------------------------------------------------
    @staticmethod
    def _apply_edit(work: _Working, edit: Edit, forward: bool) -> str | None:
        """Carry out one edit (or its inverse) on the working set. Returns a conflict reason or None."""
        row = edit.row_id
        present = work.has(row)
        if edit.action in (ActionType.drop, ActionType.add_rows):
            if (edit.action == ActionType.add_rows) == forward:
                if present:
                    return f"row {row} already exists"
                work.add(edit.old_value if edit.action == ActionType.drop else edit.new_value)
                return None
            if not present:
                return f"row {row} is not in the current version (removed by an earlier decision)"
            work.remove(row)
            return None
        if not present:
            return f"row {row} is not in the current version (removed by an earlier decision)"
        if edit.action == ActionType.flag:
            return None
        expected, target = (edit.old_value, edit.new_value) if forward else (edit.new_value, edit.old_value)
        current = work.get(row, edit.column)
        if not _same(current, expected):
            return f"row {row}'s {edit.column} is now {jsonable(current)!r}, not {jsonable(expected)!r}"
        work.set(row, edit.column, target)
        return None

    def _companion_edits(self, work: _Working, edit: Edit) -> list[Edit]:
        """A relabel's edits to the columns that name the label (see _Working.companions)."""
        if edit.action != ActionType.relabel or not edit.column:
            return []
        edits = []
        for column, names in work.companions(edit.column, self.data_columns).items():
            old, new = work.get(edit.row_id, column), names.get(str(edit.new_value))
            if new is not None and not _same(old, new):
                edits.append(
                    edit.model_copy(
                        update={
                            "action": ActionType.edit_cell,
                            "column": column,
                            "old_value": jsonable(old),
                            "new_value": new,
                        }
                    )
                )
        return edits

    def _plan_edit(self, work: _Working, finding: Finding, decided: FindingDecision) -> Edit | str:
        action = finding.action
        base = {
            "row_id": finding.row_id,
            "action": action.type,
            "finding_id": finding.finding_id,
            "issue": finding.issue,
            "score": finding.score,
            "decided_by": decided.decided_by,
        }
        row = finding.row_id
        if action.type == ActionType.add_rows:
            if not action.new_row:
                return "add_rows finding without a row"
            unknown = set(action.new_row) - set(self.data_columns)
            if unknown:
                return f"new row has columns the data lacks: {', '.join(sorted(unknown))}"
            record = {c: action.new_row.get(c) for c in self.data_columns}
            record.update({ROW_COL: row, ORD_COL: work.next_ord()})
            return Edit(**base, new_value=jsonable(record))
        if not work.has(row):
            return f"row {row} is not in the current version (removed by an earlier decision)"
        if action.type == ActionType.drop or (action.type == ActionType.flag and decided.drop_row):
            return Edit(**{**base, "action": ActionType.drop}, old_value=work.record(row))
        relabelled_by_person = decided.new_label is not None and bool(self.roles.label)
        if action.type == ActionType.flag and not relabelled_by_person:
            return Edit(**base)
        if action.type in (ActionType.relabel, ActionType.flag):  # a flag a person gave a label is a relabel
            base["action"] = ActionType.relabel
            if not self.roles.label:
                return "relabel needs a label column and this dataset has none"
            column = self.roles.label
            wanted = decided.new_label if decided.new_label is not None else action.new_label
            known, new_label = work.label_class(column, wanted)
            if not known:
                return f"label {wanted!r} is not a class of column {column!r}: no row holds it"
        else:
            column, new_label = action.column, action.new_value
            if column not in self.data_columns:
                return f"edit_cell names an unknown column {column!r}"
        old = work.get(row, column)
        if _same(old, new_label):
            return f"row {row}'s {column} is already {jsonable(old)!r}"
        return Edit(**{**base, "column": column, "old_value": jsonable(old), "new_value": jsonable(new_label)})

    def apply(self, proposal: Proposal, decision: Decision) -> OperationResult:
        """Apply the approved findings of a proposal as one new version. Conflicts are reported, not applied."""
        if decision.proposal_id != proposal.proposal_id:
            raise ValueError("decision is for another proposal")
        undecided = [f.finding_id for f in proposal.findings if f.finding_id not in decision.findings]
        if undecided:
            raise ValueError(f"{len(undecided)} finding(s) of proposal {proposal.proposal_id} are not decided")
        # Read the head, edit it and commit the child in one write transaction: a writer in another
        # process waits, then builds on this version instead of on the one both read (a lost update).
        with self._transaction():
            work = _Working(self._frame(self.head()))
            if self.roles.label:  # before any relabel: it would break the one-to-one naming being looked for
                work.companions(self.roles.label, self.data_columns)
            edits: list[Edit] = []
            conflicts: list[Conflict] = []
            approved = rejected = 0
            for finding in proposal.findings:
                decided = decision.findings[finding.finding_id]
                if not decided.approve:
                    rejected += 1
                    continue
                approved += 1
                planned = self._plan_edit(work, finding, decided)
                if isinstance(planned, str):
                    conflicts.append(Conflict(row_id=finding.row_id, finding_id=finding.finding_id, reason=planned))
                    continue
                problem = self._apply_edit(work, planned, forward=True)
                if problem:
                    conflicts.append(Conflict(row_id=finding.row_id, finding_id=finding.finding_id, reason=problem))
                    continue
                edits.append(planned)
                for companion in self._companion_edits(work, planned):
                    self._apply_edit(work, companion, forward=True)
                    edits.append(companion)
            self._insert_proposal(proposal)
            changes_data = any(e.action != ActionType.flag for e in edits)
            before, after = (
                self._commit_version(work.result(), f"{proposal.tool}: {len(edits)} edits")
                if changes_data
                else (self.head(), self.head())
            )
            cur = self._db.execute(
                "INSERT INTO decisions (proposal_id, tool, decided_by, reason, decided_at, approved, rejected,"
                " conflicts, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'applied')",
                (
                    proposal.proposal_id,
                    proposal.tool,
                    decision.deciders(),
                    decision.reason,
                    _now(),
                    approved,
                    rejected,
                    json.dumps([c.model_dump() for c in conflicts]),
                ),
            )
            decision_id = int(cur.lastrowid)
            self._db.executemany(
                "INSERT INTO edits (decision_id, row_id, action, col, old_value, new_value, finding_id, issue, score)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        decision_id,
                        e.row_id,
                        e.action.value,
                        e.column,
                        _dump(e.old_value),
                        _dump(e.new_value),
                        e.finding_id,
                        e.issue,
                        e.score,
                    )
                    for e in edits
                ],
            )
            self._db.executemany(
                "INSERT INTO finding_decisions VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (decision_id, d.finding_id, int(d.approve), _dump(d.new_label), d.decided_by, d.reason)
                    for d in decision.findings.values()
                ],
            )
            self._record_op("apply", decision_id, before, after, decision.deciders())
        return OperationResult(
            op="apply",
            decision_id=decision_id,
            version_before=before,
            version_after=after,
            edits=edits,
            conflicts=conflicts,
            rejected=rejected,
        )

    def _insert_proposal(self, proposal: Proposal) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO proposals VALUES (?, ?, ?, ?)",
            (proposal.proposal_id, proposal.tool, proposal.model_dump_json(), proposal.created_at.isoformat()),
        )

    def store_proposal(self, proposal: Proposal) -> None:
        """Keep a proposal before it is decided (a run's worker): the ledger is the one proposal store."""
        with self._transaction():
            self._insert_proposal(proposal)

    def has_proposal(self, proposal_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM proposals WHERE proposal_id=?", (proposal_id,)).fetchone() is not None

    def n_rows(self, version_id: int | None = None) -> int:
        """A version's row count, from the versions table (no data file is read)."""
        version = version_id or self.head()
        row = self._db.execute("SELECT n_rows FROM versions WHERE version_id=?", (version,)).fetchone()
        if row is None:
            raise UserInputError(f"No version v{version} in {self.root} (see `curate log`).")
        return int(row[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One SQLite write transaction: committed whole, or rolled back (also on KeyboardInterrupt). A write the
        disk refuses (full, read-only) is a WriteFailed naming the workspace: nothing of it is current."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                raise
        except (sqlite3.OperationalError, OSError) as error:
            if not is_write_failure(error):
                raise
            raise WriteFailed(self.root, "the workspace", error) from None

    def _record_op(self, op: str, decision_id: int, before: int, after: int, by: str) -> None:
        self._db.execute(
            "INSERT INTO operations (op, decision_id, version_before, version_after, at, by) VALUES (?, ?, ?, ?, ?, ?)",
            (op, decision_id, before, after, _now(), by),
        )

    # ---- undo / redo ------------------------------------------------------------------------
    def edits_of(self, decision_id: int) -> list[Edit]:
        rows = self._db.execute(
            "SELECT e.row_id, e.action, e.col, e.old_value, e.new_value, e.finding_id, e.issue, e.score,"
            " f.decided_by FROM edits e LEFT JOIN finding_decisions f USING (decision_id, finding_id)"
            " WHERE e.decision_id=? ORDER BY e.edit_id",
            (decision_id,),
        )
        return [
            Edit(
                row_id=r[0],
                action=r[1],
                column=r[2],
                old_value=json.loads(r[3]),
                new_value=json.loads(r[4]),
                finding_id=r[5],
                issue=r[6],
                score=r[7],
                decided_by=r[8],
            )
            for r in rows
        ]

    def _status(self, decision_id: int) -> str:
        row = self._db.execute("SELECT status FROM decisions WHERE decision_id=?", (decision_id,)).fetchone()
        if row is None:
            raise UserInputError(f"No decision #{decision_id} in {self.root} (see `curate log`).")
        return str(row[0])

    def _replay(self, op: str, decision_id: int | None, by: str) -> OperationResult:
        """Undo or redo under the write lock: the decision's status is checked and changed in one transaction."""
        forward = op == "redo"
        with self._transaction():
            decision_id = self._redo_target(decision_id) if forward else self._undo_target(decision_id)
            edits = self.edits_of(decision_id)
            work = _Working(self._frame(self.head()))
            done: list[Edit] = []
            conflicts: list[Conflict] = []
            for edit in edits if forward else list(reversed(edits)):
                problem = self._apply_edit(work, edit, forward=forward)
                if problem:
                    conflicts.append(Conflict(row_id=edit.row_id, finding_id=edit.finding_id, reason=problem))
                else:
                    done.append(edit)
            if any(e.action != ActionType.flag for e in done):
                before, after = self._commit_version(work.result(), f"{op} of decision #{decision_id}")
            else:
                before = after = self.head()
            self._db.execute(
                "UPDATE decisions SET status=? WHERE decision_id=?", ("applied" if forward else "undone", decision_id)
            )
            self._record_op(op, decision_id, before, after, by)
        return OperationResult(
            op=op, decision_id=decision_id, version_before=before, version_after=after, edits=done, conflicts=conflicts
        )

    def _undo_target(self, decision_id: int | None) -> int:
        if decision_id is None:
            row = self._db.execute(
                "SELECT decision_id FROM decisions WHERE status='applied' ORDER BY decision_id DESC LIMIT 1"
            ).fetchone()
            if row is None:
                raise UserInputError(f"Nothing to undo in {self.root}: no applied decision.")
            return int(row[0])
        if self._status(decision_id) != "applied":
            raise UserInputError(f"Decision #{decision_id} is already undone.")
        return decision_id

    def _redo_target(self, decision_id: int | None) -> int:
        if decision_id is None:
            row = self._db.execute(
                "SELECT o.decision_id FROM operations o JOIN decisions d USING (decision_id)"
                " WHERE o.op='undo' AND d.status='undone' ORDER BY o.op_id DESC LIMIT 1"
            ).fetchone()
            if row is None:
                raise UserInputError(f"Nothing to redo in {self.root}: no undone decision.")
            return int(row[0])
        if self._status(decision_id) != "undone":
            raise UserInputError(f"Decision #{decision_id} is not undone, so there is nothing to redo.")
        return decision_id

    def undo(self, decision_id: int | None = None, by: str = "user") -> OperationResult:
        """Revert a decision (default: the latest applied one). Later edits to the same cells are conflicts."""
        return self._replay("undo", decision_id, by)

    def redo(self, decision_id: int | None = None, by: str = "user") -> OperationResult:
        """Re-apply an undone decision (default: the most recently undone one)."""
        return self._replay("redo", decision_id, by)

    # ---- questions --------------------------------------------------------------------------
    def decisions(self) -> list[DecisionInfo]:
        rows = self._db.execute(
            "SELECT d.decision_id, d.proposal_id, d.tool, d.decided_by, d.decided_at, d.reason, d.approved,"
            " d.rejected, d.status, d.conflicts, (SELECT COUNT(*) FROM edits e WHERE e.decision_id=d.decision_id)"
            " FROM decisions d ORDER BY d.decision_id"
        )
        return [
            DecisionInfo(
                decision_id=r[0],
                proposal_id=r[1],
                tool=r[2],
                decided_by=r[3],
                decided_at=r[4],
                reason=r[5],
                approved=r[6],
                rejected=r[7],
                status=r[8],
                conflicts=[Conflict(**c) for c in json.loads(r[9])],
                n_edits=r[10],
            )
            for r in rows
        ]

    def deciders(self) -> dict[str, dict[str, int]]:
        """Findings approved and rejected per decider, over the applied decisions (from each finding's record)."""
        counts: dict[str, dict[str, int]] = {}
        for by, approve, n in self._db.execute(
            "SELECT f.decided_by, f.approve, COUNT(*) FROM finding_decisions f JOIN decisions d USING (decision_id)"
            " WHERE d.status='applied' GROUP BY f.decided_by, f.approve ORDER BY f.decided_by"
        ):
            counts.setdefault(by, {"approved": 0, "rejected": 0})["approved" if approve else "rejected"] += n
        return counts

    def approvals(self, decision_id: int) -> dict[str, bool]:
        """Each finding of a decision: approved or not."""
        rows = self._db.execute(
            "SELECT finding_id, approve FROM finding_decisions WHERE decision_id=?", (decision_id,)
        ).fetchall()
        return {finding_id: bool(approve) for finding_id, approve in rows}

    def outcomes(self, info: DecisionInfo, names: dict[str, str] | None = None) -> dict[str, str]:
        """What became of each finding of a decision, as a person reads it: rejected (the row stays), dropped,
        relabelled to X (by name where `names` has it), kept and listed (an approved flag), not applied (a
        conflict), or undone."""
        approvals = self.approvals(info.decision_id)
        done: dict[str, str] = {}
        for edit in self.edits_of(info.decision_id):
            if edit.action == ActionType.drop:
                done[edit.finding_id] = "dropped"
            elif edit.action == ActionType.relabel:
                label = str(edit.new_value)
                done[edit.finding_id] = f"relabelled to {named_label(label, (names or {}).get(label))}"
            elif edit.action == ActionType.flag:
                done[edit.finding_id] = "kept and listed for a person (flagged.jsonl)"
            elif edit.finding_id not in done:
                done[edit.finding_id] = {ActionType.add_rows: "added", ActionType.edit_cell: "edited"}[edit.action]
        conflicts = {c.finding_id: c.reason for c in info.conflicts}
        outcomes = {}
        for finding_id, approved in approvals.items():
            if not approved:
                outcomes[finding_id] = "rejected: the row stays as it was"
            elif finding_id in conflicts:
                outcomes[finding_id] = f"approved, not applied: {conflicts[finding_id]}"
            else:
                outcomes[finding_id] = done.get(finding_id, "approved")
            if info.status == "undone" and approved:
                outcomes[finding_id] += " (then undone)"
        return outcomes

    def proposal(self, proposal_id: str) -> Proposal:
        row = self._db.execute("SELECT body FROM proposals WHERE proposal_id=?", (proposal_id,)).fetchone()
        if row is None:
            raise UserInputError(f"No proposal {proposal_id} in {self.root}.")
        raw = json.loads(row[0])
        formats.check("proposal", raw.get(formats.KEY, 1), formats.PROPOSAL, f"{self.root}: proposal {proposal_id}")
        return Proposal.model_validate(raw)

    def _changed_cells(self, a: pd.DataFrame, b: pd.DataFrame, rows: pd.Index) -> list[CellChange]:
        columns = [c for c in self.data_columns if c in a.columns and c in b.columns]
        left, right = a.loc[rows, columns].astype(object), b.loc[rows, columns].astype(object)
        differs = pd.DataFrame(
            {c: _cells_differ(left[c], right[c], a[c].dtype == object or b[c].dtype == object) for c in columns}
        )
        changed = []
        for row, col in zip(*np.nonzero(differs.to_numpy()), strict=True):
            old, new = left.iat[row, col], right.iat[row, col]
            if not _same(old, new):
                changed.append(
                    CellChange(row_id=str(rows[row]), column=columns[col], old=jsonable(old), new=jsonable(new))
                )
        return changed

    def diff(self, version_a: int, version_b: int) -> VersionDiff:
        a, b = self._frame(version_a), self._frame(version_b)
        removed = [r for r in a.index if r not in b.index]
        added = [r for r in b.index if r not in a.index]
        changed = self._changed_cells(a, b, a.index.intersection(b.index, sort=False))
        texts = {**self._texts(a, removed), **self._texts(b, added + [c.row_id for c in changed])}
        return VersionDiff(
            version_a=version_a, version_b=version_b, removed=removed, added=added, changed=changed, texts=texts
        )

    def _texts(self, frame: pd.DataFrame, rows: list[str]) -> dict[str, str]:
        """These rows' texts in a version's frame ({} without a text column)."""
        if not self.roles.text or not rows:
            return {}
        picked = frame.loc[list(dict.fromkeys(rows))].drop(columns=list(INTERNAL)).rename_axis(ROW_ID)
        data = Dataset(frame=picked, roles=self.roles, source=self.source, ids_generated=self.ids_generated)
        return {str(k): v for k, v in data.texts().items()}

    def explain(self, row_id: str) -> RowHistory:
        """Everything that happened to one row: each edit, who decided, why, with the tool's evidence."""
        rows = self._db.execute(
            "SELECT e.decision_id, d.status, d.tool, e.issue, e.action, e.col, e.old_value, e.new_value, e.score,"
            " COALESCE(f.decided_by, d.decided_by), d.decided_at, COALESCE(NULLIF(f.reason, ''), d.reason),"
            " d.proposal_id, e.finding_id FROM edits e JOIN decisions d USING (decision_id)"
            " LEFT JOIN finding_decisions f USING (decision_id, finding_id) WHERE e.row_id=? ORDER BY e.edit_id",
            (str(row_id),),
        ).fetchall()
        events = []
        proposals: dict[str, Proposal] = {}  # each read and parsed once, however many of its edits touched the row
        for r in rows:
            if r[12] not in proposals:
                proposals[r[12]] = self.proposal(r[12])
            finding = next((f for f in proposals[r[12]].findings if f.finding_id == r[13]), None)
            events.append(
                RowEvent(
                    decision_id=r[0],
                    op_status=r[1],
                    tool=r[2],
                    issue=r[3],
                    action=r[4],
                    column=r[5],
                    old_value=json.loads(r[6]),
                    new_value=json.loads(r[7]),
                    score=r[8],
                    decided_by=r[9],
                    decided_at=r[10],
                    reason=r[11],
                    message=finding.message if finding else "",
                    evidence=finding.evidence.model_dump(exclude_none=True) if finding else {},
                )
            )
        frame = self._frame(self.head())
        present = str(row_id) in frame.index
        if not present and not events and str(row_id) not in self._frame(1).index:
            raise UserInputError(f"No row with id '{row_id}' in this dataset or its history.")
        current = None
        if present:
            current = {c: jsonable(v) for c, v in frame.loc[str(row_id)].items() if c not in INTERNAL}
        text = self._texts(frame, [str(row_id)]).get(str(row_id)) if present else None
        removed = [e for e in events if e.action == ActionType.drop.value and isinstance(e.old_value, dict)]
        if text is None and removed:  # as it was when it was removed
            record = pd.DataFrame([removed[-1].old_value]).set_index(ROW_COL, drop=False)
            text = self._texts(record.assign(**{ORD_COL: 0.0}), [str(row_id)]).get(str(row_id))
        names = {}
        if self.roles.label and any(e.column == self.roles.label for e in events):  # the input's and the current
            names = {**self.label_names(1), **self.label_names()}
        return RowHistory(
            row_id=str(row_id), present=present, current=current, text=text, events=events, label_names=names
        )

    def label_names(self, version_id: int | None = None) -> dict[str, str]:
        """class (as text) -> its name in a version (default: current), where a column names the label one-to-one
        (label + label_name); else {}."""
        if not self.roles.label:
            return {}
        frame = self._frame(version_id or self.head()).drop(columns=list(INTERNAL))
        return {str(k): str(v) for k, v in class_names(frame, self.roles.label, self.roles.text).items()}

    def run_folder(self) -> Path | None:
        """The run folder this ledger belongs to (`RUN/workspace/ledger`), or None for a data file's workspace."""
        folder = self.root.resolve().parent.parent
        return folder if self.root.resolve().parent.name == "workspace" and is_run_folder(folder) else None

    def export(self, path: Path, version_id: int | None = None, what: str = "--out") -> Path:
        """Write a version (default: current) as a plain data file; format from the file name. The path is checked
        by `check_output`: never the input, the workspace, another run's files or a run's records.

        In the input's format, every cell no applied edit changed is written exactly as it was read."""
        path = check_output(Path(path), reads=[self.source.path], owner=self.run_folder(), what=what)
        fmt, compressed = detect_format(path)
        version = version_id or self.head()
        original = self._source_rows() if can_write_back(self.source.format, fmt) else None
        written = False
        if original is not None:
            try:
                write_back(original, self._output_rows(version), path, fmt, compressed)
                written = True
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
                pass  # an edit changed a Parquet column's type: write the version as pandas types it
        if not written:
            write_table(self.dataset(version).frame.reset_index(drop=True), path, fmt, compressed)
        with self._transaction():  # what left the workspace, by hash: `curate audit` reports it
            self._db.execute(
                "INSERT INTO exports (path, sha256, version_id, at) VALUES (?, ?, ?, ?)",
                (str(path.resolve()), hashlib.sha256(path.read_bytes()).hexdigest(), version, _now()),
            )
        return path

    def exports(self) -> list[ExportInfo]:
        rows = self._db.execute("SELECT path, sha256, version_id, at FROM exports ORDER BY export_id")
        return [ExportInfo(path=r[0], sha256=r[1], version_id=r[2], at=r[3]) for r in rows]

    def _source_rows(self) -> SourceTable | None:
        """The input's rows as read: the workspace's copy, or the input file while it is unchanged."""
        copy = self.root / self.source_copy if self.source_copy else None
        if copy is not None:
            check_recorded(copy, self.source.sha256, "the workspace's copy of the input")
            return read_source(copy, self.source.sep)
        original = Path(self.source.path)
        if original.is_file() and hashlib.sha256(original.read_bytes()).hexdigest() == self.source.sha256:
            return read_source(original, self.source.sep)
        return None

    def _output_rows(self, version_id: int) -> list[OutputRow]:
        final = self._frame(version_id).sort_values(ORD_COL)
        first = self._frame(1)
        changes: dict[str, dict[str, Any]] = {}
        for cell in self._changed_cells(first, final, final.index.intersection(first.index, sort=False)):
            changes.setdefault(cell.row_id, {})[cell.column] = cell.new
        positions = first[ORD_COL].astype(np.int64)  # version 1 holds the input in file order
        rows = []
        for row_id in final.index:
            if row_id in positions.index:
                rows.append(OutputRow(position=int(positions[row_id]), values=changes.get(row_id, {})))
            else:
                record = final.loc[row_id]
                rows.append(OutputRow(position=None, values={c: jsonable(record[c]) for c in self.data_columns}))
        return rows
