"""Redaction that forgets: once a redaction (an edit whose finding replaces a span, `Action.replace`) is applied,
the replaced text is removed from what the workspace keeps.

- every version file: the redacted cells (row and column of each redaction) with the value replaced by a marker
  (`[EMAIL forgotten]`), written as new files recorded in the same transaction as the rest, old files deleted;
- the workspace's copy of the input: deleted (untouched cells are exported from the input itself while it is
  unchanged, or from the version);
- every text cell of the ledger (proposal bodies with their evidence, edits' old values, conflicts, reasons),
  with SQLite's secure delete, then VACUUM: no free page keeps the old bytes;
- the `forgotten` table records which edits were forgotten, when, and what an undo cannot restore.

The run's other files (checkpoints, events, reports) are the session's to scrub (`run.session`).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pandas as pd
from pydantic import BaseModel

from copilot.core.integrity import file_sha256
from copilot.core.scrub import Replacement, compact, holds_any, scrub_sqlite, scrub_value
from copilot.ledger.models import Edit
from copilot.ledger.store import ROW_COL, Store, read_version, write_version
from copilot.ledger.values import dump, jsonable, now
from curation_tools.atomic_files import write_text_atomic
from curation_tools.schema import Finding

FORGOTTEN_SQL = """
CREATE TABLE IF NOT EXISTS forgotten (
    edit_id INTEGER PRIMARY KEY REFERENCES edits(edit_id), row_id TEXT NOT NULL, col TEXT NOT NULL,
    marker TEXT NOT NULL, at TEXT NOT NULL)
"""


class Redaction(BaseModel):
    """An applied redaction whose value is still kept somewhere: held in memory only while it is forgotten."""

    edit_id: int
    row_id: str
    column: str
    value: str
    marker: str

    @property
    def replacement(self) -> Replacement:
        return self.value, self.marker


def marker_for(placeholder: str) -> str:
    """What a forgotten value becomes in the records: '[EMAIL]' -> '[EMAIL forgotten]'."""
    if placeholder.startswith("[") and placeholder.endswith("]"):
        return f"{placeholder[:-1]} forgotten]"
    return "[forgotten]"


def redactions_to_forget(store: Store) -> list[Redaction]:
    """Applied redactions not yet forgotten, with the values they replaced (read from their findings)."""
    has_forgotten = store.has_table("forgotten")
    rows = store.db.execute(
        "SELECT e.edit_id, e.row_id, e.col, e.finding_id, d.proposal_id FROM edits e JOIN decisions d"
        " USING (decision_id) WHERE d.status='applied' AND e.action='edit_cell'"
        + (" AND e.edit_id NOT IN (SELECT edit_id FROM forgotten)" if has_forgotten else "")
        + " ORDER BY e.edit_id"
    ).fetchall()
    found: list[Redaction] = []
    findings: dict[str, dict[str, Finding]] = {}
    for row in rows:
        if row["proposal_id"] not in findings:
            findings[row["proposal_id"]] = {f.finding_id: f for f in store.proposal(row["proposal_id"]).findings}
        finding = findings[row["proposal_id"]].get(row["finding_id"])
        if finding is not None and finding.action.replace:
            found.append(
                Redaction(
                    edit_id=row["edit_id"],
                    row_id=row["row_id"],
                    column=row["col"],
                    value=finding.action.replace,
                    marker=marker_for(str(finding.action.new_value or "")),
                )
            )
    return found


def _scrubbed_version(frame: pd.DataFrame, redactions: list[Redaction]) -> pd.DataFrame | None:
    """The version with each redaction's value replaced in the cell it was in (other cells untouched); None when
    the version holds none of them there."""
    frame = frame.set_index(ROW_COL, drop=False)
    changed = False
    for redaction in redactions:
        if redaction.row_id not in frame.index or redaction.column not in frame.columns:
            continue
        before = jsonable(frame.at[redaction.row_id, redaction.column])
        after = scrub_value(before, [redaction.replacement])
        if dump(after) != dump(before):
            frame.at[redaction.row_id, redaction.column] = after
            changed = True
    return frame.reset_index(drop=True) if changed else None


def forget(store: Store, redactions: list[Redaction]) -> list[str]:
    """Forget the redactions' values in the workspace (see the module's doc). Returns what was rewritten."""
    if not redactions:
        return []
    done: list[str] = []
    rewritten: dict[int, tuple[Path, Path]] = {}  # version -> (its file now, the file without the values)
    for row in store.db.execute("SELECT version_id, file FROM versions ORDER BY version_id").fetchall():
        path = store.root / "versions" / row["file"]
        frame = _scrubbed_version(read_version(path), redactions)
        if frame is None:
            continue
        new = path.with_name(f"v{row['version_id']:06d}.{uuid.uuid4().hex[:8]}.parquet")
        write_version(frame, new)
        rewritten[row["version_id"]] = (path, new)
    replacements = [r.replacement for r in redactions]
    with store.transaction():
        store.db.execute(FORGOTTEN_SQL)
        for version_id, (_, new) in rewritten.items():
            store.db.execute(
                "UPDATE versions SET file=?, sha256=? WHERE version_id=?", (new.name, file_sha256(new), version_id)
            )
        scrub_sqlite(store.db, replacements)
        at = now()
        store.db.executemany(
            "INSERT OR IGNORE INTO forgotten VALUES (?, ?, ?, ?, ?)",
            [(r.edit_id, r.row_id, r.column, r.marker, at) for r in redactions],
        )
        if store.source_copy:
            meta_path = store.root / "workspace.json"
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            meta["source_copy"] = None
            text = json.dumps(meta, indent=2)
            write_text_atomic(meta_path, text)  # before the commit: a crash leaves the old hash -> refused, not read
            store.db.execute(
                "UPDATE workspace_files SET sha256=? WHERE name='workspace.json'", (file_sha256(meta_path),)
            )
    store.read_cache.clear()  # parsed proposals and edits held the values forgotten
    compact(store.db)
    for old, new in rewritten.values():
        old.unlink(missing_ok=True)
        done.append(f"version file {old.name} rewritten without the values ({new.name})")
    if store.source_copy:
        (store.root / store.source_copy).unlink(missing_ok=True)
        done.append(f"the workspace's copy of the input ({store.source_copy}) deleted")
        store.source_copy = None
    done.append(f"{len(redactions)} redacted values removed from the ledger (secure delete, then VACUUM)")
    exported = [Path(r["path"]) for r in store.db.execute("SELECT DISTINCT path FROM exports")]
    holding = [p for p in exported if p.is_file() and holds_any(p.read_bytes(), [r.value for r in redactions])]
    if holding:
        done.append(f"exported before the redaction and still holding its values: {', '.join(map(str, holding[:5]))}")
    return done


def forgotten_edits(store: Store) -> dict[tuple[str, str], str]:
    """(row_id, column) -> marker for each forgotten redaction."""
    if not store.has_table("forgotten"):
        return {}
    return {(r["row_id"], r["col"]): r["marker"] for r in store.db.execute("SELECT row_id, col, marker FROM forgotten")}


def unrestorable(store: Store, edits: list[Edit]) -> list[str]:
    """What an undo of these edits cannot bring back: the values of forgotten redactions, one line per cell."""
    forgotten = forgotten_edits(store)
    notes = [
        f"row {e.row_id}: {e.column} keeps {forgotten[(e.row_id, e.column)]!r}: the redacted value was forgotten "
        f"when the redaction was applied, so undo cannot bring it back"
        for e in edits
        if (e.row_id, e.column) in forgotten
    ]
    return list(dict.fromkeys(notes))


def leftovers(folder: Path, values: list[str]) -> list[Path]:
    """Files under `folder` whose bytes (Parquet: decoded values) still hold one of the values."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".parquet":
            data = pd.read_parquet(path).to_json(force_ascii=False).encode() + data
        if holds_any(data, values):
            found.append(path)
    return found
