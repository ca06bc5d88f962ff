"""The Ledger: a dataset's versions and decisions. Applying, undoing and redoing a decision reads the head, runs
the edit rules (`rules`) on it and commits the child in one write transaction of the store (`store`); questions
about the history are `queries`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from copilot.core.decisions import HUMAN, Decision
from copilot.core.guidance import GuidanceRule, edit_refusal
from copilot.core.locks import folder_lock
from copilot.core.output_paths import check_output
from copilot.ledger.forget import Redaction, forget, forgotten_edits, redactions_to_forget, unrestorable
from copilot.ledger.models import Conflict, Edit, OperationResult
from copilot.ledger.queries import Queries
from copilot.ledger.rules import Working, apply_edit, companion_edits, plan_edit
from copilot.ledger.store import GUIDANCE_SQL, ORD_COL, Store
from copilot.ledger.values import dump, jsonable, now
from curation_tools.collector import many_objects
from curation_tools.dataset import Dataset
from curation_tools.errors import UserInputError
from curation_tools.io import detect_format, write_table
from curation_tools.schema import ActionType, Proposal
from curation_tools.write_back import OutputRow, can_write_back, write_back


class Ledger(Queries):
    """One dataset's versions and decisions inside a workspace folder."""

    def __init__(self, root: Path) -> None:
        self.store = Store(root)

    @classmethod
    def open_or_create(cls, root: Path, data: Dataset) -> Ledger:
        """Open the workspace for this data, creating it (version 1 = the input) on first use."""
        root = Path(root)
        if not (root / "workspace.json").exists():
            with folder_lock(root, "this workspace", wait=True):  # two first uses at once: one creates
                if not (root / "workspace.json").exists():
                    Store.create(root, data)
        ledger = cls(root)
        if ledger.source.sha256 != data.source.sha256:
            raise UserInputError(
                f"{data.source.path} changed since the workspace {root} was created from it "
                f"(sha256 {ledger.source.sha256[:12]} then, {data.source.sha256[:12]} now). Pass a "
                f"new --workspace to start over, or restore the original file."
            )
        return ledger

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def store_proposal(self, proposal: Proposal) -> None:
        """Keep a proposal before it is decided (a run's worker): the ledger is the one proposal store."""
        with self.store.transaction():
            self.store.insert_proposal(proposal)

    # ---- guidance -------------------------------------------------------------------------------------------
    def add_guidance(self, rule: GuidanceRule) -> GuidanceRule:
        """Record a rule; every later apply obeys it. The same constraints from the same words and source are
        recorded once (a resumed run adds its goal again)."""
        body = rule.guidance.model_dump_json()
        with self.store.transaction():
            self.store.db.execute(GUIDANCE_SQL)
            same_rule = self.store.db.execute(
                "SELECT rule_id FROM guidance WHERE removed_at IS NULL AND body=? AND words=? AND source=?",
                (body, rule.words, rule.source),
            ).fetchone()
            if same_rule is not None:
                return rule.model_copy(update={"rule_id": same_rule["rule_id"]})
            at = now()
            cursor = self.store.db.execute(
                "INSERT INTO guidance (body, words, source, parser, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?)",
                (body, rule.words, rule.source, rule.parser, rule.added_by, at),
            )
        return rule.model_copy(update={"rule_id": int(cursor.lastrowid), "added_at": at})

    def remove_guidance(self, rule_id: int, by: str = HUMAN) -> GuidanceRule:
        """Take a rule back (it stays in the history with who removed it); edits made meanwhile stay."""
        with self.store.transaction():
            rule = next((r for r in self.guidance_rules() if r.rule_id == rule_id), None)
            if rule is None:
                raise UserInputError(f"No guidance rule {rule_id} in force.")
            self.store.db.execute(
                "UPDATE guidance SET removed_at=?, removed_by=? WHERE rule_id=?", (now(), by, rule_id)
            )
        return rule

    # ---- forgetting redactions ----------------------------------------------------------------------------
    def redactions_to_forget(self) -> list[Redaction]:
        return redactions_to_forget(self.store)

    def forget(self, redactions: list[Redaction]) -> list[str]:
        """Remove applied redactions' values from the workspace (copilot.ledger.forget); what was rewritten."""
        return forget(self.store, redactions)

    def forget_applied(self) -> list[str]:
        """Forget every applied redaction not forgotten yet (outside a run: `curate apply`, the Python API)."""
        return self.forget(self.redactions_to_forget())

    # ---- apply -----------------------------------------------------------------------------------------------
    def apply(self, proposal: Proposal, decision: Decision) -> OperationResult:
        """Apply the approved findings of a proposal as one new version. Conflicts are reported, not applied."""
        if decision.proposal_id != proposal.proposal_id:
            raise ValueError("decision is for another proposal")
        undecided = [f.finding_id for f in proposal.findings if f.finding_id not in decision.findings]
        if undecided:
            raise ValueError(f"{len(undecided)} finding(s) of proposal {proposal.proposal_id} are not decided")
        # Read the head, edit it and commit the child in one write transaction: a writer in another
        # process waits, then builds on this version instead of on the one both read (a lost update).
        with self.store.transaction(), many_objects():
            guidance = self.guidance()
            work = Working(self.store.frame(self.head()))
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
                planned = plan_edit(work, finding, decided, self.data_columns, self.roles.label)
                if isinstance(planned, Edit):  # the last line of guidance: whoever approved it
                    if planned.action == ActionType.drop:  # the row as plan_edit just read it
                        row = planned.old_value
                    else:
                        row = work.record(planned.row_id) if work.has(planned.row_id) else None
                    refusal = edit_refusal(
                        guidance,
                        proposal.tool,
                        planned.action,
                        planned.issue,
                        planned.row_id,
                        row,
                        self.roles.label,
                        planned.new_value,
                    )
                    planned = f"guidance: {refusal}" if refusal else planned
                problem = planned if isinstance(planned, str) else apply_edit(work, planned, forward=True)
                if problem:
                    conflicts.append(Conflict(row_id=finding.row_id, finding_id=finding.finding_id, reason=problem))
                    continue
                edits.append(planned)
                for companion in companion_edits(work, planned, self.data_columns):
                    apply_edit(work, companion, forward=True)
                    edits.append(companion)
            self.store.insert_proposal(proposal)
            changes_data = any(e.action != ActionType.flag for e in edits)
            before, after = (
                self.store.commit_version(work.result(), f"{proposal.tool}: {len(edits)} edits")
                if changes_data
                else (self.head(), self.head())
            )
            decision_id = self._record_decision(proposal, decision, edits, conflicts, (approved, rejected))
            self.store.record_op("apply", decision_id, before, after, decision.deciders())
        return OperationResult(
            op="apply",
            decision_id=decision_id,
            version_before=before,
            version_after=after,
            edits=edits,
            conflicts=conflicts,
            rejected=rejected,
        )

    def _record_decision(
        self,
        proposal: Proposal,
        decision: Decision,
        edits: list[Edit],
        conflicts: list[Conflict],
        counts: tuple[int, int],
    ) -> int:
        """The decision, its edits and each finding's answer, inside the caller's transaction."""
        db = self.store.db
        cursor = db.execute(
            "INSERT INTO decisions (proposal_id, tool, decided_by, reason, decided_at, approved, rejected,"
            " conflicts, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'applied')",
            (
                proposal.proposal_id,
                proposal.tool,
                decision.deciders(),
                decision.reason,
                now(),
                *counts,
                json.dumps([c.model_dump() for c in conflicts]),
            ),
        )
        decision_id = int(cursor.lastrowid)
        db.executemany(
            "INSERT INTO edits (decision_id, row_id, action, col, old_value, new_value, finding_id, issue, score)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    decision_id,
                    e.row_id,
                    e.action.value,
                    e.column,
                    dump(e.old_value),
                    dump(e.new_value),
                    e.finding_id,
                    e.issue,
                    e.score,
                )
                for e in edits
            ],
        )
        db.executemany(
            "INSERT INTO finding_decisions VALUES (?, ?, ?, ?, ?, ?)",
            [
                (decision_id, d.finding_id, int(d.approve), dump(d.new_label), d.decided_by, d.reason)
                for d in decision.findings.values()
            ],
        )
        return decision_id

    # ---- undo / redo -----------------------------------------------------------------------------------------
    def undo(self, decision_id: int | None = None, by: str = HUMAN) -> OperationResult:
        """Revert a decision (default: the latest applied one). Later edits to the same cells are conflicts."""
        return self._replay("undo", decision_id, by)

    def redo(self, decision_id: int | None = None, by: str = HUMAN) -> OperationResult:
        """Re-apply an undone decision (default: the most recently undone one)."""
        return self._replay("redo", decision_id, by)

    def _replay(self, op: str, decision_id: int | None, by: str) -> OperationResult:
        """Undo or redo under the write lock: the decision's status is checked and changed in one transaction."""
        forward = op == "redo"
        with self.store.transaction():
            decision_id = self._target(op, decision_id)
            edits = self.edits_of(decision_id)
            work = Working(self.store.frame(self.head()))
            done: list[Edit] = []
            conflicts: list[Conflict] = []
            for edit in edits if forward else list(reversed(edits)):
                problem = apply_edit(work, edit, forward=forward)
                if problem:
                    conflicts.append(Conflict(row_id=edit.row_id, finding_id=edit.finding_id, reason=problem))
                else:
                    done.append(edit)
            if any(e.action != ActionType.flag for e in done):
                before, after = self.store.commit_version(work.result(), f"{op} of decision #{decision_id}")
            else:
                before = after = self.head()
            self.store.db.execute(
                "UPDATE decisions SET status=? WHERE decision_id=?", ("applied" if forward else "undone", decision_id)
            )
            self.store.record_op(op, decision_id, before, after, by)
        return OperationResult(
            op=op,
            decision_id=decision_id,
            version_before=before,
            version_after=after,
            edits=done,
            conflicts=conflicts,
            notes=unrestorable(self.store, done) if op == "undo" else [],
        )

    def _target(self, op: str, decision_id: int | None) -> int:
        """The decision to undo (default: the latest applied) or redo (default: the latest undone), checked."""
        db = self.store.db
        wanted = "applied" if op == "undo" else "undone"
        if decision_id is None:
            latest = (
                "SELECT decision_id FROM decisions WHERE status='applied' ORDER BY decision_id DESC LIMIT 1"
                if op == "undo"
                else "SELECT o.decision_id FROM operations o JOIN decisions d USING (decision_id)"
                " WHERE o.op='undo' AND d.status='undone' ORDER BY o.op_id DESC LIMIT 1"
            )
            row = db.execute(latest).fetchone()
            if row is None:
                raise UserInputError(f"Nothing to {op} in {self.root}: no {wanted} decision.")
            return int(row["decision_id"])
        row = db.execute("SELECT status FROM decisions WHERE decision_id=?", (decision_id,)).fetchone()
        if row is None:
            raise UserInputError(f"No decision #{decision_id} in {self.root} (see `curate log`).")
        if row["status"] != wanted:
            raise UserInputError(
                f"Decision #{decision_id} is already undone."
                if op == "undo"
                else f"Decision #{decision_id} is not undone, so there is nothing to redo."
            )
        return decision_id

    # ---- export ----------------------------------------------------------------------------------------------
    def export(self, path: Path, version_id: int | None = None, what: str = "--out") -> Path:
        """Write a version (default: current) as a plain data file; format from the file name. The path is checked
        by `check_output`: never the input, the workspace, another run's files or a run's records.

        In the input's format, every cell no applied edit changed is written exactly as it was read."""
        path = check_output(Path(path), reads=[self.source.path], owner=self.run_folder(), what=what)
        fmt, compressed = detect_format(path)
        version = version_id or self.head()
        original = self.store.source_rows() if can_write_back(self.source.format, fmt) else None
        written = False
        if original is not None:
            try:
                write_back(original, self._output_rows(version), path, fmt, compressed)
                written = True
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
                pass  # an edit changed a Parquet column's type: write the version as pandas types it
        if not written:
            write_table(self.dataset(version).frame.reset_index(drop=True), path, fmt, compressed)
        self.store.record_export(path, version)
        return path

    def _output_rows(self, version_id: int) -> list[OutputRow]:
        final = self.store.frame(version_id).sort_values(ORD_COL)
        first = self.store.frame(1)
        changes: dict[str, dict[str, Any]] = {}
        for cell in self.changed_cells(first, final, final.index.intersection(first.index, sort=False)):
            changes.setdefault(cell.row_id, {})[cell.column] = cell.new
        for row_id, column in forgotten_edits(self.store):  # the input still holds the value: never copy it back
            if row_id in final.index:
                changes.setdefault(row_id, {})[column] = jsonable(final.at[row_id, column])
        positions = first[ORD_COL].reindex(final.index).to_numpy()  # version 1 holds the input in file order
        rows = []
        for row_id, position in zip(final.index, positions, strict=True):
            if not np.isnan(position):
                rows.append(OutputRow(position=int(position), values=changes.get(row_id, {})))
            else:  # added since version 1
                record = final.loc[row_id]
                rows.append(OutputRow(position=None, values={c: jsonable(record[c]) for c in self.data_columns}))
        return rows
