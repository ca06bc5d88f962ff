"""Questions about a workspace's history, answered from its store without changing anything: the versions as
datasets, the decisions and their edits, what became of each finding, diffs, a row's history, label names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from copilot.core.guidance import Guidance, GuidanceCheck, GuidanceRule, combined
from copilot.core.output_paths import is_run_folder
from copilot.ledger.models import (
    CellChange,
    Conflict,
    DecisionInfo,
    Edit,
    ExportInfo,
    RowEvent,
    RowHistory,
    VersionDiff,
    VersionInfo,
)
from copilot.ledger.store import INTERNAL, ORD_COL, ROW_COL, Store
from copilot.ledger.values import cells_differ, comparable_as_stored, jsonable, same
from curation_tools.collector import many_objects
from curation_tools.dataset import Dataset, DataSource, Roles
from curation_tools.errors import UserInputError
from curation_tools.io import ROW_ID
from curation_tools.label_names import class_names, named_label
from curation_tools.schema import ActionType, Proposal


class Queries:
    """Read-only questions, for the Ledger; `store` is the workspace's storage."""

    store: Store

    @property
    def root(self) -> Path:
        return self.store.root

    @property
    def source(self) -> DataSource:
        return self.store.source

    @property
    def roles(self) -> Roles:
        return self.store.roles

    @property
    def data_columns(self) -> list[str]:
        return self.store.data_columns

    # ---- versions ------------------------------------------------------------------------------------------
    def head(self) -> int:
        return self.store.head()

    def versions(self) -> list[VersionInfo]:
        return self.store.versions()

    def n_rows(self, version_id: int | None = None) -> int:
        return self.store.n_rows(version_id)

    def dataset(self, version_id: int | None = None) -> Dataset:
        """A version (default: the current one) as a Dataset for tools."""
        frame = self.store.frame(version_id or self.head()).sort_values(ORD_COL)
        data = frame.drop(columns=list(INTERNAL)).rename_axis(ROW_ID)
        return Dataset(frame=data, roles=self.roles, source=self.source, ids_generated=self.store.ids_generated)

    def label_names(self, version_id: int | None = None) -> dict[str, str]:
        """class (as text) -> its name in a version (default: current), where a column names the label one-to-one
        (label + label_name); else {}."""
        if not self.roles.label:
            return {}
        frame = self.store.frame(version_id or self.head()).drop(columns=list(INTERNAL))
        return {str(k): str(v) for k, v in class_names(frame, self.roles.label, self.roles.text).items()}

    def run_folder(self) -> Path | None:
        """The run folder this ledger belongs to (`RUN/workspace/ledger`), or None for a data file's workspace."""
        folder = self.root.resolve().parent.parent
        return folder if self.root.resolve().parent.name == "workspace" and is_run_folder(folder) else None

    # ---- proposals and decisions ---------------------------------------------------------------------------
    def proposal(self, proposal_id: str) -> Proposal:
        return self.store.proposal(proposal_id)

    def has_proposal(self, proposal_id: str) -> bool:
        return self.store.has_proposal(proposal_id)

    def guidance_rules(self) -> list[GuidanceRule]:
        """The guidance in force: every rule added and not removed, oldest first."""
        if not self.store.has_table("guidance"):
            return []
        rows = self.store.db.execute(
            "SELECT rule_id, body, words, source, parser, added_by, added_at FROM guidance WHERE removed_at IS NULL "
            "ORDER BY rule_id"
        ).fetchall()
        return [
            GuidanceRule(
                rule_id=r["rule_id"],
                guidance=Guidance.model_validate_json(r["body"]),
                words=r["words"],
                source=r["source"],
                parser=r["parser"],
                added_by=r["added_by"],
                added_at=r["added_at"],
            )
            for r in rows
        ]

    def guidance(self) -> Guidance:
        return combined(self.guidance_rules())

    def guidance_check(self) -> GuidanceCheck:
        """What guidance decides of a finding on the current version's rows."""
        guidance = self.guidance()
        rows = self.dataset().frame if not guidance.is_empty() else None  # indexed by row id

        def row_of(row_id: str) -> dict[str, Any] | None:
            return None if rows is None or row_id not in rows.index else rows.loc[row_id].to_dict()

        return GuidanceCheck(guidance, row_of, self.roles.label)

    def decisions(self) -> list[DecisionInfo]:
        rows = self.store.db.execute(
            "SELECT d.decision_id, d.proposal_id, d.tool, d.decided_by, d.decided_at, d.reason, d.approved,"
            " d.rejected, d.status, d.conflicts,"
            " (SELECT COUNT(*) FROM edits e WHERE e.decision_id=d.decision_id) AS n_edits"
            " FROM decisions d ORDER BY d.decision_id"
        )
        return [
            DecisionInfo(**{**dict(r), "conflicts": [Conflict(**c) for c in json.loads(r["conflicts"])]}) for r in rows
        ]

    def edits_of(self, decision_id: int) -> list[Edit]:
        cached = self.store.read_cache.get("edits", decision_id)
        if cached is not None:
            return cached
        rows = self.store.db.execute(
            "SELECT e.row_id, e.action, e.col AS column, e.old_value, e.new_value, e.finding_id, e.issue, e.score,"
            " f.decided_by FROM edits e LEFT JOIN finding_decisions f USING (decision_id, finding_id)"
            " WHERE e.decision_id=? ORDER BY e.edit_id",
            (decision_id,),
        )
        with many_objects():
            edits = [
                Edit(**{**dict(r), "old_value": json.loads(r["old_value"]), "new_value": json.loads(r["new_value"])})
                for r in rows
            ]
        self.store.read_cache.put("edits", decision_id, edits)
        return edits

    def deciders(self) -> dict[str, dict[str, int]]:
        """Findings approved and rejected per decider, over the applied decisions (from each finding's record)."""
        counts: dict[str, dict[str, int]] = {}
        for r in self.store.db.execute(
            "SELECT f.decided_by, f.approve, COUNT(*) AS n FROM finding_decisions f JOIN decisions d"
            " USING (decision_id) WHERE d.status='applied' GROUP BY f.decided_by, f.approve ORDER BY f.decided_by"
        ):
            tally = counts.setdefault(r["decided_by"], {"approved": 0, "rejected": 0})
            tally["approved" if r["approve"] else "rejected"] += r["n"]
        return counts

    def approvals(self, decision_id: int) -> dict[str, bool]:
        """Each finding of a decision: approved or not."""
        rows = self.store.db.execute(
            "SELECT finding_id, approve FROM finding_decisions WHERE decision_id=?", (decision_id,)
        ).fetchall()
        return {r["finding_id"]: bool(r["approve"]) for r in rows}

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

    def exports(self) -> list[ExportInfo]:
        rows = self.store.db.execute("SELECT path, sha256, version_id, at FROM exports ORDER BY export_id")
        return [ExportInfo(**dict(r)) for r in rows]

    # ---- changes -------------------------------------------------------------------------------------------
    def changed_cells(self, a: pd.DataFrame, b: pd.DataFrame, rows: pd.Index) -> list[CellChange]:
        columns = [c for c in self.data_columns if c in a.columns and c in b.columns]
        left, right = a.loc[rows, columns], b.loc[rows, columns]
        found: list[tuple[int, int, CellChange]] = []
        for position, column in enumerate(columns):
            old, new = left[column], right[column]
            nested = a[column].dtype == object or b[column].dtype == object
            if nested or not comparable_as_stored(old, new):
                old, new = old.astype(object), new.astype(object)
            candidates = np.flatnonzero(cells_differ(old, new, nested).to_numpy(dtype=bool, na_value=True))
            # only candidates become Python objects: a text column of every row as objects, twice, was most of
            # an export's memory at 2M rows
            olds, news = old.iloc[candidates].astype(object), new.iloc[candidates].astype(object)
            for row, was, now in zip(candidates.tolist(), olds, news, strict=True):
                if not same(was, now):
                    change = CellChange(row_id=str(rows[row]), column=column, old=jsonable(was), new=jsonable(now))
                    found.append((row, position, change))
        return [change for _, _, change in sorted(found, key=lambda f: f[:2])]

    def diff(self, version_a: int, version_b: int) -> VersionDiff:
        a, b = self.store.frame(version_a), self.store.frame(version_b)
        removed = [r for r in a.index if r not in b.index]
        added = [r for r in b.index if r not in a.index]
        changed = self.changed_cells(a, b, a.index.intersection(b.index, sort=False))
        texts = {**self._texts(a, removed), **self._texts(b, added + [c.row_id for c in changed])}
        return VersionDiff(
            version_a=version_a, version_b=version_b, removed=removed, added=added, changed=changed, texts=texts
        )

    def _texts(self, frame: pd.DataFrame, rows: list[str]) -> dict[str, str]:
        """These rows' texts in a version's frame ({} without a text column)."""
        if not self.roles.text or not rows:
            return {}
        picked = frame.loc[list(dict.fromkeys(rows))].drop(columns=list(INTERNAL)).rename_axis(ROW_ID)
        data = Dataset(frame=picked, roles=self.roles, source=self.source, ids_generated=self.store.ids_generated)
        return {str(k): v for k, v in data.texts().items()}

    def explain(self, row_id: str) -> RowHistory:
        """Everything that happened to one row: each edit, who decided, why, with the tool's evidence."""
        rows = self.store.db.execute(
            "SELECT e.decision_id, d.status AS op_status, d.tool, e.issue, e.action, e.col AS column, e.old_value,"
            " e.new_value, e.score, COALESCE(f.decided_by, d.decided_by) AS decided_by, d.decided_at,"
            " COALESCE(NULLIF(f.reason, ''), d.reason) AS reason, d.proposal_id, e.finding_id"
            " FROM edits e JOIN decisions d USING (decision_id)"
            " LEFT JOIN finding_decisions f USING (decision_id, finding_id) WHERE e.row_id=? ORDER BY e.edit_id",
            (str(row_id),),
        ).fetchall()
        events = []
        proposals: dict[str, Proposal] = {}  # each read and parsed once, however many of its edits touched the row
        for r in rows:
            record = dict(r)
            pid, fid = record.pop("proposal_id"), record.pop("finding_id")
            if pid not in proposals:
                proposals[pid] = self.proposal(pid)
            finding = next((f for f in proposals[pid].findings if f.finding_id == fid), None)
            record.update(old_value=json.loads(r["old_value"]), new_value=json.loads(r["new_value"]))
            events.append(
                RowEvent(
                    **record,
                    message=finding.message if finding else "",
                    evidence=finding.evidence.model_dump(exclude_none=True) if finding else {},
                )
            )
        frame = self.store.frame(self.head())
        present = str(row_id) in frame.index
        if not present and not events and str(row_id) not in self.store.frame(1).index:
            raise UserInputError(f"No row with id '{row_id}' in this dataset or its history.")
        current = None
        if present:
            current = {c: jsonable(v) for c, v in frame.loc[str(row_id)].items() if c not in INTERNAL}
        text = self._texts(frame, [str(row_id)]).get(str(row_id)) if present else None
        removed = [e for e in events if e.action == ActionType.drop.value and isinstance(e.old_value, dict)]
        if text is None and removed:  # as it was when it was removed
            record_frame = pd.DataFrame([removed[-1].old_value]).set_index(ROW_COL, drop=False)
            text = self._texts(record_frame.assign(**{ORD_COL: 0.0}), [str(row_id)]).get(str(row_id))
        names = {}
        if self.roles.label and any(e.column == self.roles.label for e in events):  # the input's and the current
            names = {**self.label_names(1), **self.label_names()}
        return RowHistory(
            row_id=str(row_id), present=present, current=current, text=text, events=events, label_names=names
        )
