"""The Python API for notebooks: load data, run tools, look at findings as a DataFrame, approve by mask, apply,
undo and export, on the same workspace and ledger the `curate` commands use.

    from copilot import Curator

    cur = Curator("examples/support_tickets.csv", workspace="runs/nb")
    found = cur.find("dedup")                       # one row per finding, pending
    cur.apply(approve=found["score"] >= 0.9)        # the rest are rejected; one ledger decision
    cur.undo()                                      # or cur.redo(), cur.history(), cur.data, cur.export(path)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from copilot.config import Settings
from copilot.decisions import Decision, FindingDecision
from copilot.ledger import Ledger, OperationResult, default_workspace
from curation_tools.context import ToolContext
from curation_tools.errors import UserInputError
from curation_tools.io import load_dataset
from curation_tools.registry import available_tools, run_tool
from curation_tools.roles import RoleOverrides
from curation_tools.schema import Proposal

FINDING_COLUMNS = ["tool", "row_id", "issue", "score", "action", "suggested", "message"]


class Curator:
    """One dataset's curation from Python. Tools only propose: `find` returns the findings, nothing changes until
    `apply` records a decision (with who decided) in the ledger, which `undo` can revert."""

    def __init__(
        self,
        data: str | Path,
        *,
        text: str | list[str] | None = None,
        label: str | None = None,
        id: str | None = None,
        features: list[str] | None = None,
        workspace: str | Path | None = None,
        settings: Settings | None = None,
    ) -> None:
        overrides = RoleOverrides(id=id, text=[text] if isinstance(text, str) else text, label=label, features=features)
        self.source, self.role_notes = load_dataset(data, overrides)
        self.settings = settings or Settings()
        self.ledger = Ledger.open_or_create(
            Path(workspace) if workspace else default_workspace(Path(data)), self.source
        )
        self._pending: dict[str, Proposal] = {}

    # ---- looking --------------------------------------------------------------------------------------------
    @property
    def data(self) -> pd.DataFrame:
        """The current version's rows, indexed by row id."""
        return self.ledger.dataset().frame

    @property
    def tools(self) -> list[str]:
        return sorted(available_tools())

    def history(self) -> pd.DataFrame:
        """One row per decision: tool, who decided, approved, rejected, edits, status."""
        return pd.DataFrame([d.model_dump(exclude={"conflicts"}) for d in self.ledger.decisions()])

    @property
    def findings(self) -> pd.DataFrame:
        """Every pending finding (found, not yet applied), indexed by finding id."""
        rows = [self._row(p.tool, f) for p in self._pending.values() for f in p.findings]
        return pd.DataFrame(rows, columns=["finding_id", *FINDING_COLUMNS]).set_index("finding_id")

    @staticmethod
    def _row(tool: str, finding) -> dict[str, Any]:
        return {
            "finding_id": finding.finding_id,
            "tool": tool,
            "row_id": finding.row_id,
            "issue": finding.issue,
            "score": finding.score,
            "action": finding.action.type.value,
            "suggested": finding.action.new_label if finding.action.new_label is not None else finding.action.new_value,
            "message": finding.message,
        }

    # ---- finding --------------------------------------------------------------------------------------------
    def find(self, tool: str, **params: Any) -> pd.DataFrame:
        """Run one tool on the current version with these parameters; its findings become pending (replacing the
        tool's earlier pending ones) and are returned."""
        specs = available_tools()
        if tool not in specs:
            raise UserInputError(f"Unknown tool '{tool}'. Known: {', '.join(sorted(specs))}.")
        spec = specs[tool]
        ctx = ToolContext(
            cache_dir=self.settings.cache_dir,
            embedder_spec=self.settings.embedder,
            engine_spec=self.settings.engine_spec,
            workspace=self.ledger.root,
        )
        result = run_tool(spec, self.ledger.dataset(), spec.params_model(**params), ctx)
        self._pending = {k: p for k, p in self._pending.items() if p.tool != tool}
        self._pending[result.proposal.proposal_id] = result.proposal
        return self.findings[lambda frame: frame["tool"] == tool]

    # ---- deciding -------------------------------------------------------------------------------------------
    def apply(
        self, approve: pd.Series | list[str] | None = None, *, by: str = "notebook", reason: str = ""
    ) -> list[OperationResult]:
        """Decide every pending finding and apply each tool's proposal as one ledger decision. `approve`: a boolean
        Series over `findings` (a mask, e.g. `found["score"] >= 0.9`), or finding ids; None approves all. What is
        not approved is recorded as rejected."""
        pending = self.findings
        if approve is None:
            chosen = set(pending.index)
        elif isinstance(approve, pd.Series) and approve.dtype == bool:
            unknown = set(approve.index) - set(pending.index)
            if unknown:
                raise UserInputError(f"The mask names {len(unknown)} finding id(s) that are not pending.")
            chosen = set(approve.index[approve.to_numpy()])
        else:
            chosen = set(approve)
            if unknown := chosen - set(pending.index):
                raise UserInputError(f"Not pending: {', '.join(sorted(unknown)[:5])}.")
        results = []
        for proposal in list(self._pending.values()):
            decided = {
                f.finding_id: FindingDecision(
                    finding_id=f.finding_id, approve=f.finding_id in chosen, decided_by=by, reason=reason
                )
                for f in proposal.findings
            }
            results.append(
                self.ledger.apply(proposal, Decision(proposal_id=proposal.proposal_id, findings=decided, reason=reason))
            )
            del self._pending[proposal.proposal_id]
        return results

    def undo(self, decision_id: int | None = None, *, by: str = "notebook") -> OperationResult:
        return self.ledger.undo(decision_id, by=by)

    def redo(self, decision_id: int | None = None, *, by: str = "notebook") -> OperationResult:
        return self.ledger.redo(decision_id, by=by)

    def export(self, path: str | Path, version: int | None = None) -> Path:
        """Write the current (or a chosen) version; the extension picks the format."""
        return self.ledger.export(Path(path), version)
