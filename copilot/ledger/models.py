"""What the ledger answers with: edits, operations, decisions, versions, diffs and a row's history."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from curation_tools.schema import ActionType


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
    notes: list[str] = Field(default_factory=list, description="what the operation could not do (a forgotten value)")


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
